# tty: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += tty
tty_SRC := $(wildcard drivers/tty/*.c)
tty_LIBS := chardriver
