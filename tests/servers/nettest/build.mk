# nettest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += nettest
nettest_SRC := $(wildcard tests/servers/nettest/*.c)
nettest_LIBS := test
