/*
 * DMA remapping with Intel VT-d (docs/IOMMU.md; Intel VT-d specification,
 * chapters 3 and 9 to 11). When the ACPI tables have a DMAR table, the
 * kernel points the first remapping unit at a root table and turns
 * translation on: a PCI function with no context entry can reach no memory.
 * The pci server binds each function it reserves to its driver (KC_PRIV_DEVICE
 * PRIV_DEV_PCI_ADD); the function then gets its own second-level table with
 * the driver's DMA runs mapped at their physical addresses (IOVA = physical:
 * drivers are unchanged), and nothing else. A binding ends (entry cleared,
 * caches invalidated, table freed) when the pci server removes it, another
 * driver reserves the function, or KC_DMA_RELEASE frees the dead driver's
 * runs: before any of its frames is reused. The clock polls the fault
 * records: a blocked access is logged and its driver killed (DEATH_DMA), so
 * rs restarts it. No DMAR table: nothing here does anything.
 */
#include "kernel.h"

#define IOMMU_DEVS 32
#define R_CAP 0x08
#define R_ECAP 0x10
#define R_GCMD 0x18
#define R_GSTS 0x1c
#define R_RTADDR 0x20
#define R_CCMD 0x28
#define R_FSTS 0x34
#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)
#define RW 3ull /* second-level entry: read and write */

static uint8_t *regs; /* the unit's registers in the direct map; 0: no IOMMU */
uint64_t iommu_pa;    /* their physical page: never a device range (priv.c) */
static uint64_t root_pa, fault_off, iotlb_off, nr_faults, levels; /* of the tables: 3 or 4 */
static struct iodev {
    endpoint_t owner; /* 0: a free entry */
    uint16_t bdf;
    uint64_t top; /* its second-level table */
} dev[IOMMU_DEVS];

static uint64_t rd64(uint64_t off)
{
    return *(volatile uint64_t *)(regs + off);
}

static void wr64(uint64_t off, uint64_t v)
{
    *(volatile uint64_t *)(regs + off) = v;
}

static uint32_t rd32(uint64_t off)
{
    return *(volatile uint32_t *)(regs + off);
}

static void wr32(uint64_t off, uint32_t v)
{
    *(volatile uint32_t *)(regs + off) = v;
}

static uint64_t ld(const uint8_t *at, int bytes)
{
    uint64_t v = 0;
    memcpy(&v, at, (size_t)bytes);
    return v;
}

/* Wait (bounded) until the register's bit reads as want. */
static void wait_bit(uint64_t off, uint64_t bit, uint64_t want)
{
    for (int spins = 0; (rd64(off) & bit) != want; spins++)
        if (spins == 10000000)
            panic("iommu: register %lx bit %lx stuck", off, bit);
}

/* Global context-cache and IOTLB invalidation (register based). */
static void flush(void)
{
    wr64(R_CCMD, 1ull << 63 | 1ull << 61);
    wait_bit(R_CCMD, 1ull << 63, 0);
    wr64(iotlb_off + 8, 1ull << 63 | 1ull << 60);
    wait_bit(iotlb_off + 8, 1ull << 63, 0);
}

/* The ACPI table sig (below 4 GiB) from the RSDP in the BIOS area, or 0. */
static const uint8_t *acpi_table(const char *sig)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
        const uint8_t *r = P2V(a);
        if (memcmp(r, "RSD PTR ", 8))
            continue;
        int w = r[15] >= 2 ? 8 : 4; /* XSDT: 64-bit entries */
        uint64_t sdt = ld(r + (w == 8 ? 24 : 16), w);
        if (sdt >= 1ull << 32)
            return 0;
        const uint8_t *t = P2V(sdt);
        for (uint64_t o = 36; o + (uint64_t)w <= ld(t + 4, 4); o += (uint64_t)w) {
            uint64_t e = ld(t + o, w);
            if (e < 1ull << 32 && !memcmp(P2V(e), sig, 4))
                return P2V(e);
        }
        return 0;
    }
    return 0;
}

void iommu_init(void)
{
    const uint8_t *d = acpi_table("DMAR");
    uint64_t base = 0, len = d ? ld(d + 4, 4) : 0;
    for (uint64_t o = 48, n; o + 16 <= len && !base; o += n) {
        n = ld(d + o + 2, 2);
        if (n < 16)
            break;
        if (ld(d + o, 2) == 0) /* DRHD: a remapping unit */
            base = ld(d + o + 8, 8);
    }
    if (!base || base >= 1ull << 32 || base & (PAGE_SIZE - 1))
        return;
    regs = P2V(iommu_pa = base);
    uint64_t cap = rd64(R_CAP), ecap = rd64(R_ECAP);
    root_pa = frame_alloc();
    levels = cap >> 8 & 2 ? 3 : cap >> 8 & 4 ? 4 : 0; /* SAGAW: 39- or 48-bit addresses */
    if (!levels || !root_pa) {
        kprintf("iommu: VT-d at %lx unusable (no 3- or 4-level tables or no memory)\n", base);
        regs = 0;
        return;
    }
    fault_off = (cap >> 24 & 0x3ff) * 16;
    nr_faults = (cap >> 40 & 0xff) + 1;
    iotlb_off = (ecap >> 8 & 0x3ff) * 16;
    wr64(R_RTADDR, root_pa);
    wr32(R_GCMD, GCMD_SRTP);
    wait_bit(R_GSTS, GCMD_SRTP, GCMD_SRTP);
    flush();
    wr32(R_GCMD, GCMD_TE);
    wait_bit(R_GSTS, GCMD_TE, GCMD_TE);
    kprintf("iommu: VT-d at %lx: DMA remapping on, devices blocked until bound\n", base);
}

/* The leaf entry for iova in the table top (made: intermediate tables allocated), or 0. */
static uint64_t *leaf(uint64_t top, uint64_t iova)
{
    uint64_t *t = P2V(top);
    for (uint64_t shift = 3 + 9 * levels; shift > 12; shift -= 9) {
        uint64_t *e = &t[iova >> shift & 511];
        if (!*e && !(*e = frame_alloc()))
            return 0;
        *e |= RW;
        t = P2V(*e & PTE_ADDR);
    }
    return &t[iova >> 12 & 511];
}

/* Map owner's new DMA run [pa, pa + pages pages) for each function bound to it. */
void iommu_map(endpoint_t owner, uint64_t pa, uint64_t pages)
{
    for (int i = 0; regs && i < IOMMU_DEVS; i++)
        for (uint64_t f = 0; dev[i].owner == owner && f < pages; f++) {
            uint64_t *e = leaf(dev[i].top, pa + f * PAGE_SIZE);
            if (!e) {
                kprintf("iommu: no memory to map %lx for endpoint %d\n", pa, owner);
                break;
            }
            *e = (pa + f * PAGE_SIZE) | RW;
        }
    if (regs)
        flush(); /* needed with caching mode only; cheap */
}

static void free_table(uint64_t pa, int level)
{
    uint64_t *t = P2V(pa);
    for (int i = 0; i < 512 && level > 1; i++)
        if (t[i])
            free_table(t[i] & PTE_ADDR, level - 1);
    frame_free(pa);
}

/* Point bdf's context entry at top with domain id did (top 0: no entry), then invalidate. */
static int set_context(uint16_t bdf, uint64_t top, uint64_t did)
{
    uint64_t *root = P2V(root_pa);
    uint64_t *r = &root[(bdf >> 8) * 2];
    if (!*r && !(*r = frame_alloc()))
        return -E_NOMEM;
    *r |= 1;
    uint64_t *c = (uint64_t *)P2V(*r & PTE_ADDR) + (bdf & 0xff) * 2;
    c[0] = 0;
    c[1] = top ? (levels - 2) | did << 8 : 0; /* address width: 39 or 48 bits */
    c[0] = top ? top | 1 : 0;                 /* present, translated requests only */
    flush();
    return 0;
}

static void unbind(struct iodev *d)
{
    set_context(d->bdf, 0, 0);
    free_table(d->top, (int)levels);
    *d = (struct iodev){0};
}

/* PRIV_DEV_PCI_ADD/REMOVE: bind function bdf to t (add) or end t's binding. */
int64_t iommu_bind(struct proc *t, uint64_t bdf, int add)
{
    struct iodev *d = 0, *free = 0;
    for (int i = 0; i < IOMMU_DEVS; i++) {
        d = dev[i].owner && dev[i].bdf == bdf ? &dev[i] : d;
        free = !free && !dev[i].owner ? &dev[i] : free;
    }
    if (!regs || (add && d && d->owner == t->ep))
        return 0;
    if (!add)
        return d && d->owner == t->ep ? (unbind(d), 0) : -E_RANGE;
    if (d)
        unbind(free = d); /* the function changes hands */
    if (!free || !(free->top = frame_alloc()))
        return -E_NOSPC;
    free->owner = t->ep;
    free->bdf = (uint16_t)bdf;
    dma_map_owned(t->ep);
    return set_context((uint16_t)bdf, free->top, (uint64_t)(free - dev) + 1);
}

/* Before ep's DMA frames are freed: its functions reach nothing any more. */
void iommu_forget(endpoint_t ep)
{
    for (int i = 0; regs && i < IOMMU_DEVS; i++)
        if (dev[i].owner == ep)
            unbind(&dev[i]);
}

/* From the clock: a blocked access is logged and kills the function's driver. */
void iommu_poll(void)
{
    if (!regs || !(rd32(R_FSTS) & 2)) /* no pending fault */
        return;
    for (uint64_t i = 0; i < nr_faults; i++) {
        uint64_t off = fault_off + i * 16, hi = rd64(off + 8), addr = rd64(off) & ~0xfffull;
        if (!(hi >> 63))
            continue;
        wr32(off + 12, 1u << 31); /* clear F */
        uint16_t sid = (uint16_t)hi;
        struct proc *p = 0;
        for (int k = 0; k < IOMMU_DEVS; k++)
            if (dev[k].owner && dev[k].bdf == sid && ep_lookup(dev[k].owner, &p) < 0)
                p = 0;
        kprintf("kernel: iommu: DMA fault: device %02x:%02x.%x (%s) %s %lx, reason %lu%s\n",
                sid >> 8, sid >> 3 & 31, sid & 7, p ? p->name : "no driver",
                hi >> 62 & 1 ? "read" : "wrote", addr, hi >> 32 & 0xff, p ? ": killed" : "");
        if (p && !(p->flags & PS_ZOMBIE))
            proc_die(p, DEATH_DMA, (int64_t)(hi >> 32 & 0xff), addr, sid);
    }
    wr32(R_FSTS, rd32(R_FSTS) & 1); /* overflow, if any */
}
