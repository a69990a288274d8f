# pmtest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += pmtest
pmtest_SRC := $(wildcard tests/servers/pmtest/*.c)
pmtest_LIBS := test
