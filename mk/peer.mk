# mk/peer.mk: the Linux peer guest of `make bench-net` (docs/BENCH-NET.md). Nothing here is
# part of `make all`: only bench-net and the test that needs it (tools/suite_linuxpeer.py runs
# `make peer`) fetch Debian's kernel package (tools/fetch-linux.sh, into third_party/linux).
# build/peer/initramfs.cpio holds Samsara's BusyBox, peertool, the NIC modules of the
# unpacked kernel and tools/peer/init (tools/linuxpeer.py packs it).

PEER_B := $(B)/peer
PEER_INITRAMFS := $(PEER_B)/initramfs.cpio

.PHONY: peer peer-force bench-net
peer: deps $(PEER_INITRAMFS)

$(PEER_B)/peertool: tools/peer/peertool.c | userland-tools
	@mkdir -p $(@D)
	@echo "MUSLCC   $@"; $(MUSL_CC) $(MUSL_CFLAGS) -o $@ $<

# The unpacked kernel's directory name: fetched if missing, rewritten only when it changes.
$(PEER_B)/linux.version: peer-force
	@tools/fetch-linux.sh
	@mkdir -p $(@D)
	@readlink third_party/linux > $@.tmp
	@$(UL_UPDATE)

$(PEER_INITRAMFS): tools/linuxpeer.py tools/peer/init $(PEER_B)/peertool $(PEER_B)/linux.version \
		$(BB_DIR)/busybox $(BB_DIR)/applets.txt
	@echo "CPIO     $@"; python3 tools/linuxpeer.py initramfs $@

# NIC=virtio|e1000|rtl8139|all, SIZE=MiB (512; 64 for a quick run), RUNS=downloads per NIC,
# CHECK=sha256|sha256-only|compare (how the download is checked: tools/bench_net.py --help).
# Only the Linux baseline so far: the Samsara client joins when its TCP sockets work
# (tools/bench_net.py, samsara_client()); it will also need `all` and build/initramfs.cpio.
bench-net: peer
	@python3 tools/bench_net.py $(if $(NIC),--nic $(NIC)) $(if $(SIZE),--size $(SIZE)) \
		$(if $(RUNS),--runs $(RUNS)) $(if $(CHECK),--check $(CHECK))
