/*
 * e1000: the driver of the Intel 82540EM gigabit controller as QEMU models
 * it, on libnetdriver.
 *
 *   QEMU: -netdev user,id=n0 -device e1000,netdev=n0,romfile=
 *         (romfile= keeps iPXE's option ROM from running at boot)
 *   ids:  8086:100e; BAR0 = the registers, 128 KiB of memory (mapped with
 *         KC_MAPPHYS once the pci server has granted it); BAR1 (I/O window)
 *         unused; INTx (shared: SeaBIOS routes q35's lines to IRQ 10/11)
 *   spec: Intel PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 *         Developer's Manual (8254x), 13 "Register Descriptions" and
 *         3.2/3.3 (legacy receive and transmit descriptors).
 *
 * Start-up, fresh or after a crash (the same path, which also holds when
 * the predecessor died in the middle of this very sequence):
 *  1. find and reserve the device through the pci server; memory decoding
 *     on, bus mastering off and INTx disabled: whatever a predecessor left
 *     running can no longer reach memory (the pci server did the same at
 *     its death, before rs freed its DMA memory);
 *  2. map the registers; mask every interrupt (IMC);
 *  3. receive and transmit off: the device's receive descriptors are taken
 *     away (RDT = RDH) and TCTL.EN cleared;
 *  4. CTRL.RST, and wait until it clears; mask again and clear ICR;
 *  5. the MAC address from receive address 0 (or the EEPROM); the link from
 *     STATUS.LU;
 *  6. both legacy rings and their buffers in DMA memory this process owns
 *     (KC_DMAALLOC), every ring register written (bases, lengths, heads,
 *     tails: QEMU's model leaves them alone at CTRL.RST), the tail at the
 *     head; transmit on; RCTL (enable, strip CRC, filter) if it differs;
 *  7. bus mastering on and INTx enabled (PCI_CFG_WRITE, command register);
 *  8. the receive descriptors given to the device (RDT); the interrupt
 *     causes (IMS); the IRQ line.
 *
 * Why receive is stopped by RDT = RDH and not by clearing RCTL.EN: QEMU's
 * e1000 holds off all reception for one second (of its virtual clock)
 * after every write to RCTL (flush_queue_timer in hw/net/e1000.c). A driver
 * that wrote RCTL at every start took a second to receive its first frame
 * after each restart; this one writes RCTL only when its value must change
 * (the first start, a NET_MODE with other filter bits) and keeps the
 * predecessor's filter until its client sets one. A receive unit without
 * descriptors takes no frames (QEMU keeps them queued and hands them over
 * at step 8), bus mastering is off until the rings are the new ones, and
 * on the real part CTRL.RST clears RCTL anyway.
 *
 * Frames are copied between the DMA buffers and the client's grants by
 * libnetdriver's vector copies. Receive descriptors the client has no
 * buffer for stay full (the device drops what does not fit), so inet's
 * receive buffers pace the device.
 */
#include "format/format.h"
#include "netdriver/netdriver.h"
#include "pci/pci.h"

/* Registers (byte offsets in BAR0). */
#define REG_CTRL 0x0000
#define REG_STATUS 0x0008
#define REG_EERD 0x0014 /* EEPROM read */
#define REG_ICR 0x00c0  /* interrupt causes: read to clear */
#define REG_ITR 0x00c4  /* interrupt throttling: 0, none */
#define REG_IMS 0x00d0  /* interrupt mask set */
#define REG_IMC 0x00d8  /* interrupt mask clear */
#define REG_RCTL 0x0100
#define REG_TCTL 0x0400
#define REG_TIPG 0x0410
#define REG_RDBAL 0x2800
#define REG_RDBAH 0x2804
#define REG_RDLEN 0x2808
#define REG_RDH 0x2810
#define REG_RDT 0x2818
#define REG_RDTR 0x2820 /* receive delay timer: 0, none */
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH 0x3810
#define REG_TDT 0x3818
#define REG_TIDV 0x3820 /* transmit interrupt delay: 0, none */
#define REG_MTA 0x5200  /* multicast table, 128 words */
#define REG_RAL0 0x5400
#define REG_RAH0 0x5404

#define CTRL_ASDE (1u << 5) /* auto-speed detection */
#define CTRL_SLU (1u << 6)  /* set link up */
#define CTRL_RST (1u << 26) /* device reset: self-clearing */
#define CTRL_VME (1u << 30)
#define CTRL_PHY_RST (1u << 31)
#define CTRL_LRST (1u << 3)
#define STATUS_LU (1u << 1)
#define EERD_START 1u
#define EERD_DONE (1u << 4) /* the 82540EM's (later parts moved it) */
#define EERD_ADDR_SHIFT 8
#define RAH_AV (1u << 31) /* the address is valid */

#define ICR_TXDW (1u << 0)   /* a transmit descriptor was written back */
#define ICR_LSC (1u << 2)    /* link status change */
#define ICR_RXDMT0 (1u << 4) /* receive descriptors below the threshold */
#define ICR_RXO (1u << 6)    /* receive overrun */
#define ICR_RXT0 (1u << 7)   /* receive timer: a frame arrived */
#define IMS_USED (ICR_TXDW | ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXT0)

#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)    /* every unicast */
#define RCTL_MPE (1u << 4)    /* every multicast */
#define RCTL_BAM (1u << 15)   /* broadcast */
#define RCTL_SECRC (1u << 26) /* strip the CRC; BSIZE 00, BSEX 0: 2048-byte buffers */
#define RCTL_FILTER (RCTL_UPE | RCTL_MPE | RCTL_BAM)
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)                      /* pad short packets */
#define TCTL_CT (0x0fu << 4)                    /* collision threshold: 15 */
#define TCTL_COLD (0x40u << 12)                 /* collision distance: full duplex */
#define TIPG_COPPER (10u | 8u << 10 | 6u << 20) /* IPGT, IPGR1, IPGR2 for copper */

/* Legacy descriptors (16 bytes each). */
struct rx_desc {
    uint64_t addr;
    uint16_t len;
    uint16_t checksum;
    uint8_t status, errors;
    uint16_t special;
};
struct tx_desc {
    uint64_t addr;
    uint16_t len;
    uint8_t cso, cmd, status, css;
    uint16_t special;
};
#define RXD_DD 0x01
#define RXD_EOP 0x02
#define TXD_EOP 0x01
#define TXD_IFCS 0x02 /* insert the CRC */
#define TXD_RS 0x08   /* report status: DD is written back */
#define TXD_DD 0x01

/* Rings: multiples of 8 descriptors (128 bytes); the device may own all but one. */
#define RX_SLOTS 64
#define TX_SLOTS 32
#define BUF_SIZE 2048
#define DMA_VA 0x40000000ull  /* descriptors (one page), then the buffers */
#define REGS_VA 0x50000000ull /* BAR0 */
#define REGS_SIZE 0x20000
#define RESET_WAIT_MS 20

static volatile uint8_t *regs;
static uint32_t bdf;
static int irq;
static volatile struct rx_desc *rx_ring;
static volatile struct tx_desc *tx_ring;
static uint8_t *buffers; /* RX_SLOTS receive buffers, then TX_SLOTS transmit buffers */
static uint64_t buffers_pa;
static uint32_t rx_next;         /* the next receive descriptor the device fills */
static int rx_long;              /* rx_next continues a frame longer than one buffer */
static uint32_t tx_old, tx_new;  /* oldest unconfirmed, next free transmit descriptor */
static uint64_t tx_id[TX_SLOTS]; /* the client's id of the frame in each slot */
static uint32_t rctl_filter = RCTL_BAM;

static uint32_t reg_read(uint32_t off)
{
    return *(volatile uint32_t *)(regs + off);
}

static void reg_write(uint32_t off, uint32_t value)
{
    __asm__ volatile("" ::: "memory"); /* descriptors are written before the device hears */
    *(volatile uint32_t *)(regs + off) = value;
}

static uint8_t *buf(uint32_t slot, uint64_t *pa)
{
    *pa = buffers_pa + (uint64_t)slot * BUF_SIZE;
    return buffers + (uint64_t)slot * BUF_SIZE;
}

static int link_state(void)
{
    return reg_read(REG_STATUS) & STATUS_LU ? NET_LINK_UP : NET_LINK_DOWN;
}

/* Memory decoding on; bus mastering and INTx on (1) or off (0). Only these bits change. */
static int pci_command(int on)
{
    int64_t cmd = pci_cfg_read(bdf, PCI_CFG_COMMAND, 2);
    if (cmd < 0)
        return (int)cmd;
    cmd |= PCI_CMD_MEM;
    cmd = on ? (cmd | PCI_CMD_MASTER) & ~PCI_CMD_INTX_DISABLE
             : (cmd & ~PCI_CMD_MASTER) | PCI_CMD_INTX_DISABLE;
    return pci_cfg_write(bdf, PCI_CFG_COMMAND, 2, (uint32_t)cmd);
}

/* Find and reserve the device: 0 and its BAR0's base, or an error. */
static int find_device(uint64_t *base)
{
    struct pci_dev pd;
    struct pci_bar_info b;
    int r = pci_take_first(&pd, 0, PCI_BAR_MEM, REGS_SIZE, &b);
    if (r < 0)
        return r;
    *base = b.base;
    if (b.base & 0xfff) {
        printf("e1000: BAR0 is no %d KiB memory range\n", REGS_SIZE / 1024);
        return -E_INVAL;
    }
    bdf = pd.bdf;
    irq = (int)pd.irq;
    return 0;
}

static int map_registers(uint64_t base)
{
    int r = sys_mapphys(base, REGS_SIZE, REGS_VA);
    if (r == 0)
        regs = (volatile uint8_t *)REGS_VA;
    return r;
}

/* Interrupts masked, receive and transmit off, reset, and wait for it: 0 or E_TIMEDOUT. */
static int reset(void)
{
    reg_write(REG_IMC, 0xffffffff);
    reg_write(REG_RDT, reg_read(REG_RDH)); /* no receive descriptors: see the top of the file */
    reg_write(REG_TCTL, 0);
    (void)reg_read(REG_STATUS); /* the writes have reached the device */
    reg_write(REG_CTRL, reg_read(REG_CTRL) | CTRL_RST);
    uint64_t until = sys_uptime() + RESET_WAIT_MS;
    while (reg_read(REG_CTRL) & CTRL_RST)
        if (sys_uptime() > until) {
            printf("e1000: CTRL.RST did not clear in %d ms\n", RESET_WAIT_MS);
            return -E_TIMEDOUT;
        }
    reg_write(REG_IMC, 0xffffffff); /* the manual's order: mask again, then clear the causes */
    (void)reg_read(REG_ICR);
    return 0;
}

/* One EEPROM word through EERD: the word, or -1 if the read did not finish. */
static int32_t eeprom_word(uint32_t addr)
{
    reg_write(REG_EERD, addr << EERD_ADDR_SHIFT | EERD_START);
    for (int i = 0; i < 100000; i++) {
        uint32_t v = reg_read(REG_EERD);
        if (v & EERD_DONE)
            return (int32_t)(v >> 16);
    }
    return -1;
}

/* The MAC address: receive address 0 if valid, otherwise the EEPROM's words 0..2 (then
 * written into receive address 0, which filters unicast frames). */
static int read_mac(uint8_t mac[NET_ADDR_LEN])
{
    uint32_t lo = reg_read(REG_RAL0), hi = reg_read(REG_RAH0);
    if (!(hi & RAH_AV) || (lo == 0 && (hi & 0xffff) == 0)) {
        int32_t w[3];
        for (uint32_t i = 0; i < 3; i++)
            if ((w[i] = eeprom_word(i)) < 0) {
                printf("e1000: no MAC address (receive address 0 empty, EEPROM silent)\n");
                return -E_TIMEDOUT;
            }
        lo = (uint32_t)w[0] | (uint32_t)w[1] << 16;
        hi = (uint32_t)w[2] | RAH_AV;
        reg_write(REG_RAL0, lo);
        reg_write(REG_RAH0, hi);
    }
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(lo >> (8 * i));
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    return 0;
}

/* Both rings and all buffers in one run of DMA memory, the device's ring registers, receive
 * and transmit on; the device gets the receive descriptors once bus mastering is on (init). */
static int setup_rings(void)
{
    uint64_t len = 4096 + (uint64_t)(RX_SLOTS + TX_SLOTS) * BUF_SIZE, pa;
    int r = sys_dmaalloc(len, DMA_VA, &pa);
    if (r < 0)
        return r;
    rx_ring = (volatile struct rx_desc *)DMA_VA;
    tx_ring = (volatile struct tx_desc *)(DMA_VA + RX_SLOTS * sizeof(struct rx_desc));
    uint64_t tx_ring_pa = pa + RX_SLOTS * sizeof(struct rx_desc);
    buffers = (uint8_t *)DMA_VA + 4096;
    buffers_pa = pa + 4096;
    for (uint32_t i = 0; i < RX_SLOTS; i++) { /* the memory is zeroed: status 0 */
        uint64_t bpa;
        buf(i, &bpa);
        rx_ring[i].addr = bpa;
    }
    for (uint32_t i = 0; i < 128; i++)
        reg_write(REG_MTA + 4 * i, 0);
    reg_write(REG_RDBAL, (uint32_t)pa);
    reg_write(REG_RDBAH, (uint32_t)(pa >> 32));
    reg_write(REG_RDLEN, RX_SLOTS * sizeof(struct rx_desc));
    reg_write(REG_RDH, 0);
    reg_write(REG_RDT, 0); /* head == tail: none is the device's yet */
    reg_write(REG_RDTR, 0);
    reg_write(REG_TDBAL, (uint32_t)tx_ring_pa);
    reg_write(REG_TDBAH, (uint32_t)(tx_ring_pa >> 32));
    reg_write(REG_TDLEN, TX_SLOTS * sizeof(struct tx_desc));
    reg_write(REG_TDH, 0);
    reg_write(REG_TDT, 0);
    reg_write(REG_TIDV, 0);
    reg_write(REG_ITR, 0);
    rx_next = tx_old = tx_new = 0;
    rx_long = 0;
    reg_write(REG_TIPG, TIPG_COPPER);
    reg_write(REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
    uint32_t rctl = reg_read(REG_RCTL);
    if (rctl & RCTL_EN) /* a predecessor's filter, kept until the client sets one */
        rctl_filter = rctl & RCTL_FILTER;
    if (rctl != (RCTL_EN | RCTL_SECRC | rctl_filter)) /* each write: QEMU's 1 s hold-off */
        reg_write(REG_RCTL, RCTL_EN | RCTL_SECRC | rctl_filter);
    return 0;
}

static int init(struct netdriver_info *info)
{
    uint64_t base;
    int r = find_device(&base);
    if (r < 0 || (r = pci_command(0)) < 0 || (r = map_registers(base)) < 0 || (r = reset()) < 0 ||
        (r = read_mac(info->mac)) < 0)
        return r;
    uint32_t ctrl = reg_read(REG_CTRL) & ~(CTRL_LRST | CTRL_PHY_RST | CTRL_VME);
    reg_write(REG_CTRL, ctrl | CTRL_SLU | CTRL_ASDE);
    info->link = link_state();
    if ((r = setup_rings()) < 0 || (r = pci_command(1)) < 0)
        return r;
    reg_write(REG_RDT, RX_SLOTS - 1); /* head == tail means empty: one stays the driver's */
    reg_write(REG_IMS, IMS_USED);
    if ((r = sys_irqctl(IRQ_ENABLE, irq)) < 0)
        return r;
    char where[24];
    snprintf_s(where, sizeof(where), "0x%lx", (unsigned long)base);
    netdriver_started(info, where, irq);
    return 0;
}

/* Transmit descriptors the device has written back: confirm their frames. */
static void tx_reap(void)
{
    while (tx_old != tx_new && (tx_ring[tx_old].status & TXD_DD)) {
        netdriver_sent(tx_id[tx_old], 0);
        tx_old = (tx_old + 1) % TX_SLOTS;
    }
}

static int send(const struct netdriver_frame *f)
{
    tx_reap(); /* also confirms frames whose TXDW interrupt a shared line's handler missed */
    uint32_t next = (tx_new + 1) % TX_SLOTS;
    if (next == tx_old)
        return NETDRIVER_BUSY;
    uint64_t pa;
    uint8_t *b = buf(RX_SLOTS + tx_new, &pa);
    int64_t r = netdriver_copy_from(f, b);
    if (r < 0)
        return (int)r;
    tx_id[tx_new] = f->id;
    tx_ring[tx_new] =
        (struct tx_desc){.addr = pa, .len = (uint16_t)f->len, .cmd = TXD_EOP | TXD_IFCS | TXD_RS};
    tx_new = next;
    reg_write(REG_TDT, tx_new);
    return 0;
}

static int64_t receive(const struct netdriver_frame *f)
{
    for (;;) {
        volatile struct rx_desc *d = &rx_ring[rx_next];
        uint8_t status = d->status;
        if (!(status & RXD_DD))
            return NETDRIVER_BUSY;
        __asm__ volatile("" ::: "memory"); /* the length and the frame after DD */
        uint32_t len = d->len, slot = rx_next;
        uint64_t pa;
        uint8_t *b = buf(slot, &pa);
        /* One buffer holds a whole frame (2048 bytes, and the device drops frames over 1522
         * without RCTL.LPE): the descriptors of a longer one, and frames with errors, are
         * dropped. */
        int last_of_long = rx_long;
        rx_long = !(status & RXD_EOP);
        int whole =
            !rx_long && !last_of_long && !d->errors && len >= NET_FRAME_MIN && len <= NET_FRAME_MAX;
        int64_t r = whole ? netdriver_copy_to(f, b, len) : 0;
        d->status = 0; /* the frame is copied (or malformed): the descriptor is the device's */
        reg_write(REG_RDT, slot);
        rx_next = (rx_next + 1) % RX_SLOTS;
        if (whole)
            return r;
        if (!rx_long)
            netdriver_dropped(1); /* once per frame, at its last descriptor */
    }
}

static void interrupt(uint32_t irqs)
{
    (void)irqs;
    uint32_t icr = reg_read(REG_ICR); /* 0: the shared line rang for another device */
    if (icr & ICR_LSC)
        netdriver_link(link_state());
    if (icr & ICR_TXDW)
        tx_reap(); /* receive descriptors wait for the client's buffers (libnetdriver's poll) */
    driver_irq_ack("e1000", irq);
}

static int mode(uint32_t bits)
{
    uint32_t filter = 0;
    if (bits & NET_MODE_BROADCAST)
        filter |= RCTL_BAM;
    if (bits & NET_MODE_MULTICAST)
        filter |= RCTL_MPE;
    if (bits & NET_MODE_PROMISC)
        filter |= RCTL_UPE | RCTL_MPE;
    rctl_filter = filter;
    uint32_t rctl = reg_read(REG_RCTL);
    if ((rctl & RCTL_FILTER) != filter) /* each write: QEMU's 1 s hold-off (top of the file) */
        reg_write(REG_RCTL, (rctl & ~RCTL_FILTER) | filter);
    return 0;
}

static const struct netdriver e1000 = {
    .name = "e1000",
    .init = init,
    .send = send,
    .receive = receive,
    .interrupt = interrupt,
    .mode = mode,
};

NETDRIVER_MAIN(e1000);
