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

union msg_pci {
    struct msg_reply reply;
    struct msg_pci_quiesce quiesce;
    struct msg_pci_quiesce_reply quiesce_reply;
};
MSG_BODY_FITS(union msg_pci);

#endif
