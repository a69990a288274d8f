# ktest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ktest
ktest_SRC := $(wildcard tests/kernel/*.c)
ktest_LIBS := test
