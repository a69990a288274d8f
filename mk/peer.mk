# mk/peer.mk: the Linux peer guest of `make bench-net` (docs/BENCH-NET.md). Nothing here is
# part of `make all`: only bench-net and the test that needs it (tools/suite_linuxpeer.py runs
# `make peer`) fetch Debian's kernel package (tools/fetch-linux.sh, into third_party/linux).
# build/peer/initramfs.cpio holds Samsara's BusyBox, peertool, the NIC modules of the
# unpacked kernel and tools/peer/init (tools/linuxpeer.py packs it).
# build/peer/samsara/initramfs.cpio is Samsara's own initramfs plus peertool and
# tools/peer/bench-get (the Samsara client's download and killer), kept apart from
# build/initramfs.cpio so that the tests' archive stays the same.

PEER_B := $(B)/peer
PEER_INITRAMFS := $(PEER_B)/initramfs.cpio
PEER_SAMSARA := $(PEER_B)/samsara/initramfs.cpio
PEER_SAMSARA_PROGS := $(MUSL_PROGS) $(PEER_B)/peertool tools/peer/bench-get tools/peer/bench-disk

.PHONY: peer peer-force bench-net bench-disk bench-fork peer-tests
peer: deps $(PEER_INITRAMFS) $(PEER_SAMSARA)

$(PEER_B)/peertool: tools/peer/peertool.c | userland-tools
	@mkdir -p $(@D)
	@echo "MUSLCC   $@"; $(MUSL_CC) $(MUSL_CFLAGS) -o $@ $<

# The unpacked kernel's directory name: fetched if missing, rewritten only when it changes.
$(PEER_B)/linux.version: peer-force
	@tools/fetch-linux.sh
	@mkdir -p $(@D)
	@readlink third_party/linux > $@.tmp
	@$(UL_UPDATE)

$(PEER_INITRAMFS): tools/linuxpeer.py tools/peer/init tools/peer/bench-disk $(PEER_B)/peertool $(PEER_B)/linux.version \
		$(BB_DIR)/busybox $(BB_DIR)/applets.txt
	@echo "CPIO     $@"; python3 tools/linuxpeer.py initramfs $@

$(PEER_SAMSARA): tools/mkinitramfs.sh $(shell find user/etc -type f 2>/dev/null) \
		$(BB_DIR)/busybox $(BB_DIR)/applets.txt $(PEER_SAMSARA_PROGS) | userland-tools
	@mkdir -p $(@D)
	@echo "CPIO     $@"; tools/mkinitramfs.sh $@ $(@D)/rootfs $(BB_DIR)/busybox \
		$(BB_DIR)/applets.txt $(PEER_SAMSARA_PROGS)

# NIC=virtio|e1000|rtl8139|all, SIZE=MiB (512; 64 for a quick run), RUNS=downloads per NIC,
# CHECK=sha256|sha256-only|compare (how the download is checked: tools/bench_net.py --help).
# INTERVALS=1,2,4,8,15,0 (seconds between kills of Samsara's driver; 0: none), ROUNDS=N
# (Samsara's downloads per interval, interleaved; the table shows medians).
# The Linux client's baseline, then the Samsara client on the same link; a PNG plot.
bench-net: peer all
	@tools/deps.sh --plot
	@python3 tools/bench_net.py $(if $(NIC),--nic $(NIC)) $(if $(SIZE),--size $(SIZE)) \
		$(if $(RUNS),--runs $(RUNS)) $(if $(CHECK),--check $(CHECK)) \
		$(if $(INTERVALS),--intervals $(INTERVALS)) $(if $(ROUNDS),--rounds $(ROUNDS))

# The disk experiment (docs/BENCH-DISK.md): DISKIF=virtio|ahci|all, SIZE=MiB (256; 64 for a quick
# run), FILES=small files (10000), INTERVALS=0,1 (seconds between kills of Samsara's disk driver;
# 0: none), ROUNDS=N (boots per system and interval, interleaved; the table shows medians).
# Debian's Linux on the same image and interface first, then Samsara; e2fsck and every byte
# checked on the host after each boot; a PNG plot.
bench-disk: peer all
	@tools/deps.sh --plot
	@python3 tools/bench_disk.py $(if $(DISKIF),--diskif $(DISKIF)) \
		$(if $(SIZE),--size $(SIZE)) $(if $(FILES),--files $(FILES)) \
		$(if $(INTERVALS),--intervals $(INTERVALS)) $(if $(ROUNDS),--rounds $(ROUNDS))

# fork+exit+wait and fork+exec+wait as the process grows (docs/BENCH-FORK.md): user/ubench.c's
# `ubench fork` on Samsara and on Debian's Linux in the same QEMU. SIZES=0,4,16,64 (MiB touched),
# ROUNDS=N (boots per system, interleaved; the table shows the median of their medians), ICOUNT=1
# (-icount shift=0: guest instructions, the same whatever the host's load).
bench-fork: peer all
	@python3 tools/bench_fork.py $(if $(SIZES),--sizes $(SIZES)) $(if $(ROUNDS),--rounds $(ROUNDS)) \
		$(if $(ICOUNT),--icount)

# BusyBox's own testsuite (docs/PEER-TESTS.md), unmodified, on Debian's Linux and on Samsara with
# the same BusyBox binary and the same QEMU configuration, from an ext2 image mounted at /mnt.
# GROUPS=a,b (runtest's groups: applet names; default every group runtest would run), TIMEOUT=
# seconds per group in the guest (600). Prints passed/failed/skipped per system, the tests that
# pass on one and not on the other, seconds per group; build/peer/peer-tests.json.
# SUITE=tcl: Tcl's test suite the same way (mk/tcl.mk; build/peer/peer-tests-tcl.json), its
# groups the tests/*.test files. LINUX_FROM=JSON / SAMSARA_FROM=JSON: that system's results from
# an earlier run's report instead of a boot. TCL_USER=user: Tcl's tests as that user, not root.
peer-tests: peer all $(if $(filter tcl,$(SUITE)),tcl)
	@python3 tools/peer_tests.py $(if $(SUITE),--suite $(SUITE)) $(if $(GROUPS),--groups $(GROUPS)) \
		$(if $(LINUX_FROM),--linux-from $(LINUX_FROM)) \
		$(if $(SAMSARA_FROM),--samsara-from $(SAMSARA_FROM)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
		$(if $(TCL_USER),--user $(TCL_USER))
