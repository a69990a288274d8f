/*
 * Privilege checks and the denial trace. Every refused operation is
 * counted for the process and recorded (who, what, arguments, when) in a
 * ring buffer that a process with KC_TRACE_READ reads; the root server is
 * notified when a process's count reaches 1, 2, 4, 8, ...
 */
#include "kernel.h"

#define TRACE_SIZE 1024

static struct trace_entry trace_ring[TRACE_SIZE];
static uint64_t trace_seq; /* sequence number of the next entry */

/* An entry for p's current kernel call: its number and first two arguments, then `third`. */
static void trace_add(struct proc *p, int arg, int64_t err, uint64_t third)
{
    struct trace_entry *e = &trace_ring[trace_seq % TRACE_SIZE];
    *e = (struct trace_entry){.seq = trace_seq,
                              .tsc = rdtsc(),
                              .ticks = ticks,
                              .ep = p->ep,
                              .err = (int32_t)err,
                              .op = (uint32_t)(p->regs.rax - KCALL_BASE),
                              .arg = (uint32_t)arg,
                              .args = {p->regs.rdi, p->regs.rsi, third}};
    trace_seq++;
}

/*
 * p's current kernel call (number and first three arguments from its
 * registers) is refused with err because of argument `arg` (1-6; 0: the
 * call itself): a trace entry, and err back.
 */
int64_t refuse(struct proc *p, int arg, int64_t err)
{
    trace_add(p, arg, err, p->regs.rdx);
    return err;
}

/* A device operation done for p, if it is traced: err 0, `third` the value read or the address. */
void trace_device(struct proc *p, uint64_t third)
{
    if (p->traced)
        trace_add(p, 0, 0, third);
}

/* A refusal for lack of privilege: traced, counted, and rs told at 1, 2, 4, ... */
int64_t deny(struct proc *p, int arg)
{
    p->denied++;
    refuse(p, arg, -E_PERM);
    if (root_proc && p != root_proc && (p->denied & (p->denied - 1)) == 0)
        notify_from_kernel(root_proc, SYSTEM, NOTIFY_DENIED);
    return -E_PERM;
}

uint64_t trace_next_seq(void)
{
    return trace_seq;
}

/* Copy entries with seq >= first (those still in the ring) to buf. */
int64_t trace_read(struct proc *p, uint64_t first, uint64_t buf, uint64_t max)
{
    uint64_t oldest = trace_seq > TRACE_SIZE ? trace_seq - TRACE_SIZE : 0;
    if (first < oldest)
        first = oldest;
    if (max > TRACE_SIZE)
        max = TRACE_SIZE;
    if (first >= trace_seq) /* nothing new; first + n below cannot wrap */
        return 0;
    if (!user_range_mapped(p, buf, max * sizeof(struct trace_entry), 1))
        return refuse(p, 2, -E_FAULT);
    uint64_t n = 0;
    for (; first + n < trace_seq && n < max; n++)
        if (copy_to_user(p, buf + n * sizeof(struct trace_entry),
                         &trace_ring[(first + n) % TRACE_SIZE], sizeof(struct trace_entry)) < 0)
            return -E_FAULT;
    return (int64_t)n;
}

/* KC_PRIV_SET(ep, priv*): only a PRIV_ROOT process; the structure is checked whole. */
int64_t do_priv_set(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    struct priv v;
    if (!(p->priv.flags & PRIV_ROOT))
        return deny(p, 0);
    int r = ep_lookup((endpoint_t)a[0], &t);
    if (r < 0)
        return refuse(p, 1, r);
    if (copy_from_user(p, a[1], &v, sizeof(v)) < 0)
        return refuse(p, 2, -E_FAULT);
    if (v.nr_io > PRIV_MAX_IO || v.nr_mem > PRIV_MAX_MEM || (v.irqs >> NR_IRQS) ||
        (v.flags & ~(uint32_t)(PRIV_ROOT | PRIV_IPC_ALL | PRIV_USERS)) || (v.kcalls >> NR_KCALLS))
        return refuse(p, 2, -E_INVAL);
    for (uint32_t i = 0; i < v.nr_io; i++)
        if (v.io[i].base > 0xffff || v.io[i].len > 0x10000 - v.io[i].base)
            return refuse(p, 2, -E_INVAL);
    for (uint32_t i = 0; i < v.nr_mem; i++)
        if (v.mem[i].base + v.mem[i].len < v.mem[i].base)
            return refuse(p, 2, -E_INVAL);
    for (int i = 0; i < NR_SLOTS; i++) /* no right to a free or dead slot (see ipc_cleanup) */
        if (!proc_table[i].in_use || (proc_table[i].flags & PS_ZOMBIE))
            v.ipc_to[i / 64] &= ~(1ull << (i % 64));
    t->priv = v;
    return 0;
}

/* Is [base, base+len) a range op may name (the limits in samsara/kcall.h)? Never empty. */
static int device_range_ok(uint64_t op, uint64_t base, uint64_t len)
{
    const uint64_t phys_limit = 1ull << 52, kernel_lines = (1u << 0) | (1u << 2);
    if (!len)
        return 0;
    if (op <= PRIV_DEV_IO_REMOVE)
        return base <= 0xffff && len <= 0x10000 - base;
    if (op >= PRIV_DEV_PCI_ADD)
        return base <= 0xffff && len == 1;
    if (op <= PRIV_DEV_MEM_REMOVE)
        return !((base | len) & (PAGE_SIZE - 1)) && base < phys_limit && len <= phys_limit - base &&
               (base + len <= 0x100000 || base >= nr_frames * PAGE_SIZE) && /* never RAM, */
               (!iommu_pa || base + len <= iommu_pa || base >= iommu_pa + PAGE_SIZE); /* IOMMU */
    return base < NR_IRQS && len <= NR_IRQS - base &&
           !((((1ull << len) - 1) << base) & kernel_lines);
}

/* Add [base, base+len) to a table of n ranges (already there: nothing to do), or remove it. */
static int64_t range_change(struct priv_range *table, uint32_t *n, uint32_t max, int add,
                            uint64_t base, uint64_t len)
{
    uint32_t i = 0;
    while (i < *n && (table[i].base != base || table[i].len != len))
        i++;
    if (add && i == *n && *n == max)
        return -E_NOSPC;
    if (!add && i == *n)
        return -E_RANGE;
    if (add && i == *n)
        table[(*n)++] = (struct priv_range){base, len};
    else if (!add)
        table[i] = table[--*n];
    return 0;
}

/*
 * KC_PRIV_DEVICE(ep, op, base, len): one device range of another process,
 * for whoever the manifests grant the call (rs; the pci server). Never the
 * caller's own, nor root's (it has them all). A removal takes effect at once:
 * the target's mappings of a removed memory range are unmapped (it faults if
 * it touches them), its share of a removed IRQ line is released.
 */
int64_t do_priv_device(struct proc *p, const uint64_t *a)
{
    uint64_t op = a[1], base = a[2], len = a[3];
    struct proc *t;
    int r = ep_lookup((endpoint_t)a[0], &t);
    if (r < 0)
        return refuse(p, 1, r);
    if (t == p || t == root_proc)
        return deny(p, 1);
    if (op > PRIV_DEV_TRACE || t->user)
        return refuse(p, op > PRIV_DEV_TRACE ? 2 : 1, -E_INVAL);
    if (op == PRIV_DEV_TRACE)
        return base > 1 ? refuse(p, 3, -E_INVAL) : (t->traced = (int)base, 0);
    if (!device_range_ok(op, base, len))
        return refuse(p, 3, -E_INVAL);
    struct priv *v = &t->priv;
    int add = op % 2 == 0;
    if (op >= PRIV_DEV_PCI_ADD)
        return iommu_bind(t, base, add);
    if (op <= PRIV_DEV_IO_REMOVE)
        return range_change(v->io, &v->nr_io, PRIV_MAX_IO, add, base, len);
    if (op <= PRIV_DEV_MEM_REMOVE) {
        int64_t result = range_change(v->mem, &v->nr_mem, PRIV_MAX_MEM, add, base, len);
        if (result == 0 && !add)
            vm_unmap_phys(t, base, len);
        return result;
    }
    uint32_t lines = (uint32_t)(((1ull << len) - 1) << base);
    if (!add && (v->irqs & lines) != lines)
        return -E_RANGE;
    v->irqs = add ? v->irqs | lines : v->irqs & ~lines;
    for (int irq = 0; irq < NR_IRQS && !add; irq++)
        if ((lines >> irq) & 1)
            irq_release(t, irq);
    return 0;
}

/*
 * KC_PRIV_IPC(ep, target, on): let ep send to the live process target (on
 * = 1), or no longer (0); only a PRIV_ROOT process. The right is to target's
 * slot, and the kernel takes it back when target dies (ipc_cleanup).
 */
int64_t do_priv_ipc(struct proc *p, const uint64_t *a)
{
    struct proc *t, *dst;
    if (!(p->priv.flags & PRIV_ROOT))
        return deny(p, 0);
    int r = ep_lookup((endpoint_t)a[0], &t);
    if (r < 0)
        return refuse(p, 1, r);
    if ((r = ep_lookup((endpoint_t)a[1], &dst)) < 0 || a[2] > 1)
        return refuse(p, r < 0 ? 2 : 3, r < 0 ? r : -E_INVAL);
    uint64_t bit = 1ull << (dst->slot % 64), *word = &t->priv.ipc_to[dst->slot / 64];
    *word = a[2] ? *word | bit : *word & ~bit;
    return 0;
}
