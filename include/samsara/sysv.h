/*
 * The SYSV protocol: what pm tells the System V IPC server (servers/ipc,
 * docs/IPC-SYSV.md) about Linux processes, so that it knows each caller's
 * pid and credentials from pm, never from the caller's message, and can
 * clean up after exec and exit. Only pm may send these; each is a sendrec
 * that the server answers at once (SYSV_REPLY, result 0 or -errno). The
 * Linux calls themselves reach the server from the kernel (samsara/linux_sysv.h).
 */
#ifndef SAMSARA_SYSV_H
#define SAMSARA_SYSV_H

#include <samsara/msgtypes.h>

enum {
    SYSV_FORK = SYSV_RQ_BASE, /* struct sysv_fork: child is new (parent 0: none), with */
                              /*   these ids; it inherits the parent's shm attachments */
    SYSV_EXIT,                /* struct sysv_proc: ep is gone: undo its semaphores, detach */
                              /*   its segments, drop its waits */
    SYSV_EXEC,                /* struct sysv_proc: ep's memory was replaced: detach all */
    SYSV_CANCEL,              /* struct sysv_proc: a signal: fail ep's waiting call with */
                              /*   -EINTR -> 1 if it had one, else 0 */
    SYSV_SETCRED,             /* struct sysv_setcred: ep's new ids (a read grant of its */
                              /*   struct cred, samsara/fs.h) */
    SYSV_RQ_END,              /* (not a request: one past the last) */
};
#define SYSV_REPLY (SYSV_RQ_BASE + 0xff)
_Static_assert(SYSV_RQ_END <= SYSV_REPLY && IS_SYSV_RQ(SYSV_REPLY),
               "sysv types stay in the SYSV range");

#endif
