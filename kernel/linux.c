/*
 * The Linux system-call interface: the kernel implements none of POSIX.
 * A `syscall` with a Linux number becomes a MSG_LINUX_CALL message from the
 * caller to the server that owns the call, by the table below (vfs for
 * descriptors, files and sockets, the System V IPC server for its calls when
 * there is one, pm for everything else, including numbers nobody
 * implements, which pm logs once by name and answers with -ENOSYS). The
 * caller waits as in sendrec; the server's reply puts its result (the first word) in rax.
 * Root names the servers with KC_LINUX_SERVERS, which builds the table.
 * A caller of a pm or vfs that dies is held (linux_hold), and its `syscall`
 * runs again once root names the next one; LX_AGAIN marks a call the dead one had.
 */
#include <samsara/linux.h>
#include <samsara/linux_sysv.h>
#include <samsara/linux_vfs.h>
#include "kernel.h"

enum { TO_PM, TO_VFS, TO_SYSV };

#define CALL_NUMBER(name) LX_##name,
static const uint16_t vfs_calls[] = {LINUX_VFS_CALLS(CALL_NUMBER)};
static const uint16_t sysv_calls[] = {LINUX_SYSV_CALLS(CALL_NUMBER)};

static uint8_t owner[2 * LX_NR_MAX]; /* TO_PM, TO_VFS or TO_SYSV; also | LX_AGAIN */
static endpoint_t server[3] = {NONE, NONE, NONE};

/* KC_LINUX_SERVERS(pm, vfs, sysv or 0): root only; builds the routing table. */
int64_t do_linux_servers(struct proc *p, const uint64_t *a)
{
    struct proc *pm, *vfs, *sysv = 0;
    if (!(p->priv.flags & PRIV_ROOT))
        return deny(p, 0);
    if (ep_lookup((endpoint_t)a[0], &pm) < 0)
        return refuse(p, 1, -E_SRCH);
    if (ep_lookup((endpoint_t)a[1], &vfs) < 0)
        return refuse(p, 2, -E_SRCH);
    if (a[2] && ep_lookup((endpoint_t)a[2], &sysv) < 0)
        return refuse(p, 3, -E_SRCH);
    for (size_t i = 0; i < sizeof(vfs_calls) / sizeof(vfs_calls[0]); i++)
        owner[vfs_calls[i]] = owner[vfs_calls[i] | LX_AGAIN] = TO_VFS;
    for (size_t i = 0; i < sizeof(sysv_calls) / sizeof(sysv_calls[0]); i++)
        owner[sysv_calls[i]] = sysv ? TO_SYSV : TO_PM;
    server[TO_PM] = pm->ep;
    server[TO_VFS] = vfs->ep;
    server[TO_SYSV] = sysv ? sysv->ep : NONE;
    ipc_resend_held();
    return 0;
}

/* A Linux call whose server died: EINTR from the System V server (its calls may wait, and
 * programs retry them; docs/IPC-SYSV.md, "Restarts"), EIO from pm or vfs. */
int64_t linux_orphaned(endpoint_t dead)
{
    return dead == server[TO_SYSV] ? -LINUX_EINTR : -LINUX_EIO;
}

/*
 * p's call to dead (it had it if received) waits up to 3 s for the next pm or
 * vfs, blocked sending to nobody: 1, or 0 if dead is the System V server.
 */
int linux_hold(struct proc *p, endpoint_t dead, int received)
{
    if (dead == server[TO_SYSV] || !p->user)
        return 0;
    p->regs.rax |= received ? LX_AGAIN : 0;
    p->lx_again = received;
    p->linux_call = 1;
    p->getfrom = p->sendto = NONE;
    p->awaiting_reply = p->in_sendrec = 0;
    proc_block(p, PS_SENDING);
    p->flags &= ~PS_RECEIVING;
    timer_wake_at(p->ipc_deadline = clock_ticks() + 3 * HZ);
    return 1;
}

/* The server that owns Linux call nr (NONE until root names them). */
static endpoint_t server_of(uint64_t nr)
{
    return server[nr < 2 * LX_NR_MAX ? owner[nr] : TO_PM];
}

/* From syscall_entry before trap(): the call handed to its server if it waits (ipc.c). */
void linux_fastpath(void)
{
    if (!(current->regs.rax & LX_AGAIN)) /* a marked call: linux_syscall checks the mark */
        ipc_linux_fastpath(current, server_of(current->regs.rax));
}

void linux_syscall(struct proc *p)
{
    struct regs *r = &p->regs;
    uint64_t nr = r->rax;
    int again = p->lx_again; /* only the kernel marks a call LX_AGAIN: a program's is unknown */
    endpoint_t to = (nr & LX_AGAIN) && nr < 2 * LX_NR_MAX && !again ? NONE : server_of(nr);
    p->lx_again = 0;
    message_t m = {.type = MSG_LINUX_CALL,
                   .u.lx = {nr, {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9}}};
    int64_t result = to == NONE ? -LX_ENOSYS : ipc_linux_call(p, to, &m);
    if (result != KC_BLOCKED)
        r->rax = (uint64_t)result;
}
