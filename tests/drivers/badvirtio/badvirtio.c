/*
 * badvirtio: a malicious virtio driver for the IOMMU tests (docs/IOMMU.md,
 * tools/suite_iommu.py), the virtio counterpart of baddma. Its device is a
 * modern virtio disk (1af4:1042); with iommu_platform=on its DMA goes
 * through the IOMMU. Every instance starts the disk as virtio_blk does
 * (lib/virtio: reset, features, one queue in its own DMA memory, DRIVER_OK)
 * and reads sector 0 into its own DMA memory (the IOMMU must let this
 * through: "own memory ok"); the first instance then reads sector 0 again
 * with the data descriptor at physical TARGET, the first bytes of the
 * kernel's image (its boot code, done with by now). With an IOMMU the
 * device's write faults, the kernel kills the driver and rs starts the
 * next instance, which behaves; without one the sector lands in the kernel
 * and it says so. It polls the used ring: no interrupt.
 */
#include "pci/pci.h"
#include "sys.h"
#include "virtio/virtio.h"

#define DMA_VA 0x40000000ull
#define TARGET 0x100000ull
#define SECTOR 512
#define VIRTIO_BLK_T_IN 0

struct blk_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct virtio_dev dev;
static struct virtq queue;
static volatile uint8_t *page; /* header (16 bytes), status byte, at 512 a sector of data */

/* The disk up, its queue and a page of header, status and data in DMA memory at *pa. */
static int start_disk(uint64_t *pa)
{
    uint32_t features;
    int r = virtio_take_device(&dev, "badvirtio", 8);
    if (r < 0 || (r = pci_set_master(dev.bdf, dev.decode, 0)) < 0 || (r = virtio_reset(&dev)) < 0 ||
        (r = virtio_negotiate(&dev, 0, &features)) < 0)
        return r;
    uint16_t size = virtio_queue_size(&dev, 0);
    if (size < 4 || (size & (size - 1)))
        return -E_INVAL;
    uint64_t qbytes = virtq_bytes(size);
    if ((r = sys_dmaalloc(qbytes + 4096, DMA_VA, pa)) < 0 ||
        (r = virtq_setup(&dev, &queue, 0, size, (void *)DMA_VA, *pa)) < 0 ||
        (r = pci_set_master(dev.bdf, dev.decode, 1)) < 0)
        return r;
    virtio_set_status(&dev, VIRTIO_STATUS_DRIVER_OK);
    *pa += qbytes;
    page = (volatile uint8_t *)(DMA_VA + qbytes);
    return 0;
}

/* Read sector 0 to physical `to` (header and status in the page at pa): 0, E_IO, or
 * E_TIMEDOUT after 2 s. */
static int read_sector(uint64_t pa, uint64_t to)
{
    *(struct blk_header *)page = (struct blk_header){VIRTIO_BLK_T_IN, 0, 0};
    page[16] = 0xff;
    struct virtq_buf chain[3] = {{pa, 16, 0}, {to, SECTOR, 1}, {pa + 16, 1, 1}};
    virtq_post_chain(&queue, 0, chain, 3);
    virtq_kick(&dev, &queue);
    uint16_t slot;
    uint32_t len;
    for (uint64_t until = sys_uptime() + 2000; !virtq_next_used(&queue, &slot, &len);)
        if (sys_uptime() > until)
            return -E_TIMEDOUT;
    return page[16] == 0 ? 0 : -E_IO;
}

static int fresh(void)
{
    return 0;
}

static int again(uint64_t n)
{
    (void)n;
    return 0;
}

static const struct service_callbacks callbacks = {.init_fresh = fresh, .init_restart = again};

int main(uint64_t arg)
{
    (void)arg;
    uint64_t n = service_startup("badvirtio", &callbacks), pa;
    int r = start_disk(&pa);
    if (r < 0) {
        printf("badvirtio: no disk: %s\n", strerror_s(r));
        return 1;
    }
    r = read_sector(pa, pa + 512);
    char first[9] = {0}; /* the sector's first bytes, as the test's disk has them */
    for (int i = 0; i < 8 && r == 0; i++)
        first[i] = (char)page[512 + i];
    printf("badvirtio: instance %lu%s: own memory %s (%s)\n", n, virtio_transport(&dev),
           r == 0 ? "ok" : "not reached", first);
    if (n == 0) {
        printf("badvirtio: reading a sector to physical 0x%lx (the kernel) by DMA\n",
               (unsigned long)TARGET);
        r = read_sector(pa, TARGET);
        sys_alarm(300); /* the clock's next look at the fault records comes well before */
    }
    for (uint64_t until = sys_uptime() + 300; n == 0;) { /* alive 300 ms later: not stopped */
        message_t m;
        service_receive(&m);
        if (sys_uptime() >= until) {
            printf("badvirtio: still alive after the read (%s): nothing stopped it\n",
                   r == 0 ? "done" : strerror_s(r));
            break;
        }
    }
    for (;;) {
        message_t m;
        service_receive(&m);
    }
}
