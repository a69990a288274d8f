# ramfs: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ramfs
ramfs_SRC := $(wildcard fs/ramfs/*.c)
ramfs_LIBS := fsdriver
