# virtio_net: the sources of this program and the libraries (lib/NAME) it links, for the Makefile.
# It links lib/pci's client stubs of the pci server's driver requests (issue 9): until they are
# in the tree the driver is not built, and tools/suite_net.py says so.
ifneq ($(wildcard lib/pci/*.c),)
PROGRAMS += virtio_net
virtio_net_SRC := $(wildcard drivers/net/virtio_net/*.c)
virtio_net_LIBS := netdriver virtio pci
endif
