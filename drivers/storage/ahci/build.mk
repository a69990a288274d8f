# ahci: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ahci
ahci_SRC := $(wildcard drivers/storage/ahci/*.c)
ahci_LIBS := blockdriver pci
