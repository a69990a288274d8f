# fstest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += fstest
fstest_SRC := $(wildcard tests/servers/fstest/*.c)
fstest_LIBS := test
