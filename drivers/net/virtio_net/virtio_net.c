/*
 * virtio_net: the driver of QEMU's virtio network card, legacy or modern
 * transport (lib/virtio), on libnetdriver.
 *
 *   QEMU: -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-modern=on
 *         (1af4:1000, transitional, legacy interface: BAR0 = I/O registers), or
 *         ...,disable-legacy=on[,iommu_platform=on] (1af4:1041, virtio 1.x:
 *         registers in a memory BAR; with iommu_platform its DMA goes through
 *         the IOMMU); INTx either way (shared with other devices: SeaBIOS
 *         routes q35's to IRQ 10/11)
 *   spec: Virtio 1.x, 5.1 "Network Device" (header: 10 bytes legacy, 12 in
 *         1.x; no VIRTIO_NET_F_MRG_RXBUF), queue 0 receive, queue 1 transmit.
 *
 * Start-up, fresh or after a crash (the same path): find and reserve the
 * device through the pci server; mask its interrupt (INTx disable) and turn
 * bus mastering off, which also stops what a dead predecessor left running;
 * reset the device (receive and transmit stop) and wait for the reset;
 * agree on features (MAC, STATUS); program both rings in DMA memory this
 * process owns (KC_DMAALLOC; a predecessor's is freed by rs once the pci
 * server has quiesced the device); post the receive buffers; bus
 * mastering on; DRIVER_OK; then the interrupt line.
 *
 * Frames are copied between the DMA buffers and the client's grants by
 * libnetdriver's vector copies. Receive slots the client has no buffer for
 * stay in the used ring (the device drops what does not fit), so inet's
 * receive buffers pace the device.
 */
#include "format/format.h"
#include "netdriver/netdriver.h"
#include "pci/pci.h" /* pci_set_master */
#include "virtio/virtio.h"

#define VIRTIO_NET_F_MAC (1u << 5)
#define VIRTIO_NET_F_STATUS (1u << 16)
#define VIRTIO_NET_S_LINK_UP 1
#define CONFIG_MAC 0    /* device configuration: the MAC address (6 bytes) */
#define CONFIG_STATUS 6 /* link status (with VIRTIO_NET_F_STATUS) */
#define HDR_LEGACY 10   /* struct virtio_net_hdr, legacy, without MRG_RXBUF */
#define HDR_MODERN 12   /* virtio 1.x: num_buffers is always there */

#define RX_SLOTS 64
#define TX_SLOTS NETDRIVER_SEND_MAX
#define BUF_SIZE 2048 /* a header and a frame of NET_FRAME_MAX bytes */
#define DMA_VA 0x40000000ull

static struct virtio_dev dev;
static struct virtq rxq, txq;
static uint8_t *buffers; /* RX_SLOTS receive buffers, then TX_SLOTS transmit buffers */
static uint64_t buffers_pa;
static uint64_t tx_id[TX_SLOTS]; /* the client's id of the frame in each slot */
static uint8_t tx_busy[TX_SLOTS];
static int link_features;
static uint32_t hdr_len; /* HDR_LEGACY or HDR_MODERN, as the transport says */

static uint8_t *buf(int slot, uint64_t *pa)
{
    *pa = buffers_pa + (uint64_t)slot * BUF_SIZE;
    return buffers + (uint64_t)slot * BUF_SIZE;
}

static void rx_post(uint16_t slot)
{
    uint64_t pa;
    buf(slot, &pa);
    virtq_post(&rxq, slot, pa, BUF_SIZE, 1);
}

static int link_state(void)
{
    if (!link_features)
        return NET_LINK_UP;
    return virtio_config16(&dev, CONFIG_STATUS) & VIRTIO_NET_S_LINK_UP ? NET_LINK_UP
                                                                       : NET_LINK_DOWN;
}

/* The rings and the buffers, in one run of DMA memory. */
static int setup_queues(void)
{
    uint16_t rx_size = virtio_queue_size(&dev, 0), tx_size = virtio_queue_size(&dev, 1);
    if (rx_size < RX_SLOTS || tx_size < TX_SLOTS || (rx_size & (rx_size - 1)) ||
        (tx_size & (tx_size - 1)))
        return -E_INVAL;
    uint64_t rx_bytes = virtq_bytes(rx_size), tx_bytes = virtq_bytes(tx_size);
    uint64_t len = rx_bytes + tx_bytes + (uint64_t)(RX_SLOTS + TX_SLOTS) * BUF_SIZE, pa;
    int r = sys_dmaalloc(len, DMA_VA, &pa);
    if (r < 0)
        return r;
    uint8_t *mem = (uint8_t *)DMA_VA;
    if ((r = virtq_setup(&dev, &rxq, 0, rx_size, mem, pa)) < 0 ||
        (r = virtq_setup(&dev, &txq, 1, tx_size, mem + rx_bytes, pa + rx_bytes)) < 0)
        return r;
    buffers = mem + rx_bytes + tx_bytes;
    buffers_pa = pa + rx_bytes + tx_bytes;
    for (uint16_t i = 0; i < RX_SLOTS; i++)
        rx_post(i);
    return 0;
}

static int init(struct netdriver_info *info)
{
    int r = virtio_take_device(&dev, "virtio_net", 8);
    if (r < 0 || (r = pci_set_master(dev.bdf, dev.decode, 0)) < 0 || (r = virtio_reset(&dev)) < 0)
        return r;
    uint32_t features;
    if ((r = virtio_negotiate(&dev, VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS, &features)) < 0)
        return r;
    hdr_len = dev.modern ? HDR_MODERN : HDR_LEGACY;
    if (!(features & VIRTIO_NET_F_MAC)) {
        printf("virtio_net: the device has no MAC address (feature MAC)\n");
        return -E_INVAL;
    }
    link_features = !!(features & VIRTIO_NET_F_STATUS);
    for (int i = 0; i < NET_ADDR_LEN; i++)
        info->mac[i] = virtio_config8(&dev, (uint16_t)(CONFIG_MAC + i));
    if ((r = setup_queues()) < 0) {
        virtio_set_status(&dev, VIRTIO_STATUS_FAILED);
        return r;
    }
    if ((r = pci_set_master(dev.bdf, dev.decode, 1)) < 0)
        return r;
    virtio_set_status(&dev, VIRTIO_STATUS_DRIVER_OK);
    virtq_kick(&dev, &rxq);
    if ((r = sys_irqctl(IRQ_ENABLE, dev.irq)) < 0)
        return r;
    info->link = link_state();
    char where[64];
    snprintf_s(where, sizeof(where), "%s%s", dev.where, virtio_transport(&dev));
    netdriver_started(info, where, dev.irq);
    return 0;
}

/* Transmit slots the device is done with: confirm their frames. */
static void tx_reap(void)
{
    uint16_t slot;
    uint32_t len;
    while (virtq_next_used(&txq, &slot, &len))
        if (slot < TX_SLOTS && tx_busy[slot]) {
            tx_busy[slot] = 0;
            netdriver_sent(tx_id[slot], 0);
        }
}

static int send(const struct netdriver_frame *f)
{
    int slot = 0;
    while (slot < TX_SLOTS && tx_busy[slot])
        slot++;
    if (slot == TX_SLOTS)
        return NETDRIVER_BUSY;
    uint64_t pa;
    uint8_t *b = buf(RX_SLOTS + slot, &pa);
    int64_t r = netdriver_copy_from(f, b + hdr_len);
    if (r < 0)
        return (int)r;
    memset(b, 0, hdr_len); /* no checksum offload, no segmentation */
    tx_id[slot] = f->id;
    tx_busy[slot] = 1;
    virtq_post(&txq, (uint16_t)slot, pa, (uint32_t)(hdr_len + f->len), 0);
    virtq_kick(&dev, &txq);
    return 0;
}

static int64_t receive(const struct netdriver_frame *f)
{
    uint16_t slot;
    uint32_t len;
    for (;;) {
        if (!virtq_next_used(&rxq, &slot, &len))
            return NETDRIVER_BUSY;
        if (slot >= RX_SLOTS) {
            printf("virtio_net: the device used receive slot %u, not ours\n", slot);
            continue;
        }
        uint64_t pa;
        uint8_t *b = buf(slot, &pa);
        int whole = len >= hdr_len + NET_FRAME_MIN && len <= hdr_len + NET_FRAME_MAX;
        int64_t r = whole ? netdriver_copy_to(f, b + hdr_len, len - hdr_len) : 0;
        rx_post(slot); /* the frame is copied (or malformed): the slot is the device's again */
        virtq_kick(&dev, &rxq);
        if (whole)
            return r;
        netdriver_dropped(1);
    }
}

static void interrupt(uint32_t irqs)
{
    (void)irqs;
    uint8_t isr = virtio_isr(&dev); /* 0: the shared line rang for another device */
    if (isr & VIRTIO_ISR_CONFIG)
        netdriver_link(link_state());
    tx_reap(); /* receive slots wait for the client's buffers (libnetdriver's poll) */
    driver_irq_ack("virtio_net", dev.irq);
}

static const struct netdriver virtio_net = {
    .name = "virtio_net",
    .init = init,
    .send = send,
    .receive = receive,
    .interrupt = interrupt,
};

NETDRIVER_MAIN(virtio_net);
