/*
 * libchardriver: the message loop of a character driver (MINIX libchardriver
 * style). A driver fills a struct chardriver with callbacks and calls
 * chardriver_task(), which never returns. The library speaks the CDEV_*
 * protocol of samsara/fs.h with vfs:
 *
 *  - every request gets an immediate CDEV_REPLY through ipc_sendnb (the
 *    requester waits in sendrec), reply.result = the result (samsara/msg/cdev.h);
 *  - a read, write or ioctl callback may return CDEV_SUSPENDED; the library
 *    then remembers (requester, id) and the driver later calls
 *    chardriver_done(id, result), which queues a CDEV_ST_DONE status item and
 *    notifies the requester (called while that request's own callback runs,
 *    it simply becomes the immediate reply); CDEV_CANCEL asks the cancel
 *    callback for the final result (or takes back a DONE item not yet
 *    pulled) and no status follows;
 *  - CDEV_SELECT with "tell me" records a one-shot watch; the driver calls
 *    chardriver_select_ready(minor, ops) whenever something may have become
 *    ready and the library posts CDEV_ST_SELECT to the watchers it concerns;
 *  - chardriver_signal(pgrp, sig) posts CDEV_ST_SIGNAL to the endpoint that
 *    last opened a minor (vfs);
 *  - CDEV_STATUS hands out one queued item for the asker (CDEV_ST_NONE when
 *    it has none); a requester that lent a mailbox (CDEV_MAILBOX, as vfs
 *    does) gets its items written there instead, so it never has to wait
 *    for the driver to learn its status (samsara/fs.h);
 *  - only the services named in `clients` (by label, as root knows them)
 *    may send requests (a driver with a `serve` callback takes the requests
 *    of its own protocol from anyone and checks them itself); anyone else's request gets -LX_EPERM
 * and their notifications are ignored, each refusal counted and logged;
 *  - HARDWARE notifications become interrupt(irq bits) calls, SYSTEM alarm
 *    notifications alarm(now) calls;
 *  - when the loop starts the driver announces itself: it publishes NAME.dev
 *    in ds, and vfs binds the majors its manifest names (`dev char ...`) to
 *    this instance (servers/vfs/dmap.c).
 *
 * Data moves with safecopy on the requester's grants (chardriver_copy_from /
 * chardriver_copy_to). Errors are negative Linux errno values (samsara/linux.h).
 * rs's heartbeat pings are answered in chardriver_task's loop (service.c in
 * lib/sys); a driver calls service_startup() before chardriver_task().
 * docs/TTY.md describes the protocol decisions.
 */
#ifndef CHARDRIVER_H
#define CHARDRIVER_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include "sys.h"

/* Status items queued at most; DONE items never drop (see status.c). */
#define CHARDRIVER_STATUS_MAX 64
/* Requests that may be suspended at once, over all minors. */
#define CHARDRIVER_PENDING_MAX 32
/* Select watches (one per requester and minor). */
#define CHARDRIVER_WATCH_MAX 32

/* One request as the callbacks see it (decoded from the message). */
struct chardriver_req {
    endpoint_t source; /* the requester: granter of `grant` */
    int minor;
    uint64_t id;      /* the requester's id for a later CDEV_ST_DONE */
    grant_id_t grant; /* read/write: the data; ioctl: the argument */
    uint64_t size;    /* read/write: bytes; ioctl: argument size (0: none) */
    uint32_t flags;   /* read/write: CDEV_NONBLOCK */
    uint32_t request; /* ioctl: the Linux request number */
    int32_t pgrp;     /* ioctl: the caller's process group */
    uint64_t arg;     /* ioctl: the raw argument (for value ioctls) */
};

struct chardriver {
    const char *name; /* its label (its manifest's): the log, and its announcement NAME.dev */
    /* The labels of the services that may send requests, 0-terminated; 0
     * means {"vfs", 0}. A driver names its own test program here. */
    const char *const *clients;
    int minors; /* requests for minors >= this get -LX_ENXIO */
    /* Each may be 0: open/close succeed, read/write give -LX_ENOSYS, ioctl
     * -LX_ENOTTY, select reports SEL_RD|SEL_WR, cancel -LX_EINTR. */
    int (*open)(int minor, uint32_t flags, endpoint_t who);
    int (*close)(int minor);
    int64_t (*read)(const struct chardriver_req *r);  /* bytes, errno or CDEV_SUSPENDED */
    int64_t (*write)(const struct chardriver_req *r); /* same */
    int64_t (*ioctl)(const struct chardriver_req *r); /* 0, errno or CDEV_SUSPENDED */
    /* Forget the suspended request `id` of `source`; return its final result
     * (bytes moved so far, or -LX_EINTR). Never call chardriver_done for it. */
    int64_t (*cancel)(int minor, endpoint_t source, uint64_t id);
    unsigned (*select)(int minor, unsigned ops); /* the ops ready now */
    void (*interrupt)(uint32_t irqs);            /* HARDWARE notification */
    void (*alarm)(uint64_t now);                 /* SYSTEM alarm, now = ticks */
    /* Any other message from a client; the driver replies itself. 0: other
     * requests get -LX_ENOSYS. (A client's notification means its mailbox
     * has room: the library handles it.) */
    void (*other)(const message_t *m);
    /* A server that also serves a device (the pci server's /dev/pci): every
     * request of a protocol other than CDEV goes here, whoever sent it, before
     * the client check; the server checks the sender and replies itself.
     * 0: such requests are refused unless a client sent them (then `other`). */
    void (*serve)(const message_t *m);
};

_Noreturn void chardriver_task(const struct chardriver *driver);

/* Finish a suspended request (matched on id alone: vfs's ids are unique). */
void chardriver_done(uint64_t id, int64_t result);
/* ops (SEL_*) may now be ready on minor: tell the watchers that wanted them. */
void chardriver_select_ready(int minor, unsigned ops);
/* Ask vfs to send signal sig to process group pgrp (e.g. ^C). */
void chardriver_signal(int32_t pgrp, int sig);

/* Copy between the driver and the requester's grant: 0 or -LX_EFAULT. */
int chardriver_copy_from(const struct chardriver_req *r, uint64_t off, void *buf, uint64_t len);
int chardriver_copy_to(const struct chardriver_req *r, uint64_t off, const void *buf, uint64_t len);

#endif
