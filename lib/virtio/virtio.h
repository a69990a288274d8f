/*
 * lib/virtio: virtio devices over PCI, legacy (I/O-port) transport, and
 * their split virtqueues (Virtio 1.x spec, section 4.1.4.8 "Legacy
 * Interfaces: A Note on PCI Device Layout", and 2.7 "Split Virtqueues").
 *
 * The transport is pinned: QEMU's `-device virtio-net-pci,disable-modern=on`
 * (vendor 1af4, device 1000: transitional ids, legacy interface only; on
 * q35's root bus). BAR0 is an I/O range with the registers below; MSI-X is
 * never enabled, so the device-specific configuration starts at 0x14 and
 * interrupts come on the INTx line (shared: read the ISR to know if it was
 * ours). Queue memory comes from KC_DMAALLOC, physically contiguous; the
 * device is told its page frame number (legacy: 4096-byte alignment, used
 * ring on the page after the available ring).
 *
 * A virtqueue here gives each buffer slot one descriptor for good (slot i is
 * descriptor i, a single buffer with the virtio header in front): the driver
 * posts slot i, and the used ring hands i back with the bytes written. A
 * chain (virtq_post_chain: virtio_blk's header, data and status) takes the
 * descriptors from its head on.
 */
#ifndef LIB_VIRTIO_H
#define LIB_VIRTIO_H

#include <stdint.h>

/* Legacy registers: offsets in BAR0 */
#define VIRTIO_PCI_HOST_FEATURES 0x00  /* 32 bits, read */
#define VIRTIO_PCI_GUEST_FEATURES 0x04 /* 32 bits, write */
#define VIRTIO_PCI_QUEUE_PFN 0x08      /* 32 bits: queue address >> 12; 0 = none */
#define VIRTIO_PCI_QUEUE_SIZE 0x0c     /* 16 bits, read: entries */
#define VIRTIO_PCI_QUEUE_SEL 0x0e      /* 16 bits */
#define VIRTIO_PCI_QUEUE_NOTIFY 0x10   /* 16 bits: the queue's index */
#define VIRTIO_PCI_STATUS 0x12         /* 8 bits; writing 0 resets the device */
#define VIRTIO_PCI_ISR 0x13            /* 8 bits; reading acknowledges */
#define VIRTIO_PCI_CONFIG 0x14         /* device-specific configuration (no MSI-X) */

/* Device status bits */
#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

#define VIRTQ_DESC_F_NEXT 1  /* the chain goes on at `next` */
#define VIRTQ_DESC_F_WRITE 2 /* the device writes this buffer */
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTIO_LEGACY_ALIGN 4096

struct virtq_desc {
    uint64_t addr; /* physical */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_used_elem {
    uint32_t id; /* the head descriptor */
    uint32_t len;
};

struct virtio_dev {
    uint16_t io; /* BAR0's first port */
    uint32_t bdf;
    int irq;
};

struct virtq {
    uint16_t index; /* the device's queue number */
    uint16_t size;  /* entries, the device's choice */
    struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then elems (struct virtq_used_elem) */
    uint16_t avail_idx;       /* ours: entries ever posted */
    uint16_t last_used;       /* ours: used entries ever taken */
};

/* Reserve the first device the manifest's `pci` line allows through the pci server (lib/pci),
 * BAR0 a legacy I/O range of at least config_len bytes of device configuration: 0, or an
 * error (logged as `name`). */
int virtio_take_device(struct virtio_dev *d, const char *name, uint16_t config_len);
/* Bytes a legacy queue of `size` entries takes (a multiple of 4096). */
uint64_t virtq_bytes(uint16_t size);

/* Reset: status 0, then wait (bounded) until it reads 0: 0 or E_TIMEDOUT. */
int virtio_reset(const struct virtio_dev *d);
void virtio_set_status(const struct virtio_dev *d, uint8_t bits); /* ORed into the status */
/* ACK and DRIVER, then offer the features in `wanted` the device has: the features agreed. */
uint32_t virtio_negotiate(const struct virtio_dev *d, uint32_t wanted);
/* Queue `index`'s size (0: no such queue). */
uint16_t virtio_queue_size(const struct virtio_dev *d, uint16_t index);
/* Lay the queue out in mem (virtq_bytes(size), zeroed, at physical pa) and give it to the
 * device. */
void virtq_setup(const struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t size,
                 void *mem, uint64_t pa);
/* Post slot `slot` (descriptor slot): the buffer at physical pa, len bytes, device-writable
 * or not. Call virtq_kick after a batch. */
void virtq_post(struct virtq *q, uint16_t slot, uint64_t pa, uint32_t len, int device_writes);
void virtq_kick(const struct virtio_dev *d, const struct virtq *q);
/* One buffer of a descriptor chain. */
struct virtq_buf {
    uint64_t pa;
    uint32_t len;
    int device_writes;
};
/* Post a chain of n buffers as descriptors head..head+n-1 (n <= size - head): the used ring hands
 * `head` back. Call virtq_kick after a batch. */
void virtq_post_chain(struct virtq *q, uint16_t head, const struct virtq_buf *b, int n);
/* The next slot the device is done with: 1 with slot and bytes written, 0 if none (yet). */
int virtq_next_used(struct virtq *q, uint16_t *slot, uint32_t *len);
int virtq_has_used(const struct virtq *q);
uint8_t virtio_isr(const struct virtio_dev *d); /* read (and so acknowledge) the ISR */
uint8_t virtio_config8(const struct virtio_dev *d, uint16_t offset);
uint16_t virtio_config16(const struct virtio_dev *d, uint16_t offset);
uint32_t virtio_config32(const struct virtio_dev *d, uint16_t offset);

#endif
