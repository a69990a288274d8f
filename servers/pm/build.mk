# pm: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += pm
pm_SRC := $(wildcard servers/pm/*.c)
