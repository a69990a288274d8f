# virtio_blk: the sources of this program and the libraries (lib/NAME) it links, for the Makefile
PROGRAMS += virtio_blk
virtio_blk_SRC := $(wildcard drivers/storage/virtio_blk/*.c)
virtio_blk_LIBS := blockdriver virtio pci
