# Samsara: build, run, test, debug and measure with one command each.
#   make run     build and boot in QEMU (serial console on this terminal)
#   make test    every test; the last line is "N passed, N failed"
#   make bench   Samsara against Linux 6.1 (system calls, bulk work), IPC, boot time (docs/PERFORMANCE.md)
#   make bench-net  the wget experiment against a Linux guest (docs/BENCH-NET.md)
#   make bench-disk ext2 throughput and disk-driver kills against a Linux guest (docs/BENCH-DISK.md)
#   make bench-fork fork+exit and fork+exec by process size against a Linux guest (docs/BENCH-FORK.md)
#   make bench-kill each network and disk driver killed KILLS (1000) times at random instants under a
#                self-checking load; make bench-heartbeat: DURATION (3600) s of full load, rs's
#                heartbeat kills counted (docs/REINCARNATION.md, "Drivers killed at any instant")
#   make peer-tests BusyBox's own testsuite on Samsara and on a Linux guest (docs/PEER-TESTS.md);
#                SUITE=tcl: Tcl's (Debian's tcl8.6, built static with musl: make tcl)
#   make gdb     boot halted, attach gdb with symbols
#   make iso     build/samsara.iso, a GRUB 2 BIOS CD of make run's system, root on ramfs unless ROOT
#                is given: it boots alone (qemu-system-x86_64 -cdrom build/samsara.iso -nographic)
#   make loc     kernel size against its 4,000-line budget

B := build
CC := gcc
ARCH_FLAGS := -m64 -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mcmodel=kernel
WARN := -Wall -Wextra -Werror
KCFLAGS := $(WARN) -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -fno-builtin -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Ikernel $(ARCH_FLAGS)
# System programs use no floating point, and -mgeneral-regs-only keeps the compiler from using
# SSE registers for copies: a process that never touches the FPU never takes the kernel's lazy
# FPU trap (#NM) after a switch, which under TCG cost more than the copies it sped up
# (docs/BENCH-NET.md). ktest's FPU test is built with SSE (tests/kernel/build.mk).
UCFLAGS := $(WARN) -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-builtin \
	-mgeneral-regs-only -nostdinc -isystem $(shell $(CC) -print-file-name=include) -Iinclude \
	-Ilib/sys -Ilib
ULDFLAGS := -nostdlib -static -no-pie -Wl,-T,lib/sys/user.ld -Wl,--build-id=none

KSRC := $(wildcard kernel/*.c kernel/arch/x86_64/*.c) lib/format/format.c lib/elf/elf.c lib/mem/mem.c
KASM := $(wildcard kernel/arch/x86_64/*.S)
KOBJ := $(patsubst %,$(B)/k/%.o,$(KSRC) $(KASM))
LIBSYS_SRC := $(wildcard lib/sys/*.c) lib/format/format.c lib/elf/elf.c lib/mem/mem.c lib/sys/crt0.S
LIBSYS_OBJ := $(patsubst %,$(B)/u/%.o,$(LIBSYS_SRC))
# lwIP (build/liblwip.a) first: inet's build.mk names its variables.
include mk/lwip.mk
# Programs: each has a fragment build.mk beside its sources that adds its name
# to PROGRAMS and sets NAME_SRC (its sources) and NAME_LIBS (libraries it
# links: each is lib/LIB/*.c, compiled into the program), and may set NAME_ARCHIVES
# (static libraries built elsewhere, e.g. build/liblwip.a from mk/lwip.mk).
PROGRAMS :=
include $(sort $(shell find servers drivers fs net tests -name build.mk 2>/dev/null))

QEMU := qemu-system-x86_64
ACCEL ?= tcg
# Knobs for make run, make test and make bench (the harness reads them from the environment):
# MEM (guest memory) and QEMU_EXTRA (flags appended to QEMU's command line, e.g. -icount shift=0).
MEM ?= 512M
QEMU_EXTRA ?=
export MEM QEMU_EXTRA
# NIC=virtio-modern|virtio|e1000|rtl8139|none: make run's network card, on QEMU's user networking, and its
# driver in the boot (tools/qemu.py; default virtio-modern, the virtio 1.x transport; virtio: legacy).
# The test harness names its cards itself. IOMMU=on|off: make run behind q35's intel-iommu (default on:
# every device's DMA fenced, modern virtio devices with iommu_platform=on; docs/IOMMU.md).
NIC ?=
IOMMU ?=
export NIC IOMMU
# ROOT=ramfs|ext2: the root file system (default: tools/qemu.py's ROOT_DEFAULT). DISK=IMAGE: a raw
# disk image (with ROOT=ext2 the root, default build/disk.img, which `make` builds; with
# ROOT=ramfs, if given, mounted on /mnt by the ext2 server) on DISKIF=virtio-modern|virtio|ahci (virtio-blk,
# default on the virtio 1.x transport, or q35's AHCI controller), its driver and the ext2 server in the boot; with ROOT=ext2 tmpfs is on
# /tmp (docs/FILESYSTEMS.md; tools/qemu.py: root_setup).
ROOT ?=
DISK_IMAGE := $(B)/disk.img
DISK ?=
DISKIF ?=
export ROOT DISK DISKIF
# (RUN_FLAGS, QEMU_FLAGS, SYSTEM_MODULES, ISO_FLAGS are expanded only where a recipe uses them: make bench-disk
# DISKIF=all is no disk interface for make run.)
# $(shell) does not see variables given on make's command line (GNU make before 4.4): pass them.
RUN_ENV := NIC='$(NIC)' ROOT='$(ROOT)' DISK='$(DISK)' DISKIF='$(DISKIF)' IOMMU='$(IOMMU)'
RUN_FLAGS = $(shell $(RUN_ENV) python3 tools/qemu.py --run-flags)
QEMU_MACHINE := -machine q35 -accel $(ACCEL) -m $(MEM) -no-reboot \
	-device isa-debug-exit,iobase=0x501,iosize=1
QEMU_FLAGS = $(QEMU_MACHINE) $(RUN_FLAGS)
# The system: root, then the services in start order, then the initramfs (a data module);
# the list lives in tools/qemu.py. WITH="demo" adds test services (after pm) to make run's boot.
WITH ?=
SYSTEM_MODULES = $(shell $(RUN_ENV) python3 tools/qemu.py --system-modules $(WITH))
RUN_MODULES ?= $(SYSTEM_MODULES)
# make iso: the kernel and the same modules (NIC, WITH) with the same arguments on a GRUB 2 BIOS
# CD; grub.cfg comes from tools/qemu.py too, rewritten only when it changes (docs/BOOT.md).
ISO_IMAGE := $(B)/samsara.iso
comma := ,
# Its root is ramfs unless ROOT is given (tools/qemu.py: ISO_ROOT_DEFAULT): it boots alone.
ISO_MODULES := $(shell $(RUN_ENV) python3 tools/qemu.py --iso-modules $(WITH))
ISO_FLAGS = $(QEMU_MACHINE) $(shell $(RUN_ENV) python3 tools/qemu.py --run-flags iso)
ISO_FILES := $(B)/kernel32.elf $(filter $(abspath $(B))/%,$(subst $(comma), ,$(ISO_MODULES)))
ISO_EPOCH := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)

.PHONY: all run run-iso iso test bench gdb loc clean deps format host-tests FORCE

SERVICE_PROGS := $(B)/demo
include mk/userland.mk
include mk/peer.mk
include mk/tcl.mk
all: $(B)/kernel32.elf $(addprefix $(B)/,$(PROGRAMS)) $(B)/manifests $(DISK_IMAGE)

# The disk image for ROOT=ext2 (docs/FILESYSTEMS.md): the initramfs's staged files (build/rootfs,
# tools/mkinitramfs.sh: one list for both) in an ext2 file system of DISK_MIB MiB, made by mke2fs
# on the host; remade when the initramfs is (its inputs changed), which loses what a boot wrote.
DISK_MIB := 128
$(DISK_IMAGE): tools/mkdisk.sh $(B)/initramfs.cpio
	@echo MKE2FS $@; tools/mkdisk.sh $@ $(B)/rootfs $(DISK_MIB)

deps:
	@tools/deps.sh

# build/k/FILE.o from FILE (.c or .S) with the kernel's flags, build/u/FILE.o with user space's
$(B)/k/%.o: %
	@mkdir -p $(dir $@)
	@echo CC $<; $(CC) $(KCFLAGS) -MMD -c $< -o $@
$(B)/u/%.o: %
	@mkdir -p $(dir $@)
	@echo CC $<; $(CC) $(UCFLAGS) -MMD -c $< -o $@

$(B)/kernel.elf: $(KOBJ) kernel/arch/x86_64/kernel.ld
	@echo LD $@; ld -n -nostdlib -z max-page-size=4096 --no-warn-rwx-segments -T kernel/arch/x86_64/kernel.ld -o $@ $(KOBJ)

# QEMU's Multiboot loader refuses ELF64; it loads by physical address, so a
# 32-bit copy of the same image boots and then enters long mode itself.
$(B)/kernel32.elf: $(B)/kernel.elf
	@echo OBJCOPY $@; objcopy -O elf32-i386 $< $@

$(B)/libsys.a: $(LIBSYS_OBJ)
	@echo AR $@; rm -f $@ && ar rcs $@ $^

# pm names unimplemented Linux calls from a table generated from the host's headers
$(B)/gen/syscall_names.h: tools/gen-syscall-names.sh
	@mkdir -p $(dir $@)
	@tools/gen-syscall-names.sh > $@
$(B)/u/servers/pm/main.c.o: $(B)/gen/syscall_names.h
$(B)/u/servers/pm/%.o: UCFLAGS += -I$(B)/gen

define program_rule
$(1)_OBJ := $$(patsubst %,$(B)/u/%.o,$$($(1)_SRC) $$(foreach l,$$($(1)_LIBS),$$(wildcard lib/$$(l)/*.c)))
$(B)/$(1): $$($(1)_OBJ) $$($(1)_ARCHIVES) $(B)/libsys.a lib/sys/user.ld
	@echo LD $$@; $(CC) $(ULDFLAGS) -o $$@ $(B)/u/lib/sys/crt0.S.o $$(filter %.o,$$^) $$($(1)_ARCHIVES) $(B)/libsys.a -lgcc
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

ifeq ($(ISO),)
run: deps all $(B)/initramfs.cpio
	$(QEMU) $(QEMU_FLAGS) -nographic -kernel $(B)/kernel32.elf -initrd "$(RUN_MODULES)" $(QEMU_EXTRA)
else
run: run-iso
endif

iso: deps $(ISO_IMAGE)
run-iso: deps $(ISO_IMAGE)
	$(QEMU) $(ISO_FLAGS) -nographic -cdrom $(ISO_IMAGE) -boot order=d $(QEMU_EXTRA)
$(B)/grub.cfg: FORCE
	@mkdir -p $(dir $@)
	@python3 tools/qemu.py --grub-cfg $(WITH) > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi
$(ISO_IMAGE): tools/mkiso.sh $(B)/grub.cfg $(ISO_FILES)
	@echo ISO $@; SOURCE_DATE_EPOCH=$(ISO_EPOCH) tools/mkiso.sh $@ $(B)/grub.cfg $(ISO_FILES)

gdb: deps all
	$(QEMU) $(QEMU_FLAGS) -display none -serial file:$(B)/gdb-serial.log -s -S \
		-kernel $(B)/kernel32.elf -initrd "$(RUN_MODULES)" $(QEMU_EXTRA) & \
	gdb -q $(B)/kernel.elf -ex 'target remote :1234' -ex 'break kmain' -ex continue; \
	kill %1 2>/dev/null || true

HOST_TESTS := $(patsubst tests/host/%.c,$(B)/host/%,$(wildcard tests/host/test_*.c))
host-tests: $(HOST_TESTS)
$(B)/host/test_format: tests/host/test_format.c lib/format/format.c lib/format/format.h
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -Wno-format-truncation -O1 -g -fsanitize=address,undefined -o $@ tests/host/test_format.c lib/format/format.c
$(B)/host/test_elf: tests/host/test_elf.c lib/elf/elf.c lib/elf/elf.h include/samsara/elf64.h
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -O1 -g -fsanitize=address,undefined -Iinclude -Ilib -o $@ tests/host/test_elf.c lib/elf/elf.c
$(B)/host/test_manifest: tests/host/test_manifest.c lib/manifest/manifest.c lib/manifest/manifest.h \
		include/samsara/manifest.h include/samsara/priv.h include/samsara/kcall.h
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -O1 -g -fsanitize=address,undefined -Iinclude -o $@ tests/host/test_manifest.c lib/manifest/manifest.c
$(B)/host/test_ata: tests/host/test_ata.c drivers/storage/ahci/ata.c drivers/storage/ahci/ata.h \
		tests/host/check.h include/samsara/errno.h
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -O1 -g -fsanitize=address,undefined -Iinclude -o $@ tests/host/test_ata.c drivers/storage/ahci/ata.c

# The ext2 file system's code on the host, against images made by mke2fs (docs/EXT2.md); a small
# cache (64 buffers) so that eviction and write-back run all the time.
$(B)/host/test_ext2: tests/host/test_ext2.c tests/host/check.h $(EXT2_CORE) $(wildcard fs/ext2/*.h)
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -O1 -g -fsanitize=address,undefined -DEXT2_HOST -DEXT2_NBUF=64 \
		-Iinclude -Ifs/ext2 -o $@ tests/host/test_ext2.c $(EXT2_CORE)

$(B)/host/test_blockdriver: tests/host/test_blockdriver.c lib/blockdriver/range.c \
		lib/blockdriver/partition.h tests/host/check.h include/samsara/bdev.h
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -O1 -g -fsanitize=address,undefined -Iinclude -o $@ tests/host/test_blockdriver.c lib/blockdriver/range.c

# Tests of headers alone (test_msgtypes, test_kcall: it reads lib/sys/sys.h when it runs)
$(B)/host/test_%: tests/host/test_%.c tests/host/check.h $(wildcard include/samsara/*.h)
	@mkdir -p $(dir $@)
	@echo HOSTCC $@; $(CC) $(WARN) -O1 -g -fsanitize=address,undefined -Iinclude -o $@ $<

# Every service manifest, packed into one boot data module for rs (docs/MANIFESTS.md).
MANIFESTS := $(shell find servers fs drivers net tests -name '*.conf' | sort)
$(B)/manifests: tools/pack-manifests.sh $(MANIFESTS)
	@mkdir -p $(dir $@)
	@echo PACK $@; tools/pack-manifests.sh $@ $(MANIFESTS)

test: deps all $(B)/initramfs.cpio $(ISO_IMAGE)
	@# ONLY=host,boot,panics,ktest,system,rs,... runs just those parts (tools/test.py)
	@python3 tools/test.py

# make bench (docs/PERFORMANCE.md): Samsara and Debian's Linux 6.1 side by side, the same static
# programs in the same QEMU, in guest instructions and wall time; then kbench, boot time, driver
# recovery; then every restartable service's recovery (KILLS=N kills each, 10). ONLY=syscalls,
# bulk,kernel,services runs just those parts; ROUNDS=N wall-time boots per system (2). Raw results:
# build/bench/bench.json (`tools/bench.py --from FILE --markdown`: the table).
bench: deps all $(B)/initramfs.cpio $(if $(filter-out kernel services,$(subst $(comma), ,$(or $(ONLY),all))),peer)
	@python3 tools/bench.py $(if $(ONLY),--only $(ONLY)) $(if $(ROUNDS),--rounds $(ROUNDS))

# make bench-kill (tools/drvkill.py): DRIVERS (all five) KILLS times each, two QEMUs at once;
# ICOUNT=1: the guest's clock in instructions. make bench-heartbeat (tools/heartbeat_bench.py).
.PHONY: bench-kill bench-heartbeat
bench-kill: deps all $(B)/initramfs.cpio
	@python3 tools/drvkill.py --kills $(or $(KILLS),1000) $(if $(ICOUNT),--icount) $(DRIVERS)

bench-heartbeat: deps all $(B)/initramfs.cpio
	@python3 tools/heartbeat_bench.py --duration $(or $(DURATION),3600)

loc:
	@tools/loc.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B)/k $(B)/u -name '*.d' 2>/dev/null)
