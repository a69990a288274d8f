# root: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += root
root_SRC := $(wildcard servers/root/*.c)
root_LIBS := manifest
