/*
 * Kernel calls for process and memory control, used by privileged servers
 * (root now; pm and rs later) to build processes in user space: create an
 * empty stopped process, give it memory, copy its program in, start it.
 */
#include <samsara/linux.h>
#include "kernel.h"

/* Resolve an endpoint argument, SELF meaning the caller. */
static int lookup(struct proc *p, uint64_t ep, struct proc **out)
{
    if ((endpoint_t)ep == SELF) {
        *out = p;
        return 0;
    }
    return ep_lookup((endpoint_t)ep, out);
}

/*
 * The target of a control call: the caller itself, one of its children,
 * a Linux process for a PRIV_USERS server, or, for a PRIV_ROOT caller,
 * anyone. Root is nobody's child, so no other process can reach it. A
 * refusal is a denial.
 */
static int target(struct proc *p, uint64_t ep, int arg, struct proc **out)
{
    int r = lookup(p, ep, out);
    if (r < 0)
        return (int)refuse(p, arg, r);
    if (*out == p || (*out)->parent == p->ep || ((p->priv.flags & PRIV_USERS) && (*out)->user) ||
        ((p->priv.flags & PRIV_ROOT) && *out != root_proc))
        return 0;
    return (int)deny(p, arg);
}

static int page_range_ok(uint64_t va, uint64_t len)
{
    return !(va & (PAGE_SIZE - 1)) && !(len & (PAGE_SIZE - 1)) && len && user_range_ok(va, len);
}

/* Which of (ep, va, len) is wrong when page_range_ok(va, len) fails (2: va, 3: len); 0 if none. */
static int range_arg(uint64_t va, uint64_t len)
{
    return page_range_ok(va, len) ? 0 : (va & (PAGE_SIZE - 1)) || va >= USER_TOP ? 2 : 3;
}

/* A process name from user memory: up to PROC_NAME_LEN - 1 bytes, NUL-terminated here. */
static int copy_name(struct proc *p, uint64_t uname, char name[PROC_NAME_LEN])
{
    memset(name, 0, PROC_NAME_LEN);
    return copy_from_user(p, uname, name, PROC_NAME_LEN - 1) < 0 ? (int)refuse(p, 2, -E_FAULT) : 0;
}

/* KC_PROC_CREATE(parent|SELF, name*) -> endpoint of a new stopped process */
int64_t do_proc_create(struct proc *p, const uint64_t *a)
{
    struct proc *parent, *c;
    char name[PROC_NAME_LEN];
    int r = target(p, a[0], 1, &parent);
    if (r < 0)
        return r;
    if (copy_name(p, a[1], name) < 0)
        return -E_FAULT; /* traced by copy_name */
    if (!(c = proc_alloc(name, parent->ep)))
        return -E_AGAIN;
    c->user = (p->priv.flags & PRIV_USERS) != 0;
    return c->ep;
}

/* KC_PROC_START(ep, rip, rsp, arg, priority) */
int64_t do_proc_start(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (!(t->flags & PS_STOPPED) || a[1] >= USER_TOP || a[2] >= USER_TOP || a[4] >= NR_PRIO)
        return refuse(p,
                      !(t->flags & PS_STOPPED) ? 1
                      : a[1] >= USER_TOP       ? 2
                      : a[2] >= USER_TOP       ? 3
                                               : 5,
                      -E_INVAL);
    if (a[1] == 0) { /* resume: keep the registers it has (after KC_PROC_FORK) */
        t->priority = (int)a[4];
        t->quantum = QUANTUM_TICKS;
        proc_unblock(t, PS_STOPPED);
    } else {
        proc_start(t, a[1], a[2], a[3], (int)a[4]);
    }
    return 0;
}

/* KC_PROC_KILL(ep): the victim dies with DEATH_KILLED; its parent hears of it. */
int64_t do_proc_kill(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (t == root_proc)
        return deny(p, 1);
    if (t != p && !space_sharer(t) && (proc_block(t, PS_HELD), vm_free_part(t)))
        return KC_RESTART; /* the last of its space: held while its memory goes, in parts */
    proc_die(t, DEATH_KILLED, p->ep, 0, 0);
    return 0;
}

/* KC_PROC_ADOPT(ep): a Linux process that root inherited becomes the PRIV_USERS caller's child. */
int64_t do_proc_adopt(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = lookup(p, a[0], &t);
    if (r < 0)
        return refuse(p, 1, r);
    if (!(p->priv.flags & PRIV_USERS) || !t->user || t->parent != root_proc->ep)
        return deny(p, 1);
    t->parent = p->ep;
    if (t->flags & PS_ZOMBIE || t->fault_held)
        notify_from_kernel(p, SYSTEM, NOTIFY_CHILD);
    return 0;
}

/* KC_PROC_HOLD(ep, on): hold ep off the CPU or let it go (not while a fault is unreported). */
int64_t do_proc_hold(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (t == p || a[1] > 1)
        return refuse(p, t == p ? 1 : 2, -E_INVAL);
    if (a[1])
        proc_block(t, PS_HELD);
    else if (!t->fault_held)
        proc_unblock(t, PS_HELD);
    return 0;
}

/* KC_PROC_INFO(ep|SELF, info*) */
int64_t do_proc_info(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = lookup(p, a[0], &t);
    if (r < 0)
        return refuse(p, 1, r);
    struct proc_info i = {.ep = t->ep,
                          .parent = t->parent,
                          .state = t->flags,
                          .priority = (uint32_t)t->priority,
                          .denied = t->denied,
                          .pages = space_pages(t),
                          .ticks = t->ticks,
                          .waits_for = t->flags & PS_SENDING                          ? t->sendto
                                       : t->flags & PS_RECEIVING && t->awaiting_reply ? t->getfrom
                                                                                      : NONE};
    memcpy(i.name, t->name, PROC_NAME_LEN);
    return copy_to_user(p, a[1], &i, sizeof(i));
}

/* KC_PROC_REAP(death_info*): the report of one dead child, or E_CHILD. */
int64_t do_proc_reap(struct proc *p, const uint64_t *a)
{
    struct death_info d;
    if (copy_to_user(p, a[0], &(struct death_info){0}, sizeof(d)) < 0)
        return refuse(p, 1, -E_FAULT);
    int r = proc_reap(p, &d);
    if (r < 0)
        return r;
    copy_to_user(p, a[0], &d, sizeof(d));
    return d.ep;
}

/* KC_MEM_MAP(ep|SELF, vaddr, len, prot, src, srclen): all or nothing. */
int64_t do_mem_map(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    int lazy = (a[3] & MEM_LAZY) != 0;
    if (!page_range_ok(a[1], a[2]) || (a[3] & ~(uint64_t)(PROT_R | PROT_W | PROT_X | MEM_LAZY)) ||
        a[5] > a[2] || (lazy && a[5]))
        return refuse(p, range_arg(a[1], a[2]) ? range_arg(a[1], a[2]) : a[5] ? 6 : 4, -E_INVAL);
    if (!lazy && ((t->priv.max_pages && t->pages + a[2] / PAGE_SIZE > t->priv.max_pages) ||
                  a[2] / PAGE_SIZE > frame_free_count()))
        return -E_NOMEM;
    if (!vm_range_free(t, a[1], a[2]))
        return -E_BUSY;
    if (lazy)
        return vm_lazy_range(t, a[1], a[2], prot_to_pte(a[3]), 2);
    return vm_alloc_fill(t, a[1], a[2], prot_to_pte(a[3]), p, a[4], a[5]);
}

/* KC_MEM_UNMAP(ep|SELF, vaddr, len) */
int64_t do_mem_unmap(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (!page_range_ok(a[1], a[2]))
        return refuse(p, range_arg(a[1], a[2]), -E_INVAL);
    return (r = vm_unmap_part(t, a[1], a[2])) > 0 ? KC_RESTART : r; /* in parts: interruptible */
}

/* KC_MEM_SHARE(ep, vaddr, len, prot, src): the caller's pages at src also at vaddr in ep. */
int64_t do_mem_share(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (t == p)
        return refuse(p, 1, -E_INVAL);
    if (!page_range_ok(a[1], a[2]) || (a[3] & ~(uint64_t)(PROT_R | PROT_W | PROT_X)) ||
        !page_range_ok(a[4], a[2]))
        return refuse(p,
                      range_arg(a[1], a[2]) ? range_arg(a[1], a[2])
                      : a[3] > 7            ? 4
                                            : 5,
                      -E_INVAL);
    if (a[2] / PAGE_SIZE > p->pages) /* more than it owns: cannot all be its own pages */
        return refuse(p, 5, -E_FAULT);
    if (t->priv.max_pages && t->pages + a[2] / PAGE_SIZE > t->priv.max_pages)
        return -E_NOMEM;
    if (!vm_range_free(t, a[1], a[2]))
        return -E_BUSY;
    r = vm_share_range(p, a[4], t, a[1], a[2], prot_to_pte(a[3]));
    return r == -E_FAULT ? refuse(p, 5, r) : r;
}

/* KC_MEM_MOVE(ep|SELF, from, to, len): both ranges pages of user space, apart; to free. */
int64_t do_mem_move(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (!page_range_ok(a[1], a[3]) || !page_range_ok(a[2], a[3]))
        return refuse(p, page_range_ok(a[1], a[3]) ? 3 : 2, -E_INVAL);
    if (a[1] < a[2] + a[3] && a[2] < a[1] + a[3])
        return refuse(p, 3, -E_INVAL); /* they overlap */
    if (!vm_range_free(t, a[2], a[3]))
        return -E_BUSY;
    return vm_move_range(t, a[1], a[2], a[3]);
}

/* KC_VCOPY(src_ep, src, dst_ep, dst, len): privileged copy between any two. */
int64_t do_vcopy(struct proc *p, const uint64_t *a)
{
    struct proc *s, *d;
    int r = target(p, a[0], 1, &s);
    if (r < 0 || (r = target(p, a[2], 3, &d)) < 0)
        return r;
    return copy_between(s, a[1], d, a[3], a[4]);
}

/* The copy p's KC_PROC_FORK was making goes: a stopped process that never ran, nothing else. */
void fork_abandon(struct proc *p)
{
    struct proc *c;
    if (p->fork_copy && ep_lookup(p->fork_copy, &c) == 0 && c->parent == p->ep) {
        vm_free_space(c->pml4);
        c->in_use = 0;
    }
    p->fork_copy = 0;
}

/*
 * KC_PROC_FORK(ep, flags): a stopped copy of ep whose parent is the caller; all or nothing.
 * FORK_SHARE_SPACE: the copy runs in ep's address space (a thread; proc_die frees a space with
 * the last process in it). A big space is copied in parts (vm_copy_space), the call restarting
 * after each (KC_RESTART) with its state in p->fork_*; a restart for another source, or one
 * that never comes because the caller died, drops the part-made copy.
 */
int64_t do_proc_fork(struct proc *p, const uint64_t *a)
{
    struct proc *src, *c = 0;
    int r = target(p, a[0], 1, &src);
    if (p->fork_copy &&
        (r < 0 || a[1] || src->ep != p->fork_src || ep_lookup(p->fork_copy, &c) < 0))
        fork_abandon(p);
    if (r < 0)
        return r;
    if (src->pml4 == p->pml4 || (a[1] & ~(uint64_t)FORK_SHARE_SPACE))
        return refuse(p, src->pml4 == p->pml4 ? 1 : 2, -E_INVAL);
    if (!p->fork_copy) {
        if (!a[1] && src->pages / 512 > frame_free_count()) /* COW: frames for its tables only */
            return -E_NOMEM;
        if (!(c = proc_alloc(src->name, p->ep)))
            return -E_AGAIN;
        p->fork_copy = c->ep, p->fork_src = src->ep, p->fork_at = 0;
    }
    if (a[1]) {
        vm_free_space(c->pml4);
        c->pml4 = src->pml4;
    } else if ((r = vm_copy_space(src, c, &p->fork_at)) != 0) {
        if (r > 0)
            return KC_RESTART;
        fork_abandon(p);
        return -E_NOMEM;
    }
    p->fork_copy = 0;
    c->regs = src->regs;
    c->regs.rax = 0;
    fpu_sync(src->fpu);
    memcpy(c->fpu, src->fpu, sizeof(c->fpu));
    c->fs_base = src->fs_base;
    c->priv = src->priv;
    c->user = src->user;
    c->priority = src->priority;
    return c->ep;
}

#define USER_RFLAGS 0x0cd5ull /* CF PF AF ZF SF DF OF: what a user may set */

/* KC_PROC_REGS(ep, REGS_GET|REGS_SET|REGS_INTERRUPT, user_regs*) or (ep, REGS_FPU_*, image*) */
int64_t do_proc_regs(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    struct user_regs u;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    struct regs *g = &t->regs;
    if (a[1] == REGS_GET) {
        u = (struct user_regs){g->rax, g->rbx, g->rcx, g->rdx,    g->rsi,    g->rdi, g->rbp,
                               g->rsp, g->r8,  g->r9,  g->r10,    g->r11,    g->r12, g->r13,
                               g->r14, g->r15, g->rip, g->rflags, t->fs_base};
        return copy_to_user(p, a[2], &u, sizeof(u));
    }
    if (a[1] == REGS_INTERRUPT)
        return ipc_interrupt(t, p, a[2]);
    if (a[1] == REGS_FPU_GET) {
        fpu_sync(t->fpu);
        return copy_to_user(p, a[2], t->fpu, sizeof(t->fpu));
    }
    if (a[1] == REGS_FPU_SET) {
        if (t == p)
            return refuse(p, 1, -E_INVAL);
        uint8_t image[sizeof(t->fpu)] __attribute__((aligned(16)));
        if (copy_from_user(p, a[2], image, sizeof(image)) < 0)
            return refuse(p, 3, -E_FAULT);
        *(uint32_t *)(image + 24) &= 0xffff;  /* MXCSR: reserved bits would fault fxrstor */
        fpu_forget(t->fpu);                   /* not live in the FPU any more ... */
        memcpy(t->fpu, image, sizeof(image)); /* ... its next use loads this */
        return 0;
    }
    if (a[1] != REGS_SET || t == p)
        return refuse(p, t == p ? 1 : 2, -E_INVAL);
    if (copy_from_user(p, a[2], &u, sizeof(u)) < 0)
        return refuse(p, 3, -E_FAULT);
    if (u.rip >= USER_TOP || u.rsp >= USER_TOP || u.fs_base >= USER_TOP)
        return refuse(p, 3, -E_INVAL);
    g->rax = u.rax, g->rbx = u.rbx, g->rcx = u.rcx, g->rdx = u.rdx, g->rsi = u.rsi;
    g->rdi = u.rdi, g->rbp = u.rbp, g->rsp = u.rsp, g->r8 = u.r8, g->r9 = u.r9;
    g->r10 = u.r10, g->r11 = u.r11, g->r12 = u.r12, g->r13 = u.r13, g->r14 = u.r14;
    g->r15 = u.r15, g->rip = u.rip;
    g->rflags = (u.rflags & USER_RFLAGS) | 0x202;
    t->fs_base = u.fs_base;
    return 0;
}

/* KC_MEM_PROTECT(ep, vaddr, len, prot): new protection for the mapped pages in the range. */
int64_t do_mem_protect(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (!page_range_ok(a[1], a[2]) || (a[3] & ~(uint64_t)(PROT_R | PROT_W | PROT_X)))
        return refuse(p, range_arg(a[1], a[2]) ? range_arg(a[1], a[2]) : 4, -E_INVAL);
    return vm_protect_range(t, a[1], a[2], a[3] ? prot_to_pte(a[3]) : (PTE_P | PTE_NX));
}

/* KC_PROC_NAME(ep|SELF, name*): pm names a Linux process after its program at exec. */
int64_t do_proc_name(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    char name[PROC_NAME_LEN];
    int r = target(p, a[0], 1, &t);
    if (r < 0)
        return r;
    if (copy_name(p, a[1], name) < 0)
        return -E_FAULT; /* traced by copy_name */
    memcpy(t->name, name, PROC_NAME_LEN);
    return 0;
}
