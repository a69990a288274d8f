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
 * The server's answer; 0 without a server. A server that died and was
 * restarted (a new endpoint from rs) is told again: it kept every process
 * it knew and takes a repeated request as done once (ipc's pm_request). A
 * server that died for good (`service down ipc`) is forgotten, as if the boot had
 * none: it checks nothing any more, so an id change need not wait for it
 * (before, every set*id and setgroups failed with EIO from then on, and
 * each fork was logged). The System V calls then fail (the kernel's error
 * for a dead server).
 */
static int64_t sysv_request(message_t *m)
{
    struct proc_info info;
    message_t copy = *m;
    if (!sysv_ep)
        return 0;
    for (int tries = 0; tries < 3; tries++) { /* rs restarts it (docs/IPC-SYSV.md, "Restarts") */
        if (ipc_sendrec(sysv_ep, m) == 0)
            return m->u.sysv.reply.result;
        if (sys_proc_info(sysv_ep, &info) == 0)
            return -LX_EIO; /* alive, but it did not answer */
        endpoint_t now = root_lookup("ipc");
        if (now <= 0 || now == sysv_ep)
            break;
        sysv_ep = now; /* a new instance, with the objects: tell it again */
        *m = copy;
    }
    printf("pm: the ipc server (endpoint %d) is gone; System V IPC is no more\n", sysv_ep);
    sysv_ep = 0;
    return 0;
}

void sysv_fork(const struct mproc *parent, const struct mproc *child)
{
    grant_id_t g =
        sysv_ep ? grant_alloc(sysv_ep, &child->cred, sizeof(child->cred), GRANT_READ) : -1;
    message_t m = {.type = SYSV_FORK,
                   .u.sysv.fork = {parent ? parent->ep : 0, child->ep, child->tgid, g}};
    if (g >= 0 && sysv_request(&m) < 0)
        printf("pm: the ipc server did not take pid %d\n", child->tgid);
    if (g >= 0)
        grant_free(g);
}

int64_t sysv_setcred(const struct mproc *mp, const struct cred *c)
{
    grant_id_t g = sysv_ep ? grant_alloc(sysv_ep, c, sizeof(*c), GRANT_READ) : -1;
    message_t m = {.type = SYSV_SETCRED, .u.sysv.setcred = {mp->ep, g}};
    if (!sysv_ep)
        return 0;
    int64_t r = g < 0 ? -LX_EAGAIN : sysv_request(&m);
    if (g >= 0)
        grant_free(g);
    return r;
}

/* SYSV_EXEC, SYSV_EXIT, SYSV_CANCEL: the server's answer (CANCEL: 1 if a wait ended). */
int64_t sysv_tell(int type, const struct mproc *mp)
{
    message_t m = {.type = type, .u.sysv.proc.ep = mp->ep};
    return sysv_request(&m);
}

int sysv_is(endpoint_t ep)
{
    return sysv_ep && ep == sysv_ep;
}
