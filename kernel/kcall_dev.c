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
    switch (a[0]) {
    case IO_IN8:
        return inb(port);
    case IO_IN16:
        return inw(port);
    case IO_IN32:
        return inl(port);
    case IO_OUT8:
        outb(port, (uint8_t)a[2]);
        return 0;
    case IO_OUT16:
        outw(port, (uint16_t)a[2]);
        return 0;
    default:
        outl(port, (uint32_t)a[2]);
        return 0;
    }
}

/* KC_IRQCTL(op, irq) */
int64_t do_irqctl(struct proc *p, const uint64_t *a)
{
    if (a[0] > IRQ_ACK || a[1] >= NR_IRQS || a[1] == 0 || a[1] == 2)
        return refuse(p, a[0] > IRQ_ACK ? 1 : 2, -E_INVAL); /* 0, 2: the clock, the cascade */
    if (!((p->priv.irqs >> a[1]) & 1))
        return deny(p, 2);
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
    return 0;
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
    uint64_t pa = frame_alloc_contig(len / PAGE_SIZE);
    if (!pa)
        return -E_NOMEM;
    for (uint64_t off = 0; off < len; off += PAGE_SIZE)
        if (vm_map(p, va + off, pa + off, prot_to_pte(PROT_R | PROT_W)) < 0) {
            vm_unmap_range(p, va, off);
            for (uint64_t f = off; f < len; f += PAGE_SIZE)
                frame_free(pa + f);
            return -E_NOMEM;
        }
    copy_to_user(p, a[2], &pa, sizeof(pa));
    return 0;
}
