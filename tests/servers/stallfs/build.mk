# stallfs: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += stallfs
stallfs_SRC := $(wildcard tests/servers/stallfs/*.c)
stallfs_LIBS := fsdriver
