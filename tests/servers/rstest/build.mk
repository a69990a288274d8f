# rstest: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += rstest
rstest_SRC := $(wildcard tests/servers/rstest/*.c)
rstest_LIBS := test
