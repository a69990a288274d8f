/*
 * Message bodies of the PCI protocol: the pci server (samsara/pci.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_pci, reached as m.u.pci.NAME.
 */
#ifndef SAMSARA_MSG_PCI_H
#define SAMSARA_MSG_PCI_H

#include <stdint.h>
#include <samsara/msg/reply.h>

#define PCI_QUIESCE_IDS 8 /* ids in one PCI_QUIESCE: a manifest's `pci` lines (at most 8) */

struct pci_id {
    uint16_t vendor, device;
};

struct msg_pci_quiesce {
    int32_t driver;  /* the dead driver's endpoint */
    uint16_t nr_ids; /* <= PCI_QUIESCE_IDS */
    uint16_t unused;
    struct pci_id ids[PCI_QUIESCE_IDS]; /* its manifest's `pci` lines */
    char label[16];                     /* its label, NUL-terminated, for the log lines */
};

struct msg_pci_quiesce_reply {
    int64_t result;    /* 0, or an error for the request */
    uint32_t quiesced; /* functions whose command register was written */
    uint32_t failed;   /* of those, read back with bus mastering or INTx still on */
};

struct msg_pci_find {
    uint64_t index; /* 0, 1, ...: the caller's manifest's functions in bus order */
};

struct msg_pci_find_reply {
    int64_t result;
    uint32_t bdf;
    struct pci_id id;
    uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
    uint32_t irq;        /* the IRQ line firmware assigned (the interrupt-line register) */
};

struct msg_pci_dev { /* PCI_RESERVE, PCI_RELEASE */
    uint32_t bdf;
};

struct msg_pci_bar {
    uint32_t bdf;
    uint32_t bar; /* 0..5 */
};

struct msg_pci_bar_reply {
    int64_t result;
    uint64_t base, size;
    uint32_t kind; /* PCI_BAR_* */
};

struct msg_pci_cfg { /* PCI_CFG_READ, PCI_CFG_WRITE */
    uint32_t bdf;
    uint32_t offset; /* 0..255, aligned to width */
    uint32_t width;  /* 1, 2 or 4 */
    uint32_t value;  /* PCI_CFG_WRITE */
};

struct msg_pci_cfg_reply {
    int64_t result;
    uint32_t value; /* PCI_CFG_READ */
};

union msg_pci {
    struct msg_reply reply;
    struct msg_pci_quiesce quiesce;
    struct msg_pci_quiesce_reply quiesce_reply;
    struct msg_pci_find find;
    struct msg_pci_find_reply find_reply;
    struct msg_pci_dev dev;
    struct msg_pci_bar bar;
    struct msg_pci_bar_reply bar_reply;
    struct msg_pci_cfg cfg;
    struct msg_pci_cfg_reply cfg_reply;
};
MSG_BODY_FITS(union msg_pci);

#endif
