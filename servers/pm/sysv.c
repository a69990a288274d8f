/*
 * What pm tells the System V IPC server (servers/ipc, samsara/sysv.h) so
 * that it knows its callers from pm, never from their own messages: each
 * new process with its pid and ids, every change of ids, exec, exit, and a
 * signal that must end a wait there. The server answers each at once and
 * never calls pm. Without the server (a boot that leaves it out) these do
 * nothing, and the kernel sends the System V calls to pm (-ENOSYS).
 */
#include <samsara/root.h>
#include <samsara/sysv.h>
#include "pm.h"

static endpoint_t sysv_ep;

void sysv_init(void)
{
    endpoint_t ep = root_lookup("ipc");
    sysv_ep = ep > 0 ? ep : 0;
}

/*
 * The server's answer; 0 without a server. c (or 0): credentials lent to
 * it for the request (SYSV_FORK, SYSV_SETCRED), by a grant made for each
 * endpoint tried (-LX_EAGAIN if none can be made). A server that died and
 * was restarted (a new endpoint from rs) is told again: it kept every
 * process it knew and takes a repeated request as done once (ipc's
 * pm_request). A server that died for good (`service down ipc`) is
 * forgotten, as if the boot had none: it checks nothing any more, so an id
 * change need not wait for it (before, every set*id and setgroups failed
 * with EIO from then on, and each fork was logged). The System V calls then
 * fail (the kernel's error for a dead server).
 */
static int64_t sysv_request(message_t *m, const struct cred *c)
{
    struct proc_info info;
    message_t copy = *m;
    for (int tries = 0; sysv_ep && tries < 3; tries++) { /* docs/IPC-SYSV.md, section 8 */
        grant_id_t g = c ? grant_alloc(sysv_ep, c, sizeof(*c), GRANT_READ) : -1;
        if (c && g < 0)
            return -LX_EAGAIN;
        if (m->type == SYSV_FORK)
            m->u.sysv.fork.grant = g;
        else if (m->type == SYSV_SETCRED)
            m->u.sysv.setcred.grant = g;
        int r = ipc_sendrec(sysv_ep, m);
        if (g >= 0)
            grant_free(g);
        if (r == 0)
            return m->u.sysv.reply.result;
        if (sys_proc_info(sysv_ep, &info) == 0)
            return -LX_EIO; /* alive, but it did not answer */
        endpoint_t now = root_lookup("ipc");
        if (now <= 0 || now == sysv_ep)
            break;
        sysv_ep = now; /* a new instance, with the objects: tell it again */
        *m = copy;
    }
    if (sysv_ep)
        printf("pm: the ipc server (endpoint %d) is gone; System V IPC is no more\n", sysv_ep);
    sysv_ep = 0;
    return 0;
}

void sysv_fork(const struct mproc *parent, const struct mproc *child)
{
    message_t m = {.type = SYSV_FORK,
                   .u.sysv.fork = {parent ? parent->ep : 0, child->ep, child->tgid, -1}};
    if (sysv_request(&m, &child->cred) < 0)
        printf("pm: the ipc server did not take pid %d\n", child->tgid);
}

int64_t sysv_setcred(const struct mproc *mp, const struct cred *c)
{
    message_t m = {.type = SYSV_SETCRED, .u.sysv.setcred = {mp->ep, -1}};
    return sysv_request(&m, c);
}

/* SYSV_EXEC, SYSV_EXIT, SYSV_CANCEL: the server's answer (CANCEL: 1 if a wait ended). */
int64_t sysv_tell(int type, const struct mproc *mp)
{
    message_t m = {.type = type, .u.sysv.proc.ep = mp->ep};
    return sysv_request(&m, 0);
}

int sysv_is(endpoint_t ep)
{
    return sysv_ep && ep == sysv_ep;
}
