/*
 * Client stubs of the pci server's driver requests (samsara/pci.h): what a
 * PCI device driver links (`NAME_LIBS := pci` in its build.mk). Each call is
 * a bounded sendrec to the server named "pci"; results are 0 or a value, or
 * a negative samsara/errno.h code (E_SRCH, E_PERM, E_BUSY, E_INVAL, and
 * E_TIMEDOUT or E_DEADEP if the server does not answer).
 */
#ifndef LIB_PCI_H
#define LIB_PCI_H

#include <stdint.h>
#include <samsara/pci.h>
#include <samsara/ipc.h>

struct pci_dev {
    uint32_t bdf;
    uint16_t vendor, device;
    uint32_t class_code;
    uint32_t irq;
};

int pci_find(uint64_t index, struct pci_dev *out); /* the index-th function the manifest names */
int pci_reserve(uint32_t bdf);                     /* and get its BARs and IRQ as privileges */
int pci_release(uint32_t bdf);
int pci_bar(uint32_t bdf, int bar, uint64_t *base, uint64_t *size, uint32_t *kind);
int64_t pci_cfg_read(uint32_t bdf, uint32_t offset, uint32_t width); /* the value, or < 0 */
int pci_cfg_write(uint32_t bdf, uint32_t offset, uint32_t width, uint32_t value);

/* What a driver of one device does first: the first function its manifest names, reserved,
 * and one BAR of it, which must be of `kind` (PCI_BAR_IO or PCI_BAR_MEM) and at least
 * min_size bytes (E_INVAL otherwise); info NULL: no BAR is read (a driver that looks at the
 * device's ids first, as lib/virtio does). 0 or an error. */
struct pci_bar_info {
    uint64_t base, size;
    uint32_t kind;
};
int pci_take_first(struct pci_dev *out, int bar, uint32_t kind, uint64_t min_size,
                   struct pci_bar_info *info); /* E_NODEV: the pci server knows of none */
/* A driver's device, in the safe order of a start (docs/NET.md): bus mastering and INTx on (on 1:
 * after its rings are programmed) or off (on 0: before its reset), and the decode bits
 * (PCI_CMD_IO, PCI_CMD_MEM) on either way. The command register is read, only those bits
 * change, and it is written back (the pci server refuses changes to any other bit). */
int pci_set_master(uint32_t bdf, uint32_t decode, int on);

/* Configuration-space offsets and command bits drivers use. */
#define PCI_CFG_COMMAND 0x04
#define PCI_CMD_IO 0x1
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_CMD_INTX_DISABLE 0x400
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_CAP_PTR 0x34

#endif
