/*
 * lib/virtio: virtio devices over PCI, both transports, and their split
 * virtqueues (Virtio 1.x spec, 4.1 "Virtio Over PCI Bus", 4.1.4.8 "Legacy
 * Interfaces: A Note on PCI Device Layout", and 2.7 "Split Virtqueues").
 *
 * The transport is the device's: its id says which (virtio_take_device).
 * - Legacy: QEMU's `-device virtio-net-pci,disable-modern=on` (vendor 1af4,
 *   device 0x1000..0x103f: transitional ids, legacy interface only). BAR0 is
 *   an I/O range with the registers below; MSI-X is never enabled, so the
 *   device-specific configuration starts at 0x14. The device is told a
 *   queue's page frame number (4096-byte alignment, used ring on the page
 *   after the available ring).
 * - Modern (virtio 1.x): `disable-legacy=on` (device 0x1040 + the virtio
 *   device id: 0x1041 net, 0x1042 block). Vendor capabilities in
 *   configuration space (read through the pci server) say where in which
 *   memory BARs the common configuration, the notify area, the ISR byte and
 *   the device configuration are; those BARs are mapped uncached
 *   (KC_MAPPHYS; the pci server granted them at the reservation). Features
 *   are 64 bits: VIRTIO_F_VERSION_1 is required, VIRTIO_F_ACCESS_PLATFORM
 *   (QEMU's iommu_platform=on: DMA goes through the IOMMU) accepted when
 *   offered, since the addresses we give are the kernel's IOVAs (= physical,
 *   docs/IOMMU.md); FEATURES_OK is set and read back. Queues are programmed
 *   through the common configuration (three addresses and queue_enable); a
 *   queue is notified by a 16-bit write at notify + queue_notify_off *
 *   notify_off_multiplier. The same ring layout serves both.
 * Either way interrupts come on the INTx line (shared: read the ISR to know
 * if it was ours; reading acknowledges), and queue memory comes from
 * KC_DMAALLOC, physically contiguous.
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

/* Modern: the common configuration structure (spec 4.1.4.3), offsets in its region */
#define VIRTIO_COMMON_DFSELECT 0x00 /* 32: device_feature_select */
#define VIRTIO_COMMON_DF 0x04       /* 32: device_feature, read */
#define VIRTIO_COMMON_GFSELECT 0x08 /* 32: driver_feature_select */
#define VIRTIO_COMMON_GF 0x0c       /* 32: driver_feature */
#define VIRTIO_COMMON_STATUS 0x14   /* 8: device_status */
#define VIRTIO_COMMON_CFGGEN 0x15   /* 8: config_generation */
#define VIRTIO_COMMON_Q_SELECT 0x16 /* 16 */
#define VIRTIO_COMMON_Q_SIZE 0x18   /* 16 */
#define VIRTIO_COMMON_Q_ENABLE 0x1c /* 16 */
#define VIRTIO_COMMON_Q_NOFF 0x1e   /* 16: queue_notify_off, read */
#define VIRTIO_COMMON_Q_DESC 0x20   /* 64, written as two 32-bit halves */
#define VIRTIO_COMMON_Q_AVAIL 0x28  /* 64: queue_driver */
#define VIRTIO_COMMON_Q_USED 0x30   /* 64: queue_device */
#define VIRTIO_COMMON_LEN 0x38

#define VIRTIO_PCI_MODERN_ID 0x1040 /* device ids from here on: modern only */

/* Device-independent feature bits (modern) */
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_F_ACCESS_PLATFORM (1ull << 33)

/* Device status bits */
#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
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
    uint16_t io; /* legacy: BAR0's first port */
    uint32_t bdf;
    int irq;
    int modern;      /* the virtio 1.x transport (below), else legacy */
    uint32_t decode; /* PCI_CMD_IO (legacy) or PCI_CMD_MEM (modern), for pci_set_master */
    /* Modern: the capabilities' regions, mapped */
    volatile uint8_t *common, *isr, *device, *notify;
    uint32_t notify_len, notify_mul;
    uint64_t features; /* modern: the features agreed */
    char where[40];    /* "I/O 0xc000", "MMIO 0xfe000000": for the start-up line */
};

struct virtq {
    uint16_t index; /* the device's queue number */
    uint16_t size;  /* entries, the device's choice */
    struct virtq_desc *desc;
    volatile uint16_t *avail;  /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;   /* flags, idx, then elems (struct virtq_used_elem) */
    uint16_t avail_idx;        /* ours: entries ever posted */
    uint16_t last_used;        /* ours: used entries ever taken */
    volatile uint16_t *notify; /* modern: where a kick is written */
};

/* Reserve the first device the manifest's `pci` lines allow through the pci server (lib/pci),
 * with at least config_len bytes of device configuration: legacy (BAR0 an I/O range) or
 * modern (its capabilities found and their BARs mapped): 0, or an error (logged as `name`). */
int virtio_take_device(struct virtio_dev *d, const char *name, uint16_t config_len);
/* Bytes a legacy queue of `size` entries takes (a multiple of 4096). */
uint64_t virtq_bytes(uint16_t size);

/* Reset: status 0, then wait (bounded) until it reads 0: 0 or E_TIMEDOUT. */
int virtio_reset(const struct virtio_dev *d);
void virtio_set_status(const struct virtio_dev *d, uint8_t bits); /* ORed into the status */
/* ACK and DRIVER, then offer the features in `wanted` (device-specific bits 0-31) the device
 * has: 0 with *agreed, or E_INVAL (logged: a modern device without VERSION_1, or one that
 * refused FEATURES_OK). Modern: VERSION_1 and ACCESS_PLATFORM too, the agreed 64 bits in
 * d->features. */
int virtio_negotiate(struct virtio_dev *d, uint32_t wanted, uint32_t *agreed);
/* Queue `index`'s size (0: no such queue). */
uint16_t virtio_queue_size(const struct virtio_dev *d, uint16_t index);
/* Lay the queue out in mem (virtq_bytes(size), zeroed, at physical pa) and give it to the
 * device: 0, or E_INVAL (modern: its notify address is outside the notify region). */
int virtq_setup(const struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t size,
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
/* Two 32-bit halves, read again if the device changed its configuration meanwhile (modern). */
uint64_t virtio_config64(const struct virtio_dev *d, uint16_t offset);
/* For a start-up line: "", " (virtio 1.x)" or " (virtio 1.x, IOMMU platform)". */
const char *virtio_transport(const struct virtio_dev *d);

#endif
