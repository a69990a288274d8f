# pci: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += pci
pci_SRC := $(wildcard drivers/bus/pci/*.c)
pci_LIBS := chardriver manifest
