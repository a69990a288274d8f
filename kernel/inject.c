/*
 * Fault injection (issue 14), only when the kernel command line says inject=1: without it
 * KC_INJECT is refused and counted like any call outside a manifest. The kernel only reads
 * and writes a service's memory and sets one-shot flags; which faults, where and how many is
 * rs's choice (servers/root/inject.c, `service inject`). No manifest names the call: root
 * alone, which has every call, may make it.
 *
 * A write goes through the kernel's direct map, so read-only text can be corrupted; a page
 * shared with other mappings (a text page shared with root's view of the boot module, which
 * every new instance maps too, or a fork's copy-on-write page) is first made the target's own
 * copy (vm_private_frame), so that the fault dies with the instance.
 */
#include "kernel.h"

static int inject_enabled; /* inject=1 on the command line */

/* The Multiboot command line: inject=1 as a word of its own enables fault injection. */
void inject_boot_option(const char *cmdline)
{
    uint64_t n = strlen(cmdline);
    for (uint64_t i = 0; i + 8 <= n; i++)
        if (!memcmp(cmdline + i, "inject=1", 8) && (i == 0 || cmdline[i - 1] == ' ') &&
            (cmdline[i + 8] == ' ' || cmdline[i + 8] == '\0'))
            inject_enabled = 1;
    if (inject_enabled)
        kprintf("kernel: fault injection enabled (inject=1)\n");
}

/* KC_INJECT(ep, op, addr, value, len): see samsara/kcall.h. */
int64_t do_inject(struct proc *p, const uint64_t *a)
{
    struct proc *t;
    uint64_t addr = a[2], value = a[3], len = a[4], pa;
    if (!inject_enabled)
        return deny(p, 0);
    if (ep_lookup((endpoint_t)a[0], &t) < 0 || t == p || t == root_proc || (t->flags & PS_ZOMBIE))
        return refuse(p, 1, -E_SRCH);
    switch (a[1]) {
    case INJECT_PEEK:
        if ((addr & 7) || !(pa = vm_private_frame(t, addr, 0)))
            return refuse(p, 3, -E_FAULT);
        return copy_to_user(p, value, (uint8_t *)P2V(pa) + (addr & (PAGE_SIZE - 1)), 8) < 0
                   ? refuse(p, 4, -E_FAULT)
                   : 0;
    case INJECT_POKE:
        if (len < 1 || len > 8 || (addr & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
            return refuse(p, 5, -E_INVAL);
        if (!(pa = vm_private_frame(t, addr, 1)))
            return refuse(p, 3, -E_FAULT);
        memcpy((uint8_t *)P2V(pa) + (addr & (PAGE_SIZE - 1)), &value, len);
        return 0;
    case INJECT_FLAGS:
        if (value & ~(uint64_t)(INJECT_GARBAGE | INJECT_DENIED))
            return refuse(p, 4, -E_INVAL);
        t->inject = (uint32_t)value;
        return 0;
    }
    return refuse(p, 2, -E_INVAL);
}

/* The message p sends, m, when a fault asked for garbage and m answers a dependent (ipc.c
 * msg_fetch: no request, nothing to rs, whose heartbeat answer would only hide the fault): a
 * copy in p->msg whose body is scrambled (type and source stay: the receiver takes it for p's
 * answer, and must refuse it). */
const message_t *inject_garbage(struct proc *p, const message_t *m)
{
    uint64_t x = rdtsc() | 1, body[sizeof(m->u) / 8];
    p->inject &= ~(uint32_t)INJECT_GARBAGE;
    p->msg = *m;
    memcpy(body, &p->msg.u, sizeof(body));
    for (uint64_t i = 0; i < sizeof(body) / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        body[i] ^= x;
    }
    memcpy(&p->msg.u, body, sizeof(body));
    return &p->msg;
}

/* The kernel call p makes next when a fault asked for a denied one: the first (not IPC) call
 * its mask lacks, or n itself if it lacks none. */
uint64_t inject_denied_call(struct proc *p, uint64_t n)
{
    p->inject &= ~(uint32_t)INJECT_DENIED;
    for (uint64_t c = 0; c < NR_KCALLS; c++)
        if (!(KC_BIT(c) & KC_IPC_MASK) && !(p->priv.kcalls & KC_BIT(c)))
            return c;
    return n;
}
