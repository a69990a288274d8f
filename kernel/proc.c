/*
 * The process table: creation, endpoint lookup, death and reaping.
 *
 * A slot's generation grows each time it is reused, so endpoints of dead
 * incarnations stay dead. A dead process keeps its slot as a zombie until
 * its parent collects the death report with KC_PROC_REAP; everything else
 * it held (memory, IRQs, IPC partners, grants, alarm) is released at once,
 * but its DMA memory, which stays quarantined until KC_DMA_RELEASE.
 * Threads (KC_PROC_FORK with FORK_SHARE_SPACE) share one page-table root:
 * the processes whose pml4 is the same are its references, and the last
 * one's death frees it. Each counts the pages it mapped or touched (one's
 * unmapping may take from another's count: only the sum means anything).
 */
#include "kernel.h"

struct proc proc_table[NR_SLOTS];
struct proc *root_proc;

struct proc *proc_alloc(const char *name, endpoint_t parent)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct proc *p = &proc_table[i];
        if (p->in_use)
            continue;
        uint64_t pml4 = vm_new_space();
        if (!pml4)
            return 0;
        int gen = p->gen >= EP_MAX_GEN ? 1 : p->gen + 1;
        memset(p, 0, sizeof(*p));
        p->in_use = 1;
        p->slot = i;
        p->gen = gen;
        p->ep = EP_MAKE(gen, i);
        p->parent = parent;
        p->pml4 = pml4;
        p->flags = PS_STOPPED;
        p->priority = NR_PRIO / 2;
        p->sendto = p->getfrom = NONE;
        for (int n = 0; n < PROC_NAME_LEN - 1 && name[n]; n++)
            p->name[n] = name[n];
        /* Default privileges: exit and read the clocks, nothing else. */
        p->priv.kcalls = KC_BIT(KC_EXIT) | KC_BIT(KC_UPTIME) | KC_BIT(KC_TSC) | KC_BIT(KC_BOOTTIME);
        p->regs.cs = SEL_UCODE;
        p->regs.ss = SEL_UDATA;
        p->regs.rflags = 0x202; /* IF */
        fpu_forget(p->fpu);
        return p;
    }
    return 0;
}

/* 0 and *out for a live process; -E_SRCH for garbage; -E_DEADEP for dead. */
int ep_lookup(endpoint_t ep, struct proc **out)
{
    if (ep <= 0 || EP_GEN(ep) == 0 || EP_GEN(ep) > EP_MAX_GEN)
        return -E_SRCH;
    struct proc *p = &proc_table[EP_SLOT(ep)];
    if (EP_GEN(ep) > p->gen)
        return -E_SRCH;
    if (!p->in_use || p->gen != EP_GEN(ep) || (p->flags & PS_ZOMBIE))
        return -E_DEADEP;
    *out = p;
    return 0;
}

void proc_start(struct proc *p, uint64_t rip, uint64_t rsp, uint64_t arg, int prio)
{
    p->regs.rip = rip;
    p->regs.rsp = rsp;
    p->regs.rdi = arg;
    p->regs.rsi = (uint64_t)p->ep; /* so it need not ask who it is */
    p->regs.rdx = (uint64_t)p->parent;
    p->priority = prio;
    p->quantum = QUANTUM_TICKS;
    proc_unblock(p, PS_STOPPED);
}

/* Another live process in p's address space (KC_PROC_FORK's FORK_SHARE_SPACE: a thread), or 0. */
struct proc *space_sharer(const struct proc *p)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if (proc_table[i].in_use && &proc_table[i] != p && proc_table[i].pml4 == p->pml4)
            return &proc_table[i];
    return 0;
}

/* The pages of p's address space: each process of it counts those it mapped or touched. */
uint64_t space_pages(const struct proc *p)
{
    uint64_t n = 0;
    for (int i = 0; i < NR_SLOTS && p->pml4; i++)
        if (proc_table[i].in_use && proc_table[i].pml4 == p->pml4)
            n += proc_table[i].pages;
    return n;
}

void proc_die(struct proc *p, int cause, int64_t code, uint64_t addr, uint64_t err)
{
    if (p == root_proc)
        panic("the root server died (cause %d, code %ld, addr %lx, rip %lx); "
              "nothing is left to restart services",
              cause, code, addr, p->regs.rip);
    proc_block(p, PS_ZOMBIE);
    p->flags = PS_ZOMBIE; /* no longer sending, receiving or stopped */
    p->death = (struct death_info){
        .ep = p->ep, .cause = cause, .code = code, .addr = addr, .rip = p->regs.rip, .err = err};
    ipc_cleanup(p);
    irq_release_all(p);
    fork_abandon(p);
    struct proc *heir = space_sharer(p);
    if (heir)
        heir->pages += p->pages; /* the space lives on in its other threads */
    else
        vm_free_space(p->pml4);
    p->pml4 = 0;
    p->pages = 0;
    p->alarm_at = p->ipc_deadline = 0;
    p->grant_table = p->grant_count = 0;
    fpu_forget(p->fpu);

    /* Orphans go to root; root also inherits zombies it must reap. */
    int orphan_zombies = 0;
    for (int i = 0; i < NR_SLOTS; i++) {
        struct proc *c = &proc_table[i];
        if (c->in_use && c != p && c->parent == p->ep) {
            c->parent = root_proc->ep;
            orphan_zombies |= (c->flags & PS_ZOMBIE) != 0;
        }
    }
    if (orphan_zombies)
        notify_from_kernel(root_proc, SYSTEM, NOTIFY_CHILD);
    struct proc *parent;
    if (ep_lookup(p->parent, &parent) < 0) {
        p->parent = root_proc->ep;
        parent = root_proc;
    }
    notify_from_kernel(parent, SYSTEM, NOTIFY_CHILD);
}

int proc_reap(struct proc *parent, struct death_info *out)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct proc *c = &proc_table[i];
        if (c->in_use && (c->flags & PS_ZOMBIE) && c->parent == parent->ep) {
            *out = c->death;
            c->in_use = 0;
            return 0;
        }
        if (c->in_use && c->fault_held && c->parent == parent->ep) {
            *out = c->death; /* FAULT_HELD: it stays, held */
            c->fault_held = 0;
            return 0;
        }
    }
    return -E_CHILD;
}
