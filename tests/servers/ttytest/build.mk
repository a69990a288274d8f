# ttytest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ttytest
ttytest_SRC := $(wildcard tests/servers/ttytest/*.c)
ttytest_LIBS := test
