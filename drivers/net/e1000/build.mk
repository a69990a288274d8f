# e1000: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += e1000
e1000_SRC := $(wildcard drivers/net/e1000/*.c)
e1000_LIBS := netdriver pci
