# demotest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += demotest
demotest_SRC := $(wildcard tests/servers/demotest/*.c)
demotest_LIBS := test
