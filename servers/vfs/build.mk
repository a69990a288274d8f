# vfs: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += vfs
vfs_SRC := $(wildcard servers/vfs/*.c)
vfs_LIBS := manifest arena
