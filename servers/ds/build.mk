# ds: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ds
ds_SRC := $(wildcard servers/ds/*.c)
