# mk/userland.mk: build Samsara's Linux-compatible userland and its initramfs.
#
# BusyBox (Debian's source package, fetched into third_party/ by
# tools/fetch-sources.sh) is built static against musl, out of tree in
# build/busybox/obj, so the source stays clean. Its configuration is
# BusyBox's defconfig plus the overrides in BUSYBOX_CONFIG below. Those
# overrides, the source's version and BusyBox's make arguments are written
# to build/busybox/config.want only when they change; a change there
# reconfigures BusyBox from an empty object directory, and BusyBox's own
# (incremental) make runs only after that or a change to a source file.
# Every user/NAME.c becomes a static musl program build/musl/NAME. The
# initramfs build/initramfs.cpio (newc) is staged in build/rootfs by
# tools/mkinitramfs.sh: BusyBox with one symlink per applet, the musl
# programs and EXTRA_PROGS in /bin, and a minimal /etc.
#
# Standalone: make -f mk/userland.mk [userland | build/initramfs.cpio | ...]
# Included:   include mk/userland.mk (the includer's default goal stays).
# Names are prefixed (UL_, BB_, BUSYBOX_, MUSL_, userland-) to avoid clashes.

UL_DEFAULT_GOAL := $(.DEFAULT_GOAL)

UL_B         := build
BUSYBOX_SRC  := third_party/busybox
BB_DIR       := $(UL_B)/busybox
BB_OBJ       := $(BB_DIR)/obj
# musl-gcc searches only musl's headers; BusyBox also needs the kernel's.
BB_KHDRS     := $(UL_B)/musl-kernel-headers
MUSL_CC      := musl-gcc
MUSL_CFLAGS  := -static -O2 -Wall -Wextra -Werror
UL_INITRAMFS := $(UL_B)/initramfs.cpio
# Host paths of further static programs to put in /bin (set on the command
# line or by the includer, e.g. EXTRA_PROGS="build/foo build/bar").
EXTRA_PROGS  ?=
# Samsara services to have in /bin too (e.g. for `service update`), set by the includer.
SERVICE_PROGS ?=

# Changes to BusyBox's defconfig, one .config line each ("NAME=n" turns an
# option off). No applet had to be disabled for musl: defconfig builds
# whole with Debian 12's musl 1.2.3 once the kernel headers are reachable.
define BUSYBOX_CONFIG
CONFIG_STATIC=y
CONFIG_EXTRA_CFLAGS="-isystem $(abspath $(BB_KHDRS))"
endef

# Every file of the unpacked source except Debian's packaging and quilt's
# backups; empty before the first fetch, which the .config rule triggers.
BUSYBOX_FILES := $(shell find $(BUSYBOX_SRC)/ -path '*/debian' -prune -o \
	-path '*/.pc' -prune -o -type f -print 2>/dev/null)
# An empty recipe each spares make a search of its implicit rules.
$(filter-out $(BUSYBOX_SRC)/Makefile,$(BUSYBOX_FILES)): ;
MUSL_PROGS := $(patsubst user/%.c,$(UL_B)/musl/%,$(wildcard user/*.c))
# KCONFIG_NOTIMESTAMP keeps the build date out of the binary (reproducible).
BB_ARGS = -C $(BUSYBOX_SRC) O=$(abspath $(BB_OBJ)) CC=$(MUSL_CC) KCONFIG_NOTIMESTAMP=1
BB_MAKE = $(MAKE) $(BB_ARGS)

.PHONY: userland userland-tools userland-force userland-clean
userland: $(UL_INITRAMFS)

# Installs musl-tools, cpio, ... if missing (a few ms when all are there).
userland-tools:
	@tools/fetch-sources.sh --tools-only

$(BUSYBOX_SRC)/Makefile:
	@tools/fetch-sources.sh

# Rewrite a file only when its new content ($@.tmp) differs.
UL_UPDATE = if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(BB_DIR)/config.want: export UL_BUSYBOX_CONFIG := $(BUSYBOX_CONFIG)
$(BB_DIR)/config.want: $(BUSYBOX_SRC)/Makefile userland-force
	@mkdir -p $(@D)
	@{ echo "# source: $$(readlink $(BUSYBOX_SRC)) $$(head -n 1 $(BUSYBOX_SRC)/debian/changelog)"; \
	   echo "# make: $(BB_ARGS)"; \
	   printf '%s\n' "$$UL_BUSYBOX_CONFIG"; } > $@.tmp
	@$(UL_UPDATE)

# defconfig, then each override replaces its option's line, then oldconfig
# settles the options that depend on them.
$(BB_OBJ)/.config: $(BB_DIR)/config.want | userland-tools
	@echo "BUSYBOX  configure ($(BB_DIR)/config.log)"
	@rm -rf $(BB_OBJ) && mkdir -p $(BB_OBJ)
	@{ $(BB_MAKE) defconfig && \
	   grep -v '^#' $< | while IFS= read -r line; do \
		name=$${line%%=*}; \
		sed -i -e "/^$$name=/d" -e "/^# $$name is not set/d" $(BB_OBJ)/.config; \
		case $$line in *=n) echo "# $$name is not set" ;; *) echo "$$line" ;; esac \
			>> $(BB_OBJ)/.config; \
	   done && \
	   yes '' | $(BB_MAKE) oldconfig; } > $(BB_DIR)/config.log 2>&1 || \
		{ tail -n 20 $(BB_DIR)/config.log; rm -f $@; exit 1; }

BB_KHDR_linux       := /usr/include/linux
BB_KHDR_asm-generic := /usr/include/asm-generic
BB_KHDR_asm         := /usr/include/x86_64-linux-gnu/asm
BB_KHDR_mtd         := /usr/include/mtd
BB_KHDR_LINKS := $(addprefix $(BB_KHDRS)/,linux asm-generic asm mtd)
$(BB_KHDR_LINKS):
	@mkdir -p $(@D) && ln -sfn $(BB_KHDR_$(@F)) $@

# BusyBox's own make is incremental; its output goes to build.log.
$(BB_DIR)/busybox: $(BB_OBJ)/.config $(BUSYBOX_FILES) | $(BB_KHDR_LINKS) userland-tools
	@echo "BUSYBOX  build ($(BB_DIR)/build.log)"
	@$(BB_MAKE) -j2 all busybox.links > $(BB_DIR)/build.log 2>&1 || { tail -n 30 $(BB_DIR)/build.log; exit 1; }
	@strip --strip-all -R .comment -R .note -o $@ $(BB_OBJ)/busybox_unstripped
	@echo "BUSYBOX  $@: $$(stat -c %s $@) bytes, $$(wc -l < $(BB_OBJ)/busybox.links) applets"

# busybox.links is the build's list of applet paths (/bin/sh, /sbin/init, ...).
$(BB_DIR)/applets.txt: $(BB_DIR)/busybox
	@sed 's|.*/||' $(BB_OBJ)/busybox.links | LC_ALL=C sort -u > $@

# A program's further sources are its extra prerequisites ending in .c (utest: lib/test).
$(UL_B)/musl/utest: lib/test/test.c lib/test/test.h
$(UL_B)/musl/%: user/%.c | userland-tools
	@mkdir -p $(@D)
	@echo "MUSLCC   $@"; $(MUSL_CC) $(MUSL_CFLAGS) -o $@ $< $(filter %.c,$(filter-out $<,$^))

# The archive's program list, so adding or dropping one rebuilds it.
$(UL_B)/initramfs.progs: userland-force
	@mkdir -p $(@D)
	@printf '%s\n' $(MUSL_PROGS) $(EXTRA_PROGS) > $@.tmp
	@$(UL_UPDATE)

$(UL_INITRAMFS): tools/mkinitramfs.sh $(shell find user/etc -type f 2>/dev/null) \
		$(BB_DIR)/busybox $(BB_DIR)/applets.txt \
		$(UL_B)/initramfs.progs $(MUSL_PROGS) $(EXTRA_PROGS) $(SERVICE_PROGS) | userland-tools
	@echo "CPIO     $@"
	@tools/mkinitramfs.sh $@ $(UL_B)/rootfs $(BB_DIR)/busybox $(BB_DIR)/applets.txt \
		$(MUSL_PROGS) $(EXTRA_PROGS) $(SERVICE_PROGS)

userland-clean:
	rm -rf $(BB_DIR) $(BB_KHDRS) $(UL_B)/musl $(UL_B)/rootfs $(UL_INITRAMFS) $(UL_B)/initramfs.progs

# Run alone, build everything; included, leave the includer's default goal.
ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),userland.mk)
.DEFAULT_GOAL := userland
else
.DEFAULT_GOAL := $(UL_DEFAULT_GOAL)
endif
