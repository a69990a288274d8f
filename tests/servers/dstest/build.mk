# dstest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += dstest
dstest_SRC := $(wildcard tests/servers/dstest/*.c)
dstest_LIBS := test
