# mk/tcl.mk: Tcl, the second third-party test suite of `make peer-tests` (SUITE=tcl,
# docs/PEER-TESTS.md). Nothing here is part of `make all`: `make tcl` (which peer-tests and
# tools/suite_peertests.py ask for) fetches Debian's source package `tcl8.6` into the
# git-ignored third_party/tcl8.6 (tools/fetch-sources.sh tcl) and builds, out of tree in
# build/tcl/obj, Tcl's own test interpreter `tcltest` (tclsh plus the C test commands its
# tests/*.test files need) static with musl: build/tcl/tcltest, stripped. Tcl's configure
# is given what a static musl binary needs and nothing else: no shared library, no `load`,
# no threads (tests constrained on `thread` are skipped, on both systems); zlib is Tcl's own
# compat/zlib (musl-gcc sees no host zlib.h). The tests run from the source tree's
# tests/ with its library/ as TCL_LIBRARY (tools/peer_tests.py puts both on the image).

TCL_SRC := third_party/tcl8.6
TCL_DIR := $(B)/tcl
TCL_OBJ := $(TCL_DIR)/obj
TCL_CONFIGURE := --disable-shared --disable-threads --disable-load --enable-64bit
# Every C file and header of the source (empty before the first fetch).
TCL_FILES := $(shell find $(TCL_SRC)/generic $(TCL_SRC)/unix $(TCL_SRC)/libtommath \
	$(TCL_SRC)/compat -name '*.[ch]' 2>/dev/null)
$(TCL_FILES): ;

.PHONY: tcl
tcl: $(TCL_DIR)/tcltest

$(TCL_SRC)/unix/configure:
	@tools/fetch-sources.sh tcl

$(TCL_OBJ)/Makefile: $(TCL_SRC)/unix/configure mk/tcl.mk | userland-tools
	@echo "TCL      configure ($(TCL_DIR)/config.log)"
	@rm -rf $(TCL_OBJ) && mkdir -p $(TCL_OBJ)
	@cd $(TCL_OBJ) && CC=$(MUSL_CC) LDFLAGS=-static $(abspath $(TCL_SRC))/unix/configure \
		$(TCL_CONFIGURE) > ../config.log 2>&1 || { tail -n 20 ../config.log; exit 1; }

$(TCL_DIR)/tcltest: $(TCL_OBJ)/Makefile $(TCL_FILES)
	@echo "TCL      $(TCL_OBJ)/tcltest ($(TCL_DIR)/build.log)"
	@$(MAKE) -C $(TCL_OBJ) -j2 tcltest > $(TCL_DIR)/build.log 2>&1 || \
		{ tail -n 30 $(TCL_DIR)/build.log; exit 1; }
	@strip --strip-all -R .comment -R .note -o $@ $(TCL_OBJ)/tcltest
	@echo "TCL      $@: $$(stat -c %s $@) bytes"
