/*
 * A new vfs instance (vfs restarted by rs, docs/REINCARNATION.md, "Core
 * servers: vfs and pm") knows no process: it notifies pm once it is ready,
 * and pm tells it of every live one, as VFS_PM_FORK with VFS_FORK_ADOPT
 * (pid, parent's pid; vfs takes their descriptors over from its state region, or
 * after a fresh start gives them none, cwd /, and init its console),
 * then its ids, group, session and name. Threads follow their processes
 * (VFS_FORK_THREAD: they share its view again). Zombies are not told: their
 * later VFS_PM_RELEASE names a pid the new vfs does not know, which it ignores.
 * A chrooted process (VFS_SIG_CHROOT) is killed instead, with its threads:
 * the new vfs would give it the whole tree as its root.
 */
#include <samsara/root.h>
#include "pm.h"

/* One request to the new vfs; its failure is logged, and the process goes on without. */
static void tell(message_t *m, struct mproc *mp)
{
    int64_t r;
    if (vfs_request(m, &r) < 0 || r < 0)
        printf("pm: new vfs: request %x for pid %d failed: %ld\n", (unsigned)m->type, mp->pid, r);
}

/* mp told to the new vfs: 1; killed (chrooted): 0 */
static int adopt(struct mproc *mp)
{
    static struct cred sent;
    int thread = mp->pid != mp->tgid;
    struct mproc *leader = leader_of(mp);
    if ((leader && leader->chrooted) || mp->chrooted) {
        sys_proc_kill(mp->ep); /* its death comes as any other (reap_kernel_children) */
        return 0;
    }
    if (thread && (!leader || leader == mp))
        return 1;
    message_t m = {.type = VFS_PM_FORK,
                   .u.vfs_pm.fork = {thread ? leader->ep : 0, mp->ep, mp->tgid,
                                     thread ? VFS_FORK_THREAD : VFS_FORK_ADOPT, mp->ppid}};
    tell(&m, mp);
    if (thread)
        return 1; /* its ids, group and session are its process's */
    m = (message_t){.type = VFS_PM_SETPGRP, .u.vfs_pm.setpgrp = {mp->ep, mp->pgid, mp->sid}};
    tell(&m, mp);
    m = (message_t){.type = VFS_PM_SETNAME, .u.vfs_pm.setname.ep = mp->ep};
    strncpy_s(m.u.vfs_pm.setname.name, mp->name, sizeof(m.u.vfs_pm.setname.name));
    tell(&m, mp);
    sent = mp->cred;
    grant_id_t g = grant_alloc(vfs_ep, &sent, sizeof(sent), GRANT_READ);
    if (g < 0) {
        printf("pm: new vfs: no grant for pid %d's ids\n", mp->pid);
        return 1;
    }
    m = (message_t){.type = VFS_PM_SETCRED, .u.vfs_pm.setcred = {mp->ep, g}};
    tell(&m, mp);
    grant_free(g);
    return 1;
}

/* A notification from ep, not our vfs: 1 if root names ep vfs now (and it has learned every
 * process), 0 if it is no vfs of ours. */
int vfs_restarted(endpoint_t ep)
{
    if (ep <= 0 || root_lookup("vfs") != ep)
        return 0;
    vfs_ep = ep;
    int n = 0, killed = 0;
    for (int pass = 0; pass < 2; pass++) /* processes first, then their threads */
        for (int i = 0; i < NR_MPROCS; i++) {
            struct mproc *mp = &mprocs[i];
            if (mp->state == M_ALIVE && (mp->pid != mp->tgid) == pass) {
                int told = adopt(mp);
                n += told;
                killed += !told;
            }
        }
    printf("pm: vfs restarted (endpoint %d): told it of %d processes\n", (int)ep, n);
    if (killed)
        printf("pm: killed %d chrooted processes: the new vfs does not know their root\n", killed);
    return 1;
}

/*
 * At start: the processes vfs knows are an earlier pm instance's (pm was
 * restarted: rs, restart immediate). Their memory maps, signal state and
 * timers died with it, so none can go on: each is killed (the kernel made rs
 * their parent; rs reaps them), and vfs forgets it (VFS_PM_ORPHAN: its
 * descriptors are closed, pipes see their ends go). Then init starts again.
 * At boot vfs knows none.
 */
void vfs_orphans(void)
{
    int n = 0;
    for (int64_t i = 0; i >= 0 && i < NR_SLOTS;) {
        message_t m = {.type = VFS_PM_ORPHAN, .u.vfs_pm.orphan = {i}};
        const struct msg_vfs_pm_orphan_reply *o = &m.u.vfs_pm.orphan_reply;
        if (ipc_sendrec(vfs_ep, &m) < 0 || o->result <= 0 || o->next <= i)
            break;
        i = o->next;
        if (sys_proc_kill((endpoint_t)o->result) == 0)
            n++;
    }
    if (n)
        printf("pm: restarted: killed the %d processes of the last pm instance; init starts "
               "again\n",
               n);
}
