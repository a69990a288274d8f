/*
 * Kernel calls for process and memory control, used by privileged servers
 * (root now; pm and rs later) to build processes in user space: create an
 * empty stopped process, give it memory, copy its program in, start it.
 */
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
 * or, for a PRIV_ROOT caller, anyone. Root is nobody's child, so no other
 * process can reach it. A refusal is a denial.
 */
static int target(struct proc *p, uint64_t ep, uint32_t op, struct proc **out)
{
    int r = lookup(p, ep, out);
    if (r < 0)
        return r;
    if (*out == p || (*out)->parent == p->ep || ((p->priv.flags & PRIV_ROOT) && *out != root_proc))
        return 0;
    return (int)deny(p, op, ep, 0, 0);
}

static int page_range_ok(uint64_t va, uint64_t len)
{
    return !(va & (PAGE_SIZE - 1)) && !(len & (PAGE_SIZE - 1)) && len && user_range_ok(va, len);
}

/* KC_PROC_CREATE(parent|SELF, name*) -> endpoint of a new stopped process */
int64_t do_proc_create(struct proc *p, const uint64_t *a)
{
    struct proc *parent, *c;
    char name[PROC_NAME_LEN] = {0};
    int r = target(p, a[0], KC_PROC_CREATE, &parent);
    if (r < 0)
        return r;
    if (copy_from_user(p, a[1], name, PROC_NAME_LEN - 1) < 0)
        return -E_FAULT;
    if (!(c = proc_alloc(name, parent->ep)))
        return -E_AGAIN;
    return c->ep;
}

/* KC_PROC_START(ep, rip, rsp, arg, priority) */
int64_t do_proc_start(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], KC_PROC_START, &t);
    if (r < 0)
        return r;
    if (!(t->flags & PS_STOPPED) || a[1] >= USER_TOP || a[2] >= USER_TOP || a[4] >= NR_PRIO)
        return -E_INVAL;
    proc_start(t, a[1], a[2], a[3], (int)a[4]);
    return 0;
}

/* KC_PROC_KILL(ep): the victim dies with DEATH_KILLED; its parent hears of it. */
int64_t do_proc_kill(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], KC_PROC_KILL, &t);
    if (r < 0)
        return r;
    if (t == root_proc)
        return deny(p, KC_PROC_KILL, a[0], 0, 0);
    proc_die(t, DEATH_KILLED, p->ep, 0, 0);
    return 0;
}

/* KC_PROC_INFO(ep|SELF, info*) */
int64_t do_proc_info(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = lookup(p, a[0], &t);
    if (r < 0)
        return r;
    struct proc_info i = {.ep = t->ep, .parent = t->parent, .state = t->flags,
                          .priority = (uint32_t)t->priority, .denied = t->denied,
                          .pages = t->pages, .ticks = t->ticks};
    memcpy(i.name, t->name, PROC_NAME_LEN);
    return copy_to_user(p, a[1], &i, sizeof(i));
}

/* KC_PROC_REAP(death_info*): the report of one dead child, or E_CHILD. */
int64_t do_proc_reap(struct proc *p, const uint64_t *a)
{
    struct death_info d;
    if (copy_to_user(p, a[0], &(struct death_info){0}, sizeof(d)) < 0)
        return -E_FAULT;
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
    int r = target(p, a[0], KC_MEM_MAP, &t);
    if (r < 0)
        return r;
    if (!page_range_ok(a[1], a[2]) || (a[3] & ~(uint64_t)(PROT_R | PROT_W | PROT_X)) ||
        a[5] > a[2])
        return -E_INVAL;
    if ((t->priv.max_pages && t->pages + a[2] / PAGE_SIZE > t->priv.max_pages) ||
        a[2] / PAGE_SIZE > frame_free_count())
        return -E_NOMEM;
    if (!vm_range_free(t, a[1], a[2]))
        return -E_BUSY;
    return vm_alloc_fill(t, a[1], a[2], prot_to_pte(a[3]), p, a[4], a[5]);
}

/* KC_MEM_UNMAP(ep|SELF, vaddr, len) */
int64_t do_mem_unmap(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    int r = target(p, a[0], KC_MEM_UNMAP, &t);
    if (r < 0)
        return r;
    if (!page_range_ok(a[1], a[2]))
        return -E_INVAL;
    vm_unmap_range(t, a[1], a[2]);
    return 0;
}

/* KC_VCOPY(src_ep, src, dst_ep, dst, len): privileged copy between any two. */
int64_t do_vcopy(struct proc *p, const uint64_t *a)
{
    struct proc *s, *d;
    int r = target(p, a[0], KC_VCOPY, &s);
    if (r < 0 || (r = target(p, a[2], KC_VCOPY, &d)) < 0)
        return r;
    return copy_between(s, a[1], d, a[3], a[4]);
}
