# blocktest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += blocktest
blocktest_SRC := $(wildcard tests/servers/blocktest/*.c)
blocktest_LIBS := test bdev
