# rtl8139: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += rtl8139
rtl8139_SRC := $(wildcard drivers/net/rtl8139/*.c)
rtl8139_LIBS := netdriver pci
