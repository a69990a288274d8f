/*
 * virtio_blk: the driver of QEMU's virtio disk, legacy or modern transport
 * (lib/virtio), on libblockdriver.
 *
 *   QEMU: -drive file=disk.img,if=none,id=d0,format=raw
 *         -device virtio-blk-pci,drive=d0,disable-modern=on
 *   ids:  1af4:1001 (transitional, legacy interface; BAR0 = I/O registers),
 *         or 1af4:1042 with disable-legacy=on[,iommu_platform=on] (virtio
 *         1.x, registers in a memory BAR, DMA through the IOMMU with
 *         iommu_platform); INTx either way (shared with other devices:
 *         SeaBIOS routes q35's to IRQ 10/11)
 *   spec: Virtio 1.x, 5.2 "Block Device": queue 0; a request is a chain of
 *         a header (type, sector; the device reads it), the data, and one
 *         status byte the device writes; capacity in 512-byte sectors at
 *         configuration offset 0; VIRTIO_BLK_F_FLUSH (bit 9): T_FLUSH.
 *
 * Start-up, fresh or after a crash (the same path): find and reserve the
 * device through the pci server; mask its interrupt and turn bus mastering
 * off, which also stops what a dead predecessor left running; reset the
 * device and wait for the reset; agree on features; program the queue in
 * DMA memory this process owns (KC_DMAALLOC); bus mastering on; DRIVER_OK;
 * then the interrupt line.
 *
 * One request at a time (the protocol is synchronous): the data goes
 * through a bounce buffer of BOUNCE_SIZE bytes this process owns, copied
 * from or to the client's grants by libblockdriver's vector copies; the
 * device never sees a client's memory. A request the device does not
 * finish within REQUEST_MS makes the driver exit: rs starts a new one,
 * which resets the device, and lib/bdev reissues the request.
 */
#include "blockdriver/blockdriver.h"
#include "pci/pci.h" /* pci_set_master */
#include "virtio/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX (1u << 1) /* size_max: the largest data descriptor */
#define VIRTIO_BLK_F_FLUSH (1u << 9)
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define CONFIG_CAPACITY 0 /* 64 bits: 512-byte sectors */
#define CONFIG_SIZE_MAX 8 /* 32 bits, with VIRTIO_BLK_F_SIZE_MAX */
#define SECTOR 512

#define BOUNCE_SIZE (128u << 10) /* bytes per device request: max_transfer */
#define SEG_MAX 32               /* data descriptors per request at most */
#define REQUEST_MS 5000
#define DMA_VA 0x40000000ull

struct blk_header { /* the device reads it */
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct virtio_dev dev;
static struct virtq queue;
static struct blk_header *header; /* in DMA memory, then the status byte */
static volatile uint8_t *status;
static uint64_t header_pa;
static uint8_t *bounce;
static uint64_t bounce_pa;
static uint32_t segment; /* the largest data descriptor */
static int can_flush;

/* The queue, the header and status page, and the bounce buffer, in one run of DMA memory. */
static int setup_queue(void)
{
    uint16_t size = virtio_queue_size(&dev, 0);
    if (size < SEG_MAX + 2 || (size & (size - 1)))
        return -E_INVAL;
    uint64_t qbytes = virtq_bytes(size), len = qbytes + 4096 + BOUNCE_SIZE, pa;
    int r = sys_dmaalloc(len, DMA_VA, &pa);
    if (r < 0)
        return r;
    uint8_t *mem = (uint8_t *)DMA_VA;
    if ((r = virtq_setup(&dev, &queue, 0, size, mem, pa)) < 0)
        return r;
    header = (struct blk_header *)(mem + qbytes);
    status = (volatile uint8_t *)(mem + qbytes + sizeof(*header));
    header_pa = pa + qbytes;
    bounce = mem + qbytes + 4096;
    bounce_pa = pa + qbytes + 4096;
    return 0;
}

static int init(struct blockdriver_info *info)
{
    int r = virtio_take_device(&dev, "virtio_blk", 24);
    if (r < 0 || (r = pci_set_master(dev.bdf, dev.decode, 0)) < 0 || (r = virtio_reset(&dev)) < 0)
        return r;
    uint32_t features;
    if ((r = virtio_negotiate(&dev, VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SIZE_MAX, &features)) < 0)
        return r;
    can_flush = !!(features & VIRTIO_BLK_F_FLUSH);
    segment = BOUNCE_SIZE;
    if (features & VIRTIO_BLK_F_SIZE_MAX) {
        uint32_t max = virtio_config32(&dev, CONFIG_SIZE_MAX) & ~(uint32_t)(SECTOR - 1);
        if (max && max < segment)
            segment = max;
        if (segment < BOUNCE_SIZE / SEG_MAX)
            segment = BOUNCE_SIZE / SEG_MAX; /* 4 KiB: every device takes a page */
    }
    uint64_t sectors = virtio_config64(&dev, CONFIG_CAPACITY);
    if ((r = setup_queue()) < 0) {
        virtio_set_status(&dev, VIRTIO_STATUS_FAILED);
        return r;
    }
    if ((r = pci_set_master(dev.bdf, dev.decode, 1)) < 0)
        return r;
    virtio_set_status(&dev, VIRTIO_STATUS_DRIVER_OK);
    if ((r = sys_irqctl(IRQ_ENABLE, dev.irq)) < 0)
        return r;
    if (sectors > UINT64_MAX / SECTOR)
        sectors = UINT64_MAX / SECTOR;
    *info = (struct blockdriver_info){sectors * SECTOR, SECTOR, BOUNCE_SIZE};
    printf("virtio_blk: %lu sectors at %s%s, IRQ %d, flush %s\n", (unsigned long)sectors, dev.where,
           virtio_transport(&dev), dev.irq, can_flush ? "yes" : "no");
    return 0;
}

/* Give the device one request (header, len bytes of the bounce buffer, status) and wait for
 * it: 0, E_IO (the device refused it). A device that does not answer makes us exit. */
static int run(uint32_t type, uint64_t position, uint64_t len)
{
    struct virtq_buf chain[SEG_MAX + 2];
    int n = 0;
    *header = (struct blk_header){type, 0, position / SECTOR};
    *status = 0xff;
    chain[n++] = (struct virtq_buf){header_pa, sizeof(*header), 0};
    for (uint64_t off = 0; off < len; off += segment) {
        uint64_t part = len - off < segment ? len - off : segment;
        chain[n++] = (struct virtq_buf){bounce_pa + off, (uint32_t)part, type == VIRTIO_BLK_T_IN};
    }
    chain[n++] = (struct virtq_buf){header_pa + sizeof(*header), 1, 1};
    virtq_post_chain(&queue, 0, chain, n);
    virtq_kick(&dev, &queue);
    uint64_t deadline = sys_uptime() + REQUEST_MS;
    uint16_t slot;
    uint32_t written;
    while (!virtq_next_used(&queue, &slot, &written)) {
        uint64_t now = sys_uptime();
        if (now >= deadline || blockdriver_wait(deadline - now) == -E_TIMEDOUT) {
            printf("virtio_blk: the device did not finish a request in %d ms: exiting\n",
                   REQUEST_MS);
            sys_exit(1); /* rs starts a new instance, which resets the device */
        }
    }
    return *status == VIRTIO_BLK_S_OK ? 0 : -E_IO;
}

static int64_t transfer(int write, uint64_t position, const struct blockdriver_request *rq,
                        uint64_t offset, uint64_t len)
{
    int64_t r;
    if (write && (r = blockdriver_copy_from(rq, offset, bounce, len)) < 0)
        return r;
    if ((r = run(write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, position, len)) < 0)
        return r;
    if (!write && (r = blockdriver_copy_to(rq, offset, bounce, len)) < 0)
        return r;
    return (int64_t)len;
}

static int flush(void)
{
    return can_flush ? run(VIRTIO_BLK_T_FLUSH, 0, 0) : 0; /* without FLUSH: write-through */
}

static void interrupt(uint32_t irqs)
{
    (void)irqs;
    virtio_isr(&dev); /* acknowledges; 0: the shared line rang for another device */
    driver_irq_ack("virtio_blk", dev.irq);
}

static const struct blockdriver virtio_blk = {
    .name = "virtio_blk",
    .init = init,
    .transfer = transfer,
    .flush = flush,
    .interrupt = interrupt,
};

BLOCKDRIVER_MAIN(virtio_blk);
