# ipc: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += ipc
ipc_SRC := $(wildcard servers/ipc/*.c)
ipc_LIBS := arena
