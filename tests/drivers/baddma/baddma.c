/*
 * baddma: a malicious driver for the IOMMU tests (docs/IOMMU.md,
 * tools/suite_iommu.py). Its device is QEMU's edu (1234:11e8), whose DMA
 * engine copies between a 4 KiB buffer on the device (device address
 * EDU_BUF) and any bus address the driver writes into its registers:
 *   0x80 source, 0x88 destination, 0x90 count, 0x98 command (bit 0 start,
 *   bit 1 device to memory); the copy runs 100 ms later, bit 0 then clears.
 * Every instance first copies a pattern from its own DMA memory to the
 * device and back (the IOMMU must let this through: "own memory ok"); the
 * first instance then copies the pattern to physical TARGET, the first bytes
 * of the kernel's image (its Multiboot header). With an IOMMU the kernel
 * kills it for the fault and rs starts the next instance; without one the
 * bytes land and it says so. The second instance aims at the first's DMA
 * memory instead, which rs had the kernel free after its death (ds key
 * baddma.old): the IOMMU must have unmapped it before the frames went back
 * to the free list. The third behaves.
 */
#include <samsara/ds.h>
#include "pci/pci.h"
#include "sys.h"

#define REGS_VA 0x50000000ull
#define DMA_VA 0x40000000ull
#define EDU_BUF 0x40000ull
#define TARGET 0x100000ull
#define LEN 64
#define RUN_PAGES 16 /* the first instance's run: the second aims at its last page */
#define CMD_START 1ull
#define CMD_TO_MEMORY 2ull

static volatile uint64_t *regs;

/* One copy of LEN bytes by the device's engine; 0, or E_TIMEDOUT after 2 s. */
static int edu_copy(uint64_t src, uint64_t dst, uint64_t cmd)
{
    regs[0x80 / 8] = src;
    regs[0x88 / 8] = dst;
    regs[0x90 / 8] = LEN;
    regs[0x98 / 8] = cmd | CMD_START;
    for (uint64_t until = sys_uptime() + 2000; regs[0x98 / 8] & CMD_START;)
        if (sys_uptime() > until)
            return -E_TIMEDOUT;
    return 0;
}

static void sleep_ms(uint64_t ms)
{
    for (uint64_t until = sys_uptime() + ms; sys_uptime() < until;) {
        sys_alarm(ms);
        message_t m;
        service_receive(&m);
    }
}

/* The first instance's run, for the second (ds: keys appear once rs has told ds our label). */
static void publish_run(uint64_t pa)
{
    while (ds_publish_u64("baddma.old", pa, DS_OVERWRITE) < 0)
        sleep_ms(10);
}

static int start(void)
{
    return 0;
}

static int restart(uint64_t n)
{
    (void)n;
    return 0;
}

static const struct service_callbacks callbacks = {.init_fresh = start, .init_restart = restart};

int main(uint64_t arg)
{
    (void)arg;
    uint64_t n = service_startup("baddma", &callbacks), pa;
    struct pci_dev pd;
    struct pci_bar_info b;
    int r = pci_take_first(&pd, 0, PCI_BAR_MEM, 4096, &b);
    if (r == 0)
        r = sys_mapphys(b.base & ~0xfffull, 4096, REGS_VA);
    if (r == 0)
        r = pci_set_master(pd.bdf, PCI_CMD_MEM, 1);
    if (r == 0)
        r = sys_dmaalloc((n == 0 ? RUN_PAGES : 1) * 4096ull, DMA_VA, &pa);
    if (r < 0) {
        printf("baddma: no device: %s\n", strerror_s(r));
        return 1;
    }
    regs = (volatile uint64_t *)REGS_VA;
    uint8_t *mem = (uint8_t *)DMA_VA;
    for (int i = 0; i < LEN; i++)
        mem[i] = (uint8_t)("DMA!"[i % 4]);
    r = edu_copy(pa, EDU_BUF, 0);
    if (r == 0)
        r = edu_copy(EDU_BUF, pa + LEN, CMD_TO_MEMORY);
    printf("baddma: instance %lu: own memory %s\n", n,
           r == 0 && !memcmp(mem, mem + LEN, LEN) ? "ok" : "not reached");
    uint64_t old = 0, target = TARGET;
    if (n == 0)
        publish_run(pa);
    if (n == 1 && ds_retrieve_u64("baddma.old", &old) == 0) /* a page of it we do not hold now */
        target = old + (RUN_PAGES - 1) * 4096ull == pa ? old : old + (RUN_PAGES - 1) * 4096ull;
    if (n == 0 || old) {
        printf("baddma: writing %d bytes at physical 0x%lx (%s) by DMA\n", LEN, target,
               n == 0 ? "the kernel" : "the last instance's freed DMA memory");
        r = edu_copy(EDU_BUF, target, CMD_TO_MEMORY);
        sleep_ms(300); /* the clock's next look at the fault records comes well before */
        printf("baddma: still alive after the write (%s): nothing stopped it\n",
               r == 0 ? "done" : strerror_s(r));
    }
    for (;;) {
        message_t m;
        service_receive(&m);
    }
}
