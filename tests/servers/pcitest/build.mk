# pcitest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += pcitest
pcitest_SRC := $(wildcard tests/servers/pcitest/*.c)
pcitest_LIBS := test pci
