/*
 * Kernel calls for drivers: port I/O, IRQs, MMIO mapping and DMA memory.
 * Each checks the range against the caller's privilege structure first.
 */
#include "kernel.h"

static int io_allowed(struct proc *p, uint64_t port, uint64_t width)
{
    for (uint32_t i = 0; i < p->priv.nr_io; i++)
        if (port >= p->priv.io[i].base && port + width <= p->priv.io[i].base + p->priv.io[i].len)
            return 1;
    return 0;
}

/* KC_IOPORT(op, port, value) -> value read, or 0 */
int64_t do_ioport(struct proc *p, const uint64_t *a)
{
    static const uint8_t width[] = {1, 2, 4, 1, 2, 4};
    if (a[0] > IO_OUT32 || a[1] > 0xffff)
        return refuse(p, a[0] > IO_OUT32 ? 1 : 2, -E_INVAL);
    if (!io_allowed(p, a[1], width[a[0]]))
        return deny(p, 2);
    uint16_t port = (uint16_t)a[1];
    uint64_t v = a[0] == IO_IN8    ? inb(port)
                 : a[0] == IO_IN16 ? inw(port)
                 : a[0] == IO_IN32 ? inl(port)
                                   : a[2];
    if (a[0] == IO_OUT8)
        outb(port, (uint8_t)v);
    else if (a[0] == IO_OUT16)
        outw(port, (uint16_t)v);
    else if (a[0] == IO_OUT32)
        outl(port, (uint32_t)v);
    trace_device(p, v); /* a traced driver: op, port, the value read or written */
    return a[0] <= IO_IN32 ? (int64_t)v : 0;
}

/* KC_IRQCTL(op, irq) */
int64_t do_irqctl(struct proc *p, const uint64_t *a)
{
    if (a[0] > IRQ_ACK || a[1] >= NR_IRQS || a[1] == 0 || a[1] == 2)
        return refuse(p, a[0] > IRQ_ACK ? 1 : 2, -E_INVAL); /* 0, 2: the clock, the cascade */
    if (!((p->priv.irqs >> a[1]) & 1))
        return deny(p, 2);
    trace_device(p, 0);
    return irq_control(p, (int)a[0], (int)a[1]);
}

static int mem_allowed(struct proc *p, uint64_t pa, uint64_t len)
{
    for (uint32_t i = 0; i < p->priv.nr_mem; i++)
        if (pa >= p->priv.mem[i].base && len <= p->priv.mem[i].len &&
            pa - p->priv.mem[i].base <= p->priv.mem[i].len - len)
            return 1;
    return 0;
}

/* KC_MAPPHYS(phys, len, vaddr): uncached, not owned (never freed by us). */
int64_t do_mapphys(struct proc *p, const uint64_t *a)
{
    uint64_t pa = a[0], len = a[1], va = a[2];
    if ((pa | len | va) & (PAGE_SIZE - 1) || !len || !user_range_ok(va, len) || pa + len < pa)
        return refuse(p,
                      pa & (PAGE_SIZE - 1)                               ? 1
                      : (len & (PAGE_SIZE - 1)) || !len || pa + len < pa ? 2
                                                                         : 3,
                      -E_INVAL);
    if (!mem_allowed(p, pa, len))
        return deny(p, 1);
    if (len / PAGE_SIZE > frame_free_count() || !vm_range_free(p, va, len))
        return -E_BUSY;
    for (uint64_t off = 0; off < len; off += PAGE_SIZE)
        if (vm_map(p, va + off, pa + off,
                   PTE_P | PTE_U | PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_NOFREE) < 0) {
            vm_unmap_range(p, va, off);
            return -E_NOMEM;
        }
    trace_device(p, va);
    return 0;
}

/*
 * DMA memory, recorded by owner. A device may write into it until its bus
 * mastering is off, so its frames are never freed while the owner lives
 * (unmapping it only unmaps it) nor when the owner dies: they stay
 * allocated (quarantined) until KC_DMA_RELEASE, which rs calls once it has
 * quiesced the dead owner's devices.
 */
#define DMA_RUNS 128
#define DMA_RUNS_EACH 32
static struct {
    endpoint_t owner; /* 0: a free entry */
    uint64_t pa, pages;
} dma_run[DMA_RUNS];

/* A free entry for p, or -1 (none left, or p holds DMA_RUNS_EACH already). */
static int dma_entry(struct proc *p)
{
    int free = -1, held = 0;
    for (int i = 0; i < DMA_RUNS; i++) {
        held += dma_run[i].owner == p->ep;
        free = free < 0 && !dma_run[i].owner ? i : free;
    }
    return held < DMA_RUNS_EACH ? free : -1;
}

/* KC_DMAALLOC(len, vaddr, phys*): physically contiguous, zeroed, owned. */
int64_t do_dmaalloc(struct proc *p, const uint64_t *a)
{
    uint64_t len = a[0], va = a[1];
    if ((len | va) & (PAGE_SIZE - 1) || !len || len > (64ull << 20) || !user_range_ok(va, len))
        return refuse(p, (len & (PAGE_SIZE - 1)) || !len || len > (64ull << 20) ? 1 : 2, -E_INVAL);
    if (copy_to_user(p, a[2], &(uint64_t){0}, sizeof(uint64_t)) < 0)
        return refuse(p, 3, -E_FAULT);
    if (p->priv.max_pages && p->pages + len / PAGE_SIZE > p->priv.max_pages)
        return -E_NOMEM;
    if (!vm_range_free(p, va, len))
        return -E_BUSY;
    int e = dma_entry(p);
    if (e < 0)
        return -E_NOSPC;
    uint64_t pa = frame_alloc_contig(len / PAGE_SIZE);
    if (!pa)
        return -E_NOMEM;
    for (uint64_t off = 0; off < len; off += PAGE_SIZE)
        if (vm_map(p, va + off, pa + off, prot_to_pte(PROT_R | PROT_W) | PTE_DMA) < 0) {
            vm_unmap_range(p, va, off);
            for (uint64_t f = 0; f < len; f += PAGE_SIZE)
                frame_free(pa + f);
            return -E_NOMEM;
        }
    dma_run[e].owner = p->ep;
    dma_run[e].pa = pa;
    dma_run[e].pages = len / PAGE_SIZE;
    iommu_map(p->ep, pa, len / PAGE_SIZE);
    copy_to_user(p, a[2], &pa, sizeof(pa));
    trace_device(p, pa);
    return 0;
}

/* For a function just bound to ep (kernel/iommu.c): map the runs ep holds. */
void dma_map_owned(endpoint_t ep)
{
    for (int i = 0; i < DMA_RUNS; i++)
        if (dma_run[i].owner == ep)
            iommu_map(ep, dma_run[i].pa, dma_run[i].pages);
}

/* KC_DMA_RELEASE(ep): free the DMA memory of ep, a dead process; the number of pages freed. */
int64_t do_dma_release(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = ep_lookup((endpoint_t)a[0], &t);
    (void)p;
    if (r != -E_DEADEP)
        return r == 0 ? -E_BUSY : r; /* alive: its device may be using it now */
    int64_t pages = 0;
    iommu_forget((endpoint_t)a[0]); /* its devices reach none of these frames any more */
    for (int i = 0; i < DMA_RUNS; i++) {
        if (dma_run[i].owner != (endpoint_t)a[0])
            continue;
        for (uint64_t f = 0; f < dma_run[i].pages; f++)
            frame_free(dma_run[i].pa + f * PAGE_SIZE);
        pages += (int64_t)dma_run[i].pages;
        dma_run[i].owner = 0;
    }
    return pages;
}
