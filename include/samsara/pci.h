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
 *
 * Requests of drivers (issue 9; bodies in msg/pci.h, client stubs in
 * lib/pci/pci.h). A driver sees only the functions its manifest names
 * (`pci VVVV:DDDD`, `pci class CC:SS[:PP]`); bdf = bus << 8 | dev << 3 | fn.
 * PCI_FIND: the index-th function the caller's manifest names (E_SRCH past
 *   the last): bdf, ids, class, IRQ line.
 * PCI_RESERVE: the function becomes the caller's (E_BUSY if a live driver
 *   holds it, E_PERM if the manifest does not name it); its BARs' I/O and
 *   memory ranges and its IRQ line are added to the caller's privileges.
 * PCI_BAR: base, size and kind of one BAR of a reserved function.
 * PCI_CFG_READ / PCI_CFG_WRITE: configuration space of a reserved function,
 *   1, 2 or 4 bytes, aligned; writes only to the fields a driver needs (the
 *   command register's I/O, memory, bus-master and INTx-disable bits, and
 *   capability fields), never to a BAR.
 * PCI_RELEASE: give a reserved function back (its privileges go too).
 */
#ifndef SAMSARA_PCI_H
#define SAMSARA_PCI_H

#include <samsara/msgtypes.h>

#define PCI_QUIESCE (PCI_RQ_BASE + 0x01)
#define PCI_FIND (PCI_RQ_BASE + 0x02)
#define PCI_RESERVE (PCI_RQ_BASE + 0x03)
#define PCI_BAR (PCI_RQ_BASE + 0x04)
#define PCI_CFG_READ (PCI_RQ_BASE + 0x05)
#define PCI_CFG_WRITE (PCI_RQ_BASE + 0x06)
#define PCI_RELEASE (PCI_RQ_BASE + 0x07)

/* PCI_BAR kinds */
#define PCI_BAR_IO 1       /* an I/O port range */
#define PCI_BAR_MEM 2      /* a memory range (32- or 64-bit) */
#define PCI_BAR_PREFETCH 4 /* with PCI_BAR_MEM: prefetchable */
#define PCI_REPLY (PCI_RQ_BASE + 0xff)
_Static_assert(IS_PCI_RQ(PCI_REPLY), "pci types stay in the PCI range");

#endif
