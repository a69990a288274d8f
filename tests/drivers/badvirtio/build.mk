# badvirtio: a malicious virtio-blk driver that aims its device's DMA at the kernel (tools/suite_iommu.py)
PROGRAMS += badvirtio
badvirtio_SRC := $(wildcard tests/drivers/badvirtio/*.c)
badvirtio_LIBS := virtio pci
