# kbench: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += kbench
kbench_SRC := $(wildcard tests/bench/*.c)
