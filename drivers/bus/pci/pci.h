/* The pci server's internal interfaces: configuration space and the devices found. */
#ifndef PCI_H
#define PCI_H

#include <stdint.h>

/* Configuration-space registers (PCI Local Bus 3.0, section 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER (1u << 2)        /* bus master enable */
#define PCI_COMMAND_INTX_DISABLE (1u << 10) /* the function may not assert INTx */
#define PCI_HEADER_TYPE 0x0e
#define PCI_SECONDARY_BUS 0x19 /* a bridge's (header type 1) */

#define PCI_DEVS_MAX 64

struct pci_dev {
    uint32_t bdf; /* bus << 8 | device << 3 | function */
    uint16_t vendor, device;
};

/* config.c: configuration mechanism #1 (ports 0xcf8/0xcfc), and the bus scan */
uint32_t pci_cfg_read32(uint32_t bdf, uint32_t off);
uint16_t pci_cfg_read16(uint32_t bdf, uint32_t off);
uint8_t pci_cfg_read8(uint32_t bdf, uint32_t off);
void pci_cfg_write16(uint32_t bdf, uint32_t off, uint16_t v);
int pci_scan(void); /* fills the table; the number of functions found */
extern struct pci_dev pci_devs[PCI_DEVS_MAX];
extern int pci_nr_devs;

#endif
