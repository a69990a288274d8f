/*
 * lib/virtio: the virtio-over-PCI transports, legacy and modern, and split
 * virtqueues (virtio.h). Legacy registers are I/O ports, reached with
 * KC_IOPORT; modern ones are memory, mapped uncached with KC_MAPPHYS (the
 * pci server added the BARs to the driver's privileges when it reserved the
 * device). Memory the device reads is ordinary write-back memory, so on x86
 * a compiler barrier orders our stores for it (and our MMIO stores, which
 * are uncached, stay in program order).
 */
#include "sys.h"
#include "format/format.h"
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

/* Modern: the common configuration's fields, by width. */
#define COMMON(d, T, off) (*(volatile T *)((d)->common + (off)))

static uint8_t status(const struct virtio_dev *d)
{
    return d->modern ? COMMON(d, uint8_t, VIRTIO_COMMON_STATUS)
                     : (uint8_t)in(d, VIRTIO_PCI_STATUS, IO_IN8);
}

static void set_status(const struct virtio_dev *d, uint8_t v)
{
    if (d->modern)
        COMMON(d, uint8_t, VIRTIO_COMMON_STATUS) = v;
    else
        out(d, VIRTIO_PCI_STATUS, IO_OUT8, v);
}

int virtio_reset(const struct virtio_dev *d)
{
    set_status(d, 0);
    for (int i = 0; i < RESET_POLLS; i++)
        if (status(d) == 0)
            return 0;
    return -E_TIMEDOUT;
}

void virtio_set_status(const struct virtio_dev *d, uint8_t bits)
{
    set_status(d, (uint8_t)(status(d) | bits));
}

static uint64_t common64_write(const struct virtio_dev *d, uint16_t off, uint64_t v)
{
    COMMON(d, uint32_t, off) = (uint32_t)v;
    COMMON(d, uint32_t, off + 4) = (uint32_t)(v >> 32);
    return v;
}

/* Modern: 64 feature bits; VERSION_1 required, ACCESS_PLATFORM taken when offered. */
static int negotiate_modern(struct virtio_dev *d, uint32_t wanted, uint32_t *agreed)
{
    uint64_t offered = 0;
    for (uint32_t half = 0; half < 2; half++) {
        COMMON(d, uint32_t, VIRTIO_COMMON_DFSELECT) = half;
        offered |= (uint64_t)COMMON(d, uint32_t, VIRTIO_COMMON_DF) << (32 * half);
    }
    if (!(offered & VIRTIO_F_VERSION_1)) {
        printf("virtio: %s: a modern device without VIRTIO_F_VERSION_1\n", d->where);
        virtio_set_status(d, VIRTIO_STATUS_FAILED);
        return -E_INVAL;
    }
    uint64_t take = offered & (wanted | VIRTIO_F_VERSION_1 | VIRTIO_F_ACCESS_PLATFORM);
    for (uint32_t half = 0; half < 2; half++) {
        COMMON(d, uint32_t, VIRTIO_COMMON_GFSELECT) = half;
        COMMON(d, uint32_t, VIRTIO_COMMON_GF) = (uint32_t)(take >> (32 * half));
    }
    virtio_set_status(d, VIRTIO_STATUS_FEATURES_OK);
    if (!(status(d) & VIRTIO_STATUS_FEATURES_OK)) {
        printf("virtio: %s: the device refused features 0x%lx (FEATURES_OK)\n", d->where,
               (unsigned long)take);
        virtio_set_status(d, VIRTIO_STATUS_FAILED);
        return -E_INVAL;
    }
    d->features = take;
    *agreed = (uint32_t)take;
    return 0;
}

int virtio_negotiate(struct virtio_dev *d, uint32_t wanted, uint32_t *agreed)
{
    virtio_set_status(d, VIRTIO_STATUS_ACK);
    virtio_set_status(d, VIRTIO_STATUS_DRIVER);
    if (d->modern)
        return negotiate_modern(d, wanted, agreed);
    *agreed = in(d, VIRTIO_PCI_HOST_FEATURES, IO_IN32) & wanted;
    out(d, VIRTIO_PCI_GUEST_FEATURES, IO_OUT32, *agreed);
    d->features = *agreed;
    return 0;
}

uint16_t virtio_queue_size(const struct virtio_dev *d, uint16_t index)
{
    if (d->modern) {
        COMMON(d, uint16_t, VIRTIO_COMMON_Q_SELECT) = index;
        return COMMON(d, uint16_t, VIRTIO_COMMON_Q_SIZE);
    }
    out(d, VIRTIO_PCI_QUEUE_SEL, IO_OUT16, index);
    return (uint16_t)in(d, VIRTIO_PCI_QUEUE_SIZE, IO_IN16);
}

/* Modern: the three parts' addresses, the notify address, then queue_enable. */
static int setup_modern(const struct virtio_dev *d, struct virtq *q, uint64_t pa)
{
    COMMON(d, uint16_t, VIRTIO_COMMON_Q_SELECT) = q->index;
    COMMON(d, uint16_t, VIRTIO_COMMON_Q_SIZE) = q->size;
    uint64_t off = (uint64_t)COMMON(d, uint16_t, VIRTIO_COMMON_Q_NOFF) * d->notify_mul;
    if (off > d->notify_len || d->notify_len - off < 2) {
        printf("virtio: %s: queue %u's notify offset 0x%lx is outside the notify region\n",
               d->where, q->index, (unsigned long)off);
        return -E_INVAL;
    }
    q->notify = (volatile uint16_t *)(d->notify + off);
    common64_write(d, VIRTIO_COMMON_Q_DESC, pa);
    common64_write(d, VIRTIO_COMMON_Q_AVAIL, pa + 16ull * q->size);
    common64_write(d, VIRTIO_COMMON_Q_USED, pa + used_offset(q->size));
    COMMON(d, uint16_t, VIRTIO_COMMON_Q_ENABLE) = 1;
    return 0;
}

int virtq_setup(const struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t size,
                void *mem, uint64_t pa)
{
    q->index = index;
    q->size = size;
    q->desc = mem;
    q->avail = (volatile uint16_t *)((char *)mem + 16ull * size);
    q->used = (volatile uint16_t *)((char *)mem + used_offset(size));
    q->avail_idx = q->last_used = 0;
    q->notify = 0;
    if (d->modern)
        return setup_modern(d, q, pa);
    out(d, VIRTIO_PCI_QUEUE_SEL, IO_OUT16, index);
    out(d, VIRTIO_PCI_QUEUE_PFN, IO_OUT32, (uint32_t)(pa / VIRTIO_LEGACY_ALIGN));
    return 0;
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
    if (q->used[0] & VIRTQ_USED_F_NO_NOTIFY)
        return;
    if (q->notify)
        *q->notify = q->index;
    else
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
    return d->modern ? *d->isr : (uint8_t)in(d, VIRTIO_PCI_ISR, IO_IN8);
}

uint8_t virtio_config8(const struct virtio_dev *d, uint16_t offset)
{
    return d->modern ? d->device[offset]
                     : (uint8_t)in(d, (uint16_t)(VIRTIO_PCI_CONFIG + offset), IO_IN8);
}

uint16_t virtio_config16(const struct virtio_dev *d, uint16_t offset)
{
    return d->modern ? *(volatile uint16_t *)(d->device + offset)
                     : (uint16_t)in(d, (uint16_t)(VIRTIO_PCI_CONFIG + offset), IO_IN16);
}

uint32_t virtio_config32(const struct virtio_dev *d, uint16_t offset)
{
    return d->modern ? *(volatile uint32_t *)(d->device + offset)
                     : in(d, (uint16_t)(VIRTIO_PCI_CONFIG + offset), IO_IN32);
}

uint64_t virtio_config64(const struct virtio_dev *d, uint16_t offset)
{
    for (int tries = 0;; tries++) {
        uint8_t gen = d->modern ? COMMON(d, uint8_t, VIRTIO_COMMON_CFGGEN) : 0;
        uint64_t v =
            virtio_config32(d, offset) | (uint64_t)virtio_config32(d, (uint16_t)(offset + 4)) << 32;
        if (!d->modern || tries == 16 || gen == COMMON(d, uint8_t, VIRTIO_COMMON_CFGGEN))
            return v;
    }
}

/* Modern: the vendor capabilities (spec 4.1.4), the first of each type that names a BAR. */
#define CAP_VENDOR 0x09
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define PCI_STATUS_CAPS 0x10
#define MMIO_VA 0x30000000ull     /* BAR n at MMIO_VA + n * MMIO_BAR_MAX */
#define MMIO_BAR_MAX (1ull << 20) /* larger BARs are not mapped */

struct cap {
    int bar; /* -1: not found */
    uint32_t offset, length;
};

static int64_t cfg(uint32_t bdf, uint32_t offset, uint32_t width)
{
    return pci_cfg_read(bdf, offset, width);
}

/* The capabilities, by type (1-4), and the notify multiplier: 0 or an error. */
static int find_caps(struct virtio_dev *d, struct cap caps[5])
{
    for (int t = 0; t < 5; t++)
        caps[t].bar = -1;
    int64_t st = cfg(d->bdf, PCI_CFG_STATUS, 2), ptr = cfg(d->bdf, PCI_CFG_CAP_PTR, 1);
    if (st < 0 || ptr < 0)
        return st < 0 ? (int)st : (int)ptr;
    if (!(st & PCI_STATUS_CAPS))
        return -E_INVAL;
    for (int n = 0; n < 48 && (ptr &= 0xfc) >= 0x40; n++) { /* 48: a loop ends */
        int64_t id = cfg(d->bdf, (uint32_t)ptr, 1), next = cfg(d->bdf, (uint32_t)ptr + 1, 1);
        int64_t len = cfg(d->bdf, (uint32_t)ptr + 2, 1), type = cfg(d->bdf, (uint32_t)ptr + 3, 1);
        int64_t bar = cfg(d->bdf, (uint32_t)ptr + 4, 1);
        if (id < 0 || next < 0 || len < 0 || type < 0 || bar < 0)
            return -E_IO;
        if (id == CAP_VENDOR && len >= 16 && type >= CAP_COMMON && type <= CAP_DEVICE && bar <= 5 &&
            caps[type].bar < 0 && ptr <= 256 - 16) {
            int64_t off = cfg(d->bdf, (uint32_t)ptr + 8, 4),
                    length = cfg(d->bdf, (uint32_t)ptr + 12, 4);
            int64_t mul = type == CAP_NOTIFY && len >= 20 && ptr <= 256 - 20
                              ? cfg(d->bdf, (uint32_t)ptr + 16, 4)
                              : 0;
            if (off < 0 || length < 0 || mul < 0)
                return -E_IO;
            caps[type] = (struct cap){(int)bar, (uint32_t)off, (uint32_t)length};
            if (type == CAP_NOTIFY)
                d->notify_mul = (uint32_t)mul;
        }
        ptr = next;
    }
    return 0;
}

/* BAR `bar` mapped (once), checked to hold [offset, offset + length): its address, or 0. */
static volatile uint8_t *map_region(struct virtio_dev *d, const struct cap *c, uint8_t *mapped,
                                    uint64_t *first_base)
{
    uint64_t base, size;
    uint32_t kind;
    if (pci_bar(d->bdf, c->bar, &base, &size, &kind) < 0 || !(kind & PCI_BAR_MEM) || !size ||
        size > MMIO_BAR_MAX || base > UINT64_MAX - size - 0xfff || c->offset > size ||
        size - c->offset < c->length)
        return 0;
    uint64_t page = base & ~0xfffull, va = MMIO_VA + (uint64_t)c->bar * MMIO_BAR_MAX;
    uint64_t len = ((base + size + 0xfff) & ~0xfffull) - page;
    if (!mapped[c->bar] && sys_mapphys(page, len, va) < 0)
        return 0;
    mapped[c->bar] = 1;
    if (!*first_base)
        *first_base = base;
    return (volatile uint8_t *)(va + (base - page) + c->offset);
}

static int take_modern(struct virtio_dev *d, const char *name, uint16_t config_len)
{
    struct cap caps[5];
    uint8_t mapped[6] = {0};
    uint64_t first = 0;
    int r = find_caps(d, caps);
    if (r < 0) {
        printf("%s: no readable capability list: %s\n", name, strerror_s(r));
        return r;
    }
    static const char *what[5] = {"", "common", "notify", "ISR", "device"};
    for (int t = CAP_COMMON; t <= CAP_DEVICE; t++) {
        static const uint32_t least[5] = {0, VIRTIO_COMMON_LEN, 2, 1, 0};
        uint32_t need = t == CAP_DEVICE ? config_len : least[t];
        volatile uint8_t *p =
            caps[t].bar < 0 || caps[t].length < need ? 0 : map_region(d, &caps[t], mapped, &first);
        if (!p) {
            printf("%s: the %s configuration capability is missing, too short or not in a "
                   "mappable memory BAR\n",
                   name, what[t]);
            return -E_INVAL;
        }
        volatile uint8_t **slot[5] = {0, &d->common, &d->notify, &d->isr, &d->device};
        *slot[t] = p;
    }
    d->notify_len = caps[CAP_NOTIFY].length;
    d->modern = 1;
    d->decode = PCI_CMD_MEM;
    snprintf_s(d->where, sizeof(d->where), "MMIO 0x%lx", (unsigned long)first);
    return 0;
}

int virtio_take_device(struct virtio_dev *d, const char *name, uint16_t config_len)
{
    struct pci_dev pd;
    int r = pci_take_first(&pd, 0, 0, 0, 0);
    if (r == -E_NODEV)
        printf("%s: no device: the pci server found none that its manifest names\n", name);
    else if (r < 0)
        printf("%s: reserving the device: %s\n", name, strerror_s(r));
    if (r < 0)
        return r;
    *d = (struct virtio_dev){.bdf = pd.bdf, .irq = (int)pd.irq, .decode = PCI_CMD_IO};
    if (pd.device >= VIRTIO_PCI_MODERN_ID)
        return take_modern(d, name, config_len);
    struct pci_bar_info b;
    r = pci_bar(pd.bdf, 0, &b.base, &b.size, &b.kind);
    if (r < 0 || !(b.kind & PCI_BAR_IO) || b.size < (uint64_t)VIRTIO_PCI_CONFIG + config_len ||
        b.base > 0x10000 - b.size) {
        printf("%s: BAR0 is no legacy I/O range (disable-modern=on?), or: %s\n", name,
               strerror_s(r < 0 ? r : -E_INVAL));
        return r < 0 ? r : -E_INVAL;
    }
    d->io = (uint16_t)b.base;
    snprintf_s(d->where, sizeof(d->where), "I/O 0x%x", d->io);
    return 0;
}

const char *virtio_transport(const struct virtio_dev *d)
{
    if (!d->modern)
        return "";
    return d->features & VIRTIO_F_ACCESS_PLATFORM ? " (virtio 1.x, IOMMU platform)"
                                                  : " (virtio 1.x)";
}
