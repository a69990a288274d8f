/*
 * The AHCI controller and the one port this driver serves (ahci.h has the
 * register layout and the spec's sections).
 *
 * Start-up, fresh or after a crash (the same path; it also holds when the
 * predecessor died in the middle of it, or in the middle of a transfer):
 *  1. find and reserve the controller through the pci server (BAR5, ABAR:
 *     the registers); memory decoding on, bus mastering off and INTx
 *     disabled: whatever a predecessor left running can no longer reach
 *     memory (the pci server did the same at its death, before rs freed
 *     its DMA memory);
 *  2. map ABAR; GHC.IE off (interrupts masked); BIOS/OS hand-off where
 *     CAP2.BOH says the firmware may own the controller;
 *  3. each implemented port's engines stopped (PxCMD.ST off, wait for
 *     PxCMD.CR; PxCMD.FRE off, wait for PxCMD.FR; bounded), then the HBA
 *     reset (GHC.HR, wait until it clears, at most 1 s): every port's
 *     registers and commands are forgotten, a command in flight is
 *     abandoned; then GHC.AE;
 *  4. one run of DMA memory this process owns (KC_DMAALLOC): the command
 *     list, the received-FIS area, the command table and the bounce buffer;
 *  5. each implemented port, in order, until one has a disk: COMRESET
 *     (PxSCTL.DET 1 for at least 1 ms, then 0), wait for PxSSTS.DET = 3
 *     (bounded), PxSERR cleared, the areas programmed (PxCLB, PxFB), FIS
 *     receive on, wait for the device's first register FIS (PxTFD without
 *     BSY and DRQ, bounded) and check the signature (PxSIG: an ATA disk);
 *     the device's state is never trusted: a predecessor may have left it
 *     in the middle of a command;
 *  6. PxIS cleared, PxIE, GHC.IE; bus mastering and INTx on;
 *  7. PxCMD.ST: the port takes commands; IDENTIFY DEVICE (main.c, polled);
 *     the IRQ line enabled (main.c).
 *
 * The device reaches memory only after step 6, and by then every address it
 * holds is this instance's: the HBA reset forgot the predecessor's.
 *
 * One command at a time, always in slot 0 (no NCQ). Data moves through the
 * bounce buffer only; the driver copies between it and the client's grants.
 * Errors (PxIS error bits, PxTFD.ERR, a short byte count) restart the port
 * (ahci_recover: ST off, COMRESET, FRE and ST on again), as AHCI 1.3 6.2.2
 * allows for any error; a polled command's timeout (ahci_run) too. main.c
 * exits on a transfer's timeout instead: the next instance resets the HBA.
 */
#include "ahci.h"
#include "pci/pci.h"

#define REGS_VA 0x50000000ull
#define DMA_VA 0x40000000ull
#define ABAR_BAR 5
#define ABAR_SIZE 0x1000 /* ICH9: 2 KiB of registers; QEMU's window is 4 KiB */
/* The DMA run: command list (1 KiB-aligned), received FISes (256-aligned), the command table
 * (128-aligned), then the bounce buffer (page-aligned). */
#define CMD_LIST_OFF 0x0
#define FIS_OFF 0x400
#define TABLE_OFF 0x800
#define BOUNCE_OFF 0x1000
#define DMA_LEN (BOUNCE_OFF + AHCI_BOUNCE_SIZE)

/* Bounds on the waits (AHCI 1.3, 10.4: HR within 1 s, CR and FR within 500 ms). */
#define HR_WAIT_MS 1000
#define ENGINE_WAIT_MS 500
#define COMRESET_HOLD_MS 1 /* PxSCTL.DET = 1 held at least 1 ms (AHCI 1.3, 10.4.2) */
#define PHY_WAIT_MS 200    /* PxSSTS.DET = 3 after COMRESET: the link comes up in ~10 ms */
#define DETECT_WAIT_MS 10  /* PxSSTS.DET other than 0 after the HBA reset: something is there */
#define READY_WAIT_MS 5000 /* PxTFD BSY and DRQ clear: a disk spinning up */
#define BOHC_WAIT_MS 2000

static volatile uint8_t *regs;
static uint32_t bdf;
int ahci_irq = -1;
static int port = -1;
static volatile struct ahci_cmd_header *cmd_list;
static volatile struct ahci_cmd_table *table;
static uint64_t dma_pa;
uint8_t *ahci_bounce;
static int busy;          /* slot 0 holds an issued command */
static uint64_t busy_len; /* its data bytes */

static uint32_t hba_read(uint32_t off)
{
    return *(volatile uint32_t *)(regs + off);
}

static void hba_write(uint32_t off, uint32_t value)
{
    __asm__ volatile("" ::: "memory"); /* the command list and table before the device hears */
    *(volatile uint32_t *)(regs + off) = value;
}

static uint32_t px_read(uint32_t off)
{
    return hba_read(PORT_BASE(port) + off);
}

static void px_write(uint32_t off, uint32_t value)
{
    hba_write(PORT_BASE(port) + off, value);
}

/* Wait until (register & mask) == want, at most ms: 0 or E_TIMEDOUT. */
static int wait_reg(uint32_t off, uint32_t mask, uint32_t want, uint64_t ms)
{
    uint64_t until = sys_uptime() + ms;
    for (;;) {
        if ((hba_read(off) & mask) == want)
            return 0;
        if (sys_uptime() > until)
            return -E_TIMEDOUT;
    }
}

static void delay_ms(uint64_t ms)
{
    uint64_t until = sys_uptime() + ms + 1; /* a tick may be about to end */
    while (sys_uptime() < until)
        ;
}

/* Stop port n's command list and FIS receive engines (AHCI 1.3, 10.1.2): 0 or E_TIMEDOUT. */
static int stop_engines(int n)
{
    uint32_t base = PORT_BASE(n), cmd = hba_read(base + PX_CMD);
    if (cmd & PXCMD_ST)
        hba_write(base + PX_CMD, cmd &= ~PXCMD_ST);
    int r = wait_reg(base + PX_CMD, PXCMD_CR, 0, ENGINE_WAIT_MS);
    if (cmd & PXCMD_FRE)
        hba_write(base + PX_CMD, cmd & ~PXCMD_FRE);
    int r2 = wait_reg(base + PX_CMD, PXCMD_FR, 0, ENGINE_WAIT_MS);
    return r < 0 ? r : r2;
}

/* Take the controller from the firmware if it says it may own it (AHCI 1.3, 10.6.3). */
static void bios_handoff(void)
{
    if (!(hba_read(HBA_CAP2) & CAP2_BOH))
        return;
    hba_write(HBA_BOHC, hba_read(HBA_BOHC) | BOHC_OOS);
    if (wait_reg(HBA_BOHC, BOHC_BOS | BOHC_BB, 0, BOHC_WAIT_MS) < 0)
        printf("ahci: the firmware kept the controller (BOHC 0x%x); going on\n",
               hba_read(HBA_BOHC));
}

/* Steps 2 and 3: interrupts masked, engines stopped, HBA reset, AHCI mode. */
static int hba_reset(void)
{
    hba_write(HBA_GHC, (hba_read(HBA_GHC) & ~GHC_IE) | GHC_AE);
    bios_handoff();
    uint32_t pi = hba_read(HBA_PI);
    for (int n = 0; n < PORTS_MAX; n++)
        if ((pi >> n & 1) && stop_engines(n) < 0)
            printf("ahci: port %d did not stop (PxCMD 0x%x); the HBA reset will\n", n,
                   hba_read(PORT_BASE(n) + PX_CMD));
    hba_write(HBA_GHC, GHC_AE | GHC_HR);
    if (wait_reg(HBA_GHC, GHC_HR, 0, HR_WAIT_MS) < 0) {
        printf("ahci: GHC.HR did not clear in %d ms\n", HR_WAIT_MS);
        return -E_TIMEDOUT;
    }
    hba_write(HBA_GHC, GHC_AE); /* GHC.IE stays off until the port is ready */
    hba_write(HBA_IS, 0xffffffff);
    return 0;
}

static int dma_setup(void)
{
    int r = sys_dmaalloc(DMA_LEN, DMA_VA, &dma_pa);
    if (r < 0)
        return r;
    if (!(hba_read(HBA_CAP) & CAP_S64A) && dma_pa + DMA_LEN > (1ull << 32)) {
        printf("ahci: DMA memory above 4 GiB and the controller has 32-bit addresses\n");
        return -E_NOMEM;
    }
    cmd_list = (volatile struct ahci_cmd_header *)(DMA_VA + CMD_LIST_OFF);
    table = (volatile struct ahci_cmd_table *)(DMA_VA + TABLE_OFF);
    ahci_bounce = (uint8_t *)(DMA_VA + BOUNCE_OFF);
    /* Every slot points at the one (zeroed, so harmless) command table: a slot a controller
     * still believes issued after the reset finds no command there. */
    for (int i = 0; i < 32; i++)
        cmd_list[i].ctba = dma_pa + TABLE_OFF;
    return 0;
}

/* COMRESET on the port (AHCI 1.3, 10.4.2); PxCMD.ST must be off. 0 if a device is there. */
static int port_comreset(void)
{
    uint32_t sctl = px_read(PX_SCTL) & ~0xfu & ~(0xfu << 8);
    px_write(PX_SCTL, sctl | SCTL_IPM_NONE | SCTL_DET_COMRESET);
    delay_ms(COMRESET_HOLD_MS); /* one more tick than asked: at least that long */
    px_write(PX_SCTL, sctl | SCTL_IPM_NONE);
    int r = wait_reg(PORT_BASE(port) + PX_SSTS, 0xf, SSTS_DET_PRESENT, PHY_WAIT_MS);
    px_write(PX_SERR, 0xffffffff);
    return r < 0 ? -E_NXIO : 0;
}

/* The port's areas, FIS receive on, and the device ready: 0, E_NXIO (no disk here) or an
 * error. The port's engines are stopped. */
static int port_bring_up(void)
{
    uint64_t until = sys_uptime() + DETECT_WAIT_MS; /* DET 0 all along: nothing attached */
    while (SSTS_DET(px_read(PX_SSTS)) == 0)
        if (sys_uptime() > until)
            return -E_NXIO;
    uint32_t cmd = px_read(PX_CMD);
    if (hba_read(HBA_CAP) & CAP_SSS)
        px_write(PX_CMD, cmd |= PXCMD_POD | PXCMD_SUD);
    int r = port_comreset();
    if (r < 0)
        return r;
    uint64_t clb = dma_pa + CMD_LIST_OFF, fb = dma_pa + FIS_OFF;
    px_write(PX_CLB, (uint32_t)clb);
    px_write(PX_CLBU, (uint32_t)(clb >> 32));
    px_write(PX_FB, (uint32_t)fb);
    px_write(PX_FBU, (uint32_t)(fb >> 32));
    px_write(PX_IS, 0xffffffff);
    px_write(PX_CMD, px_read(PX_CMD) | PXCMD_FRE);
    /* The device's first register FIS (its signature) lands once FIS receive is on. */
    if (wait_reg(PORT_BASE(port) + PX_TFD, TFD_BSY | TFD_DRQ, 0, READY_WAIT_MS) < 0) {
        printf("ahci: port %d: the device stays busy (PxTFD 0x%x)\n", port, px_read(PX_TFD));
        return -E_TIMEDOUT;
    }
    uint32_t sig = px_read(PX_SIG);
    if (sig != SIG_ATA) {
        if (sig != 0xffffffff)
            printf("ahci: port %d: signature 0x%08x is no ATA disk\n", port, sig);
        return -E_NXIO;
    }
    px_write(PX_SERR, 0xffffffff);
    px_write(PX_IS, 0xffffffff);
    return 0;
}

/* PxCMD.ST on, once the command list engine has stopped running. */
static int port_start(void)
{
    int r = wait_reg(PORT_BASE(port) + PX_CMD, PXCMD_CR, 0, ENGINE_WAIT_MS);
    if (r == 0)
        px_write(PX_CMD, px_read(PX_CMD) | PXCMD_ST);
    return r;
}

int ahci_start(void)
{
    struct pci_dev pd;
    struct pci_bar_info b;
    int r = pci_take_first(&pd, ABAR_BAR, PCI_BAR_MEM, 0x100 + 0x80, &b);
    if (r < 0) {
        printf("ahci: no AHCI controller (%s)\n", strerror_s(r));
        return r;
    }
    bdf = pd.bdf;
    ahci_irq = (int)pd.irq;
    if (b.base & 0xfff) /* ICH9's ABAR is 2 KiB-aligned; the kernel maps pages */
        return -E_INVAL;
    if ((r = pci_set_master(bdf, PCI_CMD_MEM, 0)) < 0 ||
        (r = sys_mapphys(b.base, ABAR_SIZE, REGS_VA)) < 0)
        return r;
    regs = (volatile uint8_t *)REGS_VA;
    if ((r = hba_reset()) < 0 || (r = dma_setup()) < 0)
        return r;
    uint32_t pi = hba_read(HBA_PI);
    if (b.size < PORT_BASE(PORTS_MAX)) /* only the ports whose registers lie inside ABAR */
        pi &= (1u << (b.size - PORT_BASE(0)) / 0x80) - 1;
    for (port = 0; port < PORTS_MAX; port++) {
        if (!(pi >> port & 1))
            continue;
        r = port_bring_up();
        if (r == 0)
            break;
        stop_engines(port);
        if (r != -E_NXIO)
            return r;
    }
    if (port == PORTS_MAX) {
        printf("ahci: no disk on any of the ports (PI 0x%x)\n", pi);
        return -E_NODEV;
    }
    px_write(PX_IE, PXIS_USED);
    hba_write(HBA_GHC, GHC_AE | GHC_IE);
    if ((r = pci_set_master(bdf, PCI_CMD_MEM, 1)) < 0 || (r = port_start()) < 0)
        return r;
    printf("ahci: %02x:%02x.%x AHCI %x.%x, %d ports, %d slots, disk on port %d, IRQ %d\n", bdf >> 8,
           bdf >> 3 & 0x1f, bdf & 7, hba_read(HBA_VS) >> 16, hba_read(HBA_VS) & 0xffff,
           __builtin_popcount(pi), CAP_NCS(hba_read(HBA_CAP)), port, ahci_irq);
    return 0;
}

int ahci_issue(const struct ahci_command *c)
{
    if (c->len > AHCI_BOUNCE_SIZE || (c->len & 1))
        return -E_INVAL;
    if (px_read(PX_CI) & 1) { /* never, unless a command was abandoned without ahci_recover */
        printf("ahci: port %d: slot 0 still busy (PxCI 0x%x, PxTFD 0x%x)\n", port, px_read(PX_CI),
               px_read(PX_TFD));
        return -E_BUSY;
    }
    memset((void *)table, 0, sizeof(*table));
    memcpy((void *)table->cfis, c->fis, sizeof(c->fis));
    uint16_t prds = 0;
    for (uint64_t off = 0; off < c->len; off += PRD_MAX_BYTES, prds++) {
        uint64_t n = c->len - off < PRD_MAX_BYTES ? c->len - off : PRD_MAX_BYTES;
        table->prd[prds].dba = dma_pa + BOUNCE_OFF + off;
        table->prd[prds].dbc = (uint32_t)(n - 1);
    }
    cmd_list[0].flags = CMDH_CFL_H2D | (c->write ? CMDH_WRITE : 0);
    cmd_list[0].prdtl = prds;
    cmd_list[0].prdbc = 0;
    cmd_list[0].ctba = dma_pa + TABLE_OFF;
    px_write(PX_IS, 0xffffffff); /* what follows is this command's */
    busy = 1;
    busy_len = c->len;
    px_write(PX_CI, 1);
    return 0;
}

int ahci_poll(void)
{
    uint32_t is = px_read(PX_IS), tfd = px_read(PX_TFD);
    if ((is & PXIS_ERRORS) || (tfd & TFD_ERR)) {
        printf("ahci: port %d: command failed (PxIS 0x%x, PxTFD 0x%x, PxSERR 0x%x)\n", port, is,
               tfd, px_read(PX_SERR));
        return -E_IO;
    }
    if (px_read(PX_CI) & 1)
        return 1;
    __asm__ volatile("" ::: "memory"); /* the data after the completion */
    busy = 0;
    if (cmd_list[0].prdbc != busy_len) {
        printf("ahci: port %d: %u of %lu bytes moved\n", port, cmd_list[0].prdbc,
               (unsigned long)busy_len);
        return -E_IO;
    }
    return 0;
}

void ahci_recover(void)
{
    busy = 0;
    /* A controller that keeps PxCI across ST off (QEMU's) runs slot 0 again at ST on: it
     * finds an empty command there. */
    memset((void *)table, 0, sizeof(*table));
    stop_engines(port);
    if (port_bring_up() < 0 || port_start() < 0)
        printf("ahci: port %d did not come back after an error\n", port);
    else
        printf("ahci: port %d restarted after an error\n", port);
    px_write(PX_IE, PXIS_USED);
}

int ahci_run(const struct ahci_command *c, uint64_t timeout_ms)
{
    uint64_t until = sys_uptime() + timeout_ms;
    int r = ahci_issue(c);
    while (r == 0 && (r = ahci_poll()) == 1)
        r = sys_uptime() > until ? -E_TIMEDOUT : 0; /* 0: poll again */
    if (r < 0)
        ahci_recover();
    return r;
}

uint32_t ahci_interrupt(void)
{
    uint32_t is = hba_read(HBA_IS);
    uint32_t pis = 0;
    if (is & (1u << port)) {
        pis = px_read(PX_IS);
        if (busy) /* errors stay for ahci_poll to see; idle, nobody will */
            pis &= ~PXIS_ERRORS;
        px_write(PX_IS, pis);
    }
    hba_write(HBA_IS, is);
    return pis;
}
