/*
 * rtl8139: the driver of QEMU's Realtek RTL8139 network card, on
 * libnetdriver (docs/NET.md).
 *
 *   QEMU: -netdev user,id=n0 -device rtl8139,netdev=n0,romfile=
 *   ids:  10ec:8139; BAR0 = the 256 I/O registers (BAR1 maps the same as
 *         memory: not used); INTx, shared (SeaBIOS routes q35's to IRQ 10/11)
 *   spec: the RTL8139(C/D) datasheet, "Register Descriptions" and "Packet
 *         Buffer Management"; the chip's plain ring mode, never C+ mode
 *
 * Start-up, fresh or after a crash (the same path): find and reserve the
 * device through the pci server; bus mastering off and INTx disabled (what a
 * dead predecessor left running stops); the chip's interrupts masked (IMR
 * 0), receiver and transmitter off, then a software reset (CR.RST) and the
 * wait for it to clear; the receive ring and the 4 transmit buffers, in DMA
 * memory this process owns (KC_DMAALLOC, below 4 GiB: the chip has 32-bit
 * addresses); the MAC from IDR0-5; bus mastering on; only then receiver and
 * transmitter on and their configuration; then the interrupts (ISR cleared,
 * IMR, INTx, the IRQ line).
 *
 * Receive: one ring of 8 KiB (RBLEN 0). The chip writes each frame as a
 * 4-byte header (status, length with the CRC), the frame, its CRC, then
 * pads to 4 bytes, and wraps around the ring's end (RCR.WRAP is off), so a
 * frame may lie in two runs: it goes to the client in one vector copy of up
 * to two runs (netdriver_copy_to2). The ring is 8 KiB + 16 + 1536 bytes
 * anyway, the size the datasheet asks for should WRAP ever be on. CAPR, the
 * read pointer, is written 16 bytes behind where we read (a datasheet
 * quirk). Frames stay in the ring until the client gives buffers: its
 * receive buffers pace the chip, which drops what does not fit (counted in
 * MPC).
 *
 * Transmit: 4 slots (TSAD0-3 / TSD0-3) that the chip takes strictly in
 * turn, so we fill them in turn: writing a slot's TSD (size, OWN clear)
 * starts it; TOK, TABT or TUN in TSD ends it. A full set answers
 * NETDRIVER_BUSY (the library keeps the frame and asks again).
 */
#include "format/format.h"
#include "netdriver/netdriver.h"
#include "pci/pci.h"

/* Registers (offsets in BAR0) */
#define REG_IDR 0x00     /* MAC address, 6 bytes */
#define REG_MAR 0x08     /* multicast filter, 8 bytes */
#define REG_TSD 0x10     /* transmit status of slot i: 0x10 + 4i */
#define REG_TSAD 0x20    /* transmit start address of slot i: 0x20 + 4i */
#define REG_RBSTART 0x30 /* receive ring's start */
#define REG_CR 0x37      /* command */
#define REG_CAPR 0x38    /* current address of packet read, minus 16 */
#define REG_IMR 0x3c     /* interrupt mask */
#define REG_ISR 0x3e     /* interrupt status (write 1 to clear) */
#define REG_TCR 0x40     /* transmit configuration */
#define REG_RCR 0x44     /* receive configuration */
#define REG_MPC 0x4c     /* missed packet counter (write clears) */
#define REG_BMSR 0x64    /* basic mode status (MII) */

#define CR_BUFE 0x01 /* receive ring empty */
#define CR_TE 0x04
#define CR_RE 0x08
#define CR_RST 0x10

#define INT_ROK 0x0001
#define INT_RER 0x0002
#define INT_TOK 0x0004
#define INT_TER 0x0008
#define INT_RXOVW 0x0010   /* receive ring full: frames missed */
#define INT_LINKCHG 0x0020 /* packet underrun / link change */
#define INT_FOVW 0x0040    /* receive FIFO overflow */
#define INT_SERR 0x8000    /* PCI system error */
#define INT_USED                                                                                   \
    (INT_ROK | INT_RER | INT_TOK | INT_TER | INT_RXOVW | INT_LINKCHG | INT_FOVW | INT_SERR)

#define TSD_SIZE 0x1fff
#define TSD_OWN 0x2000 /* the chip has read the buffer */
#define TSD_TUN 0x4000 /* FIFO underrun (the frame may still have gone) */
#define TSD_TOK 0x8000
#define TSD_THRESHOLD (8u << 16) /* start sending after 8 x 32 bytes in the FIFO */
#define TSD_TABT 0x40000000      /* aborted */

#define RCR_AAP 0x01 /* every physical address */
#define RCR_APM 0x02 /* ours */
#define RCR_AM 0x04  /* multicast (through MAR) */
#define RCR_AB 0x08  /* broadcast */
#define RCR_BASE                                                                                   \
    (RCR_APM | (7u << 8) /* MXDMA: unlimited */ | (0u << 11) /* RBLEN: 8 KiB + 16 */ |             \
     (7u << 13) /* RXFTH: whole frames */)
#define TCR_VALUE ((3u << 24) /* IFG: standard */ | (6u << 8) /* MXDMA: 1024 bytes */)

#define BMSR_LINK 0x0004

#define RST_POLLS 100000
#define RX_RING 8192u                  /* RBLEN 0 */
#define RX_ALLOC (RX_RING + 16 + 1536) /* what the datasheet asks the ring to have */
#define RX_HDR 4                       /* status, length */
#define RX_STATUS_ROK 0x0001
#define RX_STATUS_BAD 0x003e /* FAE, CRC, LONG, RUNT, ISE */
#define RX_LEN_MAX 4096      /* beyond this a header's length is garbage, not a long frame */
#define CRC_LEN 4
#define TX_SLOTS 4
#define TX_BUF 2048   /* a frame of NET_FRAME_MAX bytes; 4-byte aligned */
#define TX_MIN 60     /* the shortest Ethernet frame without CRC: shorter ones are padded */
#define TX_OFF 12288u /* the transmit buffers, after the ring (rounded to pages) */
#define DMA_LEN (TX_OFF + TX_SLOTS * TX_BUF)
#define DMA_VA 0x40000000ull
_Static_assert(TX_OFF >= RX_ALLOC && DMA_LEN % 4096 == 0, "the DMA layout fits in whole pages");

static uint16_t io;
static uint32_t bdf;
static int irq;
static uint8_t *ring, *tx_buf; /* DMA_VA: the receive ring, then the transmit buffers */
static uint32_t rx_off;        /* where the next frame's header is, 0..RX_RING-1, 4-aligned */
static uint32_t rcr;           /* what RCR holds */
static int tx_next, tx_done;   /* the slot to fill next, the oldest slot in flight */
static uint8_t tx_busy[TX_SLOTS];
static uint64_t tx_id[TX_SLOTS]; /* the client's id of the frame in each slot */
static int wrapped_told;

static uint32_t in(uint16_t reg, int op)
{
    return (uint32_t)sys_ioport(op, (uint16_t)(io + reg), 0);
}

static void out(uint16_t reg, int op, uint32_t v)
{
    sys_ioport(op, (uint16_t)(io + reg), v);
}

static int find_device(void)
{
    struct pci_dev pd;
    struct pci_bar_info b;
    int r = pci_take_first(&pd, 0, PCI_BAR_IO, 0x80, &b);
    if (r < 0) {
        printf("rtl8139: no device, or BAR0 is not the chip's I/O registers (%s)\n", strerror_s(r));
        return r;
    }
    io = (uint16_t)b.base;
    bdf = pd.bdf;
    irq = (int)pd.irq;
    return 0;
}

/* Interrupts masked, receiver and transmitter off, software reset and its end. */
static int reset_chip(void)
{
    out(REG_IMR, IO_OUT16, 0);
    out(REG_CR, IO_OUT8, 0);
    out(REG_CR, IO_OUT8, CR_RST);
    for (int i = 0; i < RST_POLLS; i++)
        if (!(in(REG_CR, IO_IN8) & CR_RST)) {
            out(REG_ISR, IO_OUT16, 0xffff);
            return 0;
        }
    printf("rtl8139: the reset did not finish\n");
    return -E_TIMEDOUT;
}

/* The receive ring and the transmit buffers, in one run of DMA memory below 4 GiB. */
static int setup_dma(void)
{
    uint64_t pa;
    int r = sys_dmaalloc(DMA_LEN, DMA_VA, &pa);
    if (r < 0)
        return r;
    if (pa + DMA_LEN > 0x100000000ull) {
        printf("rtl8139: DMA memory at 0x%lx is above 4 GiB, out of the chip's reach\n", pa);
        return -E_NOMEM;
    }
    ring = (uint8_t *)DMA_VA;
    tx_buf = ring + TX_OFF;
    out(REG_RBSTART, IO_OUT32, (uint32_t)pa);
    for (int i = 0; i < TX_SLOTS; i++)
        out((uint16_t)(REG_TSAD + 4 * i), IO_OUT32, (uint32_t)(pa + TX_OFF + (uint64_t)i * TX_BUF));
    return 0;
}

static int link_state(void)
{
    return in(REG_BMSR, IO_IN16) & BMSR_LINK ? NET_LINK_UP : NET_LINK_DOWN;
}

/* Receiver off, configuration written, receiver on, reading from the ring's start. (QEMU also
 * restarts its ring at an RCR write.) */
static void rx_restart(void)
{
    out(REG_CR, IO_OUT8, CR_TE);
    out(REG_RCR, IO_OUT32, rcr);
    out(REG_CR, IO_OUT8, CR_RE | CR_TE);
    rx_off = 0;
    out(REG_CAPR, IO_OUT16, (uint16_t)(rx_off - 16));
}

static int init(struct netdriver_info *info)
{
    int r = find_device();
    if (r < 0 || (r = pci_set_master(bdf, PCI_CMD_IO, 0)) < 0 || (r = reset_chip()) < 0 ||
        (r = setup_dma()) < 0)
        return r;
    for (int i = 0; i < NET_ADDR_LEN; i++)
        info->mac[i] = (uint8_t)in((uint16_t)(REG_IDR + i), IO_IN8);
    if ((r = pci_set_master(bdf, PCI_CMD_IO, 1)) < 0)
        return r;
    out(REG_CR, IO_OUT8, CR_RE | CR_TE); /* TCR takes writes only with the transmitter on */
    out(REG_TCR, IO_OUT32, TCR_VALUE);
    rcr = RCR_BASE | RCR_AB;
    rx_restart();
    out(REG_ISR, IO_OUT16, 0xffff);
    out(REG_IMR, IO_OUT16, INT_USED);
    if ((r = sys_irqctl(IRQ_ENABLE, irq)) < 0)
        return r;
    info->link = link_state();
    char where[16];
    snprintf_s(where, sizeof(where), "I/O 0x%x", io);
    netdriver_started(info, where, irq);
    return 0;
}

static int mode(uint32_t bits)
{
    uint32_t want = RCR_BASE;
    if (bits & NET_MODE_BROADCAST)
        want |= RCR_AB;
    if (bits & NET_MODE_MULTICAST)
        want |= RCR_AM;
    if (bits & NET_MODE_PROMISC)
        want |= RCR_AAP | RCR_AB | RCR_AM;
    if (want == rcr)
        return 0;
    for (int i = 0; i < 8; i++) /* every multicast group, or none */
        out((uint16_t)(REG_MAR + i), IO_OUT8, want & RCR_AM ? 0xff : 0);
    rcr = want;
    rx_restart(); /* frames still in the ring are lost: TCP sends them again */
    return 0;
}

/* Transmit slots the chip is done with, oldest first: confirm their frames. */
static void tx_reap(void)
{
    while (tx_busy[tx_done]) {
        uint32_t tsd = in((uint16_t)(REG_TSD + 4 * tx_done), IO_IN32);
        if (!(tsd & (TSD_TOK | TSD_TABT | TSD_TUN)))
            return; /* still going */
        tx_busy[tx_done] = 0;
        netdriver_sent(tx_id[tx_done], tsd & TSD_TABT ? -E_AGAIN : 0);
        tx_done = (tx_done + 1) % TX_SLOTS;
    }
}

static int send(const struct netdriver_frame *f)
{
    int slot = tx_next;
    if (tx_busy[slot])
        return NETDRIVER_BUSY; /* all 4 in flight: the chip takes them only in turn */
    uint8_t *b = tx_buf + slot * TX_BUF;
    int64_t r = netdriver_copy_from(f, b);
    if (r < 0)
        return (int)r;
    uint32_t len = (uint32_t)f->len;
    if (len < TX_MIN) {
        memset(b + len, 0, TX_MIN - len);
        len = TX_MIN;
    }
    tx_id[slot] = f->id;
    tx_busy[slot] = 1;
    tx_next = (slot + 1) % TX_SLOTS;
    out((uint16_t)(REG_TSD + 4 * slot), IO_OUT32, TSD_THRESHOLD | len); /* OWN clear: go */
    return 0;
}

/* The ring went wrong (a bad header): start it again, dropping what it holds. */
static void rx_broken(uint16_t status, uint32_t len)
{
    printf("rtl8139: bad receive header at %u (status 0x%x, length %u): receiver restarted\n",
           rx_off, status, len);
    netdriver_dropped(1);
    rx_restart();
}

static int64_t receive(const struct netdriver_frame *f)
{
    for (;;) {
        if (in(REG_CR, IO_IN8) & CR_BUFE)
            return NETDRIVER_BUSY;
        const uint8_t *h = ring + rx_off; /* 4-aligned below RX_RING: never split */
        uint16_t status = (uint16_t)(h[0] | h[1] << 8);
        uint32_t len = (uint32_t)(h[2] | h[3] << 8); /* the frame and its CRC */
        if (!(status & RX_STATUS_ROK) || (status & RX_STATUS_BAD) || len < CRC_LEN ||
            len > RX_LEN_MAX) {
            rx_broken(status, len);
            continue;
        }
        uint32_t n = len - CRC_LEN, start = (rx_off + RX_HDR) % RX_RING;
        uint32_t first = n < RX_RING - start ? n : RX_RING - start;
        int whole = n >= NET_FRAME_MIN && n <= NET_FRAME_MAX;
        int64_t r = whole ? netdriver_copy_to2(f, ring + start, first, ring, n - first) : 0;
        if (whole && first < n && !wrapped_told) {
            wrapped_told = 1;
            printf("rtl8139: a frame wrapped around the receive ring (%u + %u bytes)\n", first,
                   n - first);
        }
        rx_off = (rx_off + RX_HDR + len + 3) % RX_RING & ~3u; /* the chip's next header */
        out(REG_CAPR, IO_OUT16, (uint16_t)(rx_off - 16));
        if (whole)
            return r;
        netdriver_dropped(1); /* a runt or an oversized (VLAN-tagged) frame */
    }
}

static void interrupt(uint32_t irqs)
{
    (void)irqs;
    uint16_t isr = (uint16_t)in(REG_ISR, IO_IN16); /* 0: the shared line rang for another device */
    if (isr) {
        out(REG_ISR, IO_OUT16, isr); /* cleared by writing its bits back */
        if (isr & (INT_RXOVW | INT_FOVW)) {
            netdriver_dropped(in(REG_MPC, IO_IN32) & 0xffffff);
            out(REG_MPC, IO_OUT32, 0);
        }
        if (isr & INT_LINKCHG)
            netdriver_link(link_state());
        if (isr & INT_SERR)
            printf("rtl8139: PCI system error (ISR 0x%x)\n", isr);
        tx_reap(); /* frames received wait for the client's buffers (libnetdriver's poll) */
    }
    driver_irq_ack("rtl8139", irq);
}

static const struct netdriver rtl8139 = {
    .name = "rtl8139",
    .init = init,
    .send = send,
    .receive = receive,
    .interrupt = interrupt,
    .mode = mode,
};

NETDRIVER_MAIN(rtl8139);
