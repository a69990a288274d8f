/*
 * Protocol of the pci server (drivers/bus/pci): the PCI range of
 * samsara/msgtypes.h, bodies in samsara/msg/pci.h. Replies have type
 * PCI_REPLY and a result first (samsara/msg/reply.h; samsara/errno.h codes).
 *
 * PCI_QUIESCE (rs only): a driver died; turn bus mastering off and set
 *   INTx disable on every function whose vendor:device its manifest names,
 *   reading each command register back. Reply: result 0, the number of
 *   functions quiesced and of those whose read-back still showed either
 *   bit wrong. rs frees the dead driver's DMA memory only when none did.
 */
#ifndef SAMSARA_PCI_H
#define SAMSARA_PCI_H

#include <samsara/msgtypes.h>

#define PCI_QUIESCE (PCI_RQ_BASE + 0x01)
#define PCI_REPLY (PCI_RQ_BASE + 0xff)
_Static_assert(IS_PCI_RQ(PCI_REPLY), "pci types stay in the PCI range");

#endif
