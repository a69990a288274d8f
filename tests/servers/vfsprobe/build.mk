# vfsprobe: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += vfsprobe
vfsprobe_SRC := $(wildcard tests/servers/vfsprobe/*.c)
