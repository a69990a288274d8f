# badbar: a malicious PCI driver that reaches past its BAR (tests/drivers/badbar, tools/suite_baddrv.py)
PROGRAMS += badbar
badbar_SRC := $(wildcard tests/drivers/badbar/*.c)
badbar_LIBS := pci
