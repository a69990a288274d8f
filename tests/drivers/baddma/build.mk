# baddma: a malicious driver that programs its device to DMA into the kernel (tools/suite_iommu.py)
PROGRAMS += baddma
baddma_SRC := $(wildcard tests/drivers/baddma/*.c)
baddma_LIBS := pci
