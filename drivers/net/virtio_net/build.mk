# virtio_net: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += virtio_net
virtio_net_SRC := $(wildcard drivers/net/virtio_net/*.c)
virtio_net_LIBS := netdriver virtio pci
