/* The pci server's internal interfaces: configuration space, the functions found, the drivers. */
#ifndef PCI_H
#define PCI_H

#include <stdint.h>
#include <samsara/ipc.h>
#include <samsara/manifest.h>
#include <samsara/pci.h>

/* Configuration-space registers (PCI Local Bus 3.0, section 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO (1u << 0)            /* I/O space decoding */
#define PCI_COMMAND_MEM (1u << 1)           /* memory space decoding */
#define PCI_COMMAND_MASTER (1u << 2)        /* bus master enable */
#define PCI_COMMAND_INTX_DISABLE (1u << 10) /* the function may not assert INTx */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST (1u << 4)
#define PCI_CLASS_REVISION 0x08 /* class << 24 | subclass << 16 | prog-if << 8 | revision */
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19 /* a bridge's (header type 1) */
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_CFG_SIZE 256

#define PCI_DEVS_MAX 64
#define PCI_BARS 6

struct pci_bar_info {
    uint64_t base, size; /* size 0: not implemented (or the upper half of a 64-bit BAR) */
    uint32_t kind;       /* PCI_BAR_* of samsara/pci.h */
};

struct pci_dev {
    uint32_t bdf; /* bus << 8 | device << 3 | function */
    uint16_t vendor, device;
    uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
    uint8_t header;      /* header type, without the multi-function bit */
    uint8_t irq;         /* the interrupt-line register: what firmware assigned (0xff: none) */
    uint8_t nr_bars;     /* 6 for a device, 2 for a bridge, 0 otherwise */
    uint8_t sized;       /* bars[] is filled (at the first reservation) */
    struct pci_bar_info bars[PCI_BARS];
    endpoint_t owner; /* the driver that reserved it; 0: free */
    int owner_driver; /* its index in the drivers table (-1: not known) */
    uint8_t saved;    /* the reservation is in ds (saved.c) */
};

/* config.c: configuration mechanism #1 (ports 0xcf8/0xcfc), and the bus scan */
uint32_t pci_cfg_read32(uint32_t bdf, uint32_t off);
uint16_t pci_cfg_read16(uint32_t bdf, uint32_t off);
uint8_t pci_cfg_read8(uint32_t bdf, uint32_t off);
uint32_t pci_cfg_read(uint32_t bdf, uint32_t off, uint32_t width); /* width 1, 2 or 4, aligned */
void pci_cfg_write(uint32_t bdf, uint32_t off, uint32_t width, uint32_t v);
void pci_cfg_write16(uint32_t bdf, uint32_t off, uint16_t v);
void pci_cfg_write32(uint32_t bdf, uint32_t off, uint32_t v);
int pci_scan(void); /* fills the table; the number of functions found */
extern struct pci_dev pci_devs[PCI_DEVS_MAX];
extern int pci_nr_devs;
struct pci_dev *pci_dev_at(uint32_t bdf); /* 0 if no function there */

/* drivers.c: which functions each driver may have, from the manifests */
#define PCI_DRIVERS_MAX 32
struct pci_driver {
    char label[MANIFEST_LABEL_MAX];
    struct pci_id ids[MANIFEST_PCI_MAX];
    int nr_ids;
    struct manifest_pci_class classes[MANIFEST_PCI_MAX];
    int nr_classes;
    endpoint_t ep; /* rs's answer for the label when last asked; 0: not known */
};
extern struct pci_driver pci_drivers[PCI_DRIVERS_MAX];
extern int pci_nr_drivers;
void pci_drivers_load(void);                        /* from rs's manifests bundle */
int pci_driver_of(endpoint_t who);                  /* the index of the sender's label, or -1 */
int pci_driver_by_label(const char *label);         /* the index, or -1 */
int pci_names(int driver, const struct pci_dev *d); /* does its manifest name d? */

/* reserve.c: reservations and the privileges they carry, configuration access */
int pci_reserve(endpoint_t who, int driver, struct pci_dev *d); /* 0 or an error */
void pci_release(struct pci_dev *d, int take_privileges);       /* the function is free again */
int pci_cfg_write_allowed(const struct pci_dev *d, uint32_t off, uint32_t width, uint32_t value);
int pci_quiesce(const struct pci_dev *d, const char *label); /* 0 if bus master and INTx are off */
void pci_reserve_restore(struct pci_dev *d, endpoint_t owner, int driver,
                         const uint64_t size[PCI_BARS]); /* a previous instance's (saved.c) */

/* saved.c: the reservations kept in ds, across a restart of this server */
void pci_saved_put(struct pci_dev *d);  /* d's reservation, as it is now */
void pci_saved_drop(struct pci_dev *d); /* d's reservation ended */
void pci_saved_restore(void);           /* at a restart: take the live owners' back */

/* list.c: the listing (/dev/pci) */
int pci_list(char *buf, int size); /* one line per function; the length */
_Noreturn void pci_list_serve(void (*serve)(const message_t *m)); /* the loop */

#endif
