/*
 * lib/virtio: the legacy virtio-over-PCI registers and split virtqueues
 * (virtio.h). Registers are I/O ports, reached with KC_IOPORT (the pci
 * server added BAR0's range to the driver's privileges when it reserved
 * the device). Memory the device reads is ordinary write-back memory, so
 * on x86 a compiler barrier orders our stores for it.
 */
#include "sys.h"
#include "pci/pci.h"
#include "virtio/virtio.h"

#define barrier() __asm__ volatile("" ::: "memory")
#define RESET_POLLS 100000

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint64_t used_offset(uint16_t size)
{
    return align_up(16ull * size + 6 + 2ull * size, VIRTIO_LEGACY_ALIGN);
}

uint64_t virtq_bytes(uint16_t size)
{
    return used_offset(size) + align_up(6 + 8ull * size, VIRTIO_LEGACY_ALIGN);
}

static uint32_t in(const struct virtio_dev *d, uint16_t reg, int op)
{
    return (uint32_t)sys_ioport(op, (uint16_t)(d->io + reg), 0);
}

static void out(const struct virtio_dev *d, uint16_t reg, int op, uint32_t v)
{
    sys_ioport(op, (uint16_t)(d->io + reg), v);
}

int virtio_reset(const struct virtio_dev *d)
{
    out(d, VIRTIO_PCI_STATUS, IO_OUT8, 0);
    for (int i = 0; i < RESET_POLLS; i++)
        if ((in(d, VIRTIO_PCI_STATUS, IO_IN8) & 0xff) == 0)
            return 0;
    return -E_TIMEDOUT;
}

void virtio_set_status(const struct virtio_dev *d, uint8_t bits)
{
    uint8_t now = (uint8_t)in(d, VIRTIO_PCI_STATUS, IO_IN8);
    out(d, VIRTIO_PCI_STATUS, IO_OUT8, (uint8_t)(now | bits));
}

uint32_t virtio_negotiate(const struct virtio_dev *d, uint32_t wanted)
{
    virtio_set_status(d, VIRTIO_STATUS_ACK);
    virtio_set_status(d, VIRTIO_STATUS_DRIVER);
    uint32_t agreed = in(d, VIRTIO_PCI_HOST_FEATURES, IO_IN32) & wanted;
    out(d, VIRTIO_PCI_GUEST_FEATURES, IO_OUT32, agreed);
    return agreed;
}

uint16_t virtio_queue_size(const struct virtio_dev *d, uint16_t index)
{
    out(d, VIRTIO_PCI_QUEUE_SEL, IO_OUT16, index);
    return (uint16_t)in(d, VIRTIO_PCI_QUEUE_SIZE, IO_IN16);
}

void virtq_setup(const struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t size,
                 void *mem, uint64_t pa)
{
    q->index = index;
    q->size = size;
    q->desc = mem;
    q->avail = (volatile uint16_t *)((char *)mem + 16ull * size);
    q->used = (volatile uint16_t *)((char *)mem + used_offset(size));
    q->avail_idx = q->last_used = 0;
    out(d, VIRTIO_PCI_QUEUE_SEL, IO_OUT16, index);
    out(d, VIRTIO_PCI_QUEUE_PFN, IO_OUT32, (uint32_t)(pa / VIRTIO_LEGACY_ALIGN));
}

void virtq_post_chain(struct virtq *q, uint16_t head, const struct virtq_buf *b, int n)
{
    for (int i = 0; i < n; i++) {
        uint16_t flags = (uint16_t)((b[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                                    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        q->desc[head + i] = (struct virtq_desc){b[i].pa, b[i].len, flags, (uint16_t)(head + i + 1)};
    }
    q->avail[2 + q->avail_idx % q->size] = head;
    barrier(); /* the entry before the index that publishes it */
    q->avail[1] = ++q->avail_idx;
}

void virtq_post(struct virtq *q, uint16_t slot, uint64_t pa, uint32_t len, int device_writes)
{
    struct virtq_buf one = {pa, len, device_writes};
    virtq_post_chain(q, slot, &one, 1);
}

void virtq_kick(const struct virtio_dev *d, const struct virtq *q)
{
    barrier();
    if (!(q->used[0] & VIRTQ_USED_F_NO_NOTIFY))
        out(d, VIRTIO_PCI_QUEUE_NOTIFY, IO_OUT16, q->index);
}

int virtq_has_used(const struct virtq *q)
{
    return q->used[1] != q->last_used;
}

int virtq_next_used(struct virtq *q, uint16_t *slot, uint32_t *len)
{
    if (!virtq_has_used(q))
        return 0;
    barrier(); /* the index before the element it publishes */
    const volatile struct virtq_used_elem *e =
        (const volatile struct virtq_used_elem *)(q->used + 2) + q->last_used % q->size;
    *slot = (uint16_t)e->id;
    *len = e->len;
    q->last_used++;
    return 1;
}

uint8_t virtio_isr(const struct virtio_dev *d)
{
    return (uint8_t)in(d, VIRTIO_PCI_ISR, IO_IN8);
}

uint8_t virtio_config8(const struct virtio_dev *d, uint16_t offset)
{
    return (uint8_t)in(d, (uint16_t)(VIRTIO_PCI_CONFIG + offset), IO_IN8);
}

uint16_t virtio_config16(const struct virtio_dev *d, uint16_t offset)
{
    return (uint16_t)in(d, (uint16_t)(VIRTIO_PCI_CONFIG + offset), IO_IN16);
}

uint32_t virtio_config32(const struct virtio_dev *d, uint16_t offset)
{
    return in(d, (uint16_t)(VIRTIO_PCI_CONFIG + offset), IO_IN32);
}

int virtio_take_device(struct virtio_dev *d, const char *name, uint16_t config_len)
{
    struct pci_dev pd;
    struct pci_bar_info b;
    int r = pci_take_first(&pd, 0, PCI_BAR_IO, VIRTIO_PCI_CONFIG + config_len, &b);
    if (r == -E_NODEV)
        printf("%s: no device: the pci server found none that its manifest names\n", name);
    else if (r < 0)
        printf("%s: BAR0 is no legacy I/O range (disable-modern=on?), or: %s\n", name,
               strerror_s(r));
    if (r < 0)
        return r;
    *d = (struct virtio_dev){(uint16_t)b.base, pd.bdf, (int)pd.irq};
    return 0;
}
