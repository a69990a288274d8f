/*
 * lib/bdev: the client side of the BDEV protocol (samsara/bdev.h), for file
 * servers: open a block device by its driver's label and a minor, read,
 * write and flush through grants, and survive the driver's restarts.
 *
 * Each request makes grants of the caller's buffers to the driver's current
 * endpoint, sends with a bounded sendrec, and frees the grants. When the
 * driver is dead (E_DEADEP, E_SRCH from the IPC), does not answer in time,
 * or answers E_RESTARTED, lib/bdev waits for the driver's next announcement
 * in ds (LABEL.blk: subscribed, bounded by BDEV_WAIT_MS, never a busy
 * poll), opens the minor again in the new instance, makes new grants and
 * reissues the request. After BDEV_RESTARTS_MAX driver restarts during one
 * request, or BDEV_EIO_TRIES answers of E_IO, it gives up with E_IO and logs
 * it. Requests are idempotent (positions are absolute), so reissuing is safe.
 * An answer outside the protocol (another type, a result that is no error
 * number, a transfer's count short of its length, an impossible or changed
 * geometry) is garbage: never taken, reported to rs (root_complain), which
 * replaces the driver, and the request goes to the next instance.
 *
 * While it waits, lib/bdev receives: rs's heartbeats are answered (the
 * file server stays alive in rs's eyes); other messages (a file server's own
 * clients) are kept, up to BDEV_DEFER_MAX, for the file server to take with
 * bdev_deferred() before it receives again; past that they go to the
 * `busy` hook (answer them "try again"), or are logged and dropped.
 */
#ifndef BDEV_H
#define BDEV_H

#include <samsara/bdev.h>
#include "sys.h"

#define BDEV_RESTARTS_MAX 10     /* driver restarts survived by one request */
#define BDEV_EIO_TRIES 5         /* E_IO answers to one request before giving up */
#define BDEV_WAIT_MS 10000       /* for a new driver instance to announce itself */
#define BDEV_REQUEST_MS 10000    /* for a driver's answer to one request */
#define BDEV_DEFER_MAX 16        /* messages kept while waiting for a driver */
#define BDEV_BUFS_MAX 256        /* buffers in one bdev_transfer (BDEV_VEC_MAX) */
#define BDEV_ERRNO_MAX 4095      /* a result below -BDEV_ERRNO_MAX is no error number: garbage */
#define BDEV_COMPLAIN_TICKS 1000 /* for rs's answer to a complaint */

struct bdev {
    char label[16]; /* the driver's label */
    uint32_t minor;
    uint32_t access;   /* BDEV_R | BDEV_W */
    endpoint_t driver; /* its current instance (0: none known) */
    uint64_t size;     /* of the minor, in bytes */
    uint32_t sector_size;
    uint64_t restarts;   /* driver restarts this device has survived (all requests) */
    uint64_t reopens;    /* successful re-opens after a restart */
    uint64_t wait_ms;    /* time spent waiting for new instances, in all */
    uint64_t complaints; /* garbage or no answers reported to rs (the driver replaced) */
    uint32_t request_ms; /* for the driver's answer to one request (0: BDEV_REQUEST_MS) */
};

/* One buffer of a scatter-gather transfer. */
struct bdev_buf {
    void *addr;
    uint64_t len;
};

/* Open minor of the driver labelled `label` (its LABEL.blk in ds): 0, or a negative error. */
int bdev_open(struct bdev *d, const char *label, uint32_t minor, uint32_t access);
void bdev_close(struct bdev *d);
/* len bytes at byte `position` of the minor: len, or a negative error (E_IO when given up). */
int64_t bdev_read(struct bdev *d, uint64_t position, void *buf, uint64_t len);
int64_t bdev_write(struct bdev *d, uint64_t position, const void *buf, uint64_t len);
/* Scatter-gather: n buffers (at most BDEV_BUFS_MAX) in order, one request per
 * BDEV_TRANSFER_MAX bytes. */
int64_t bdev_transfer(struct bdev *d, int write, uint64_t position, const struct bdev_buf *v,
                      int n);
int bdev_flush(struct bdev *d);

/* Messages received while waiting for a driver: take one (1) or none is left (0). */
int bdev_deferred(message_t *m);
/* Called for a message that found the deferral queue full (0: log and drop it). */
extern void (*bdev_busy)(const message_t *m);
/* Called (when set) as lib/bdev starts to wait for a new instance of the driver (m = 0),
 * and with each message that comes meanwhile, before it is kept: 1 if it served m (then it is
 * not kept). A file server sets it to fsdriver_suspend, so its client goes on while it waits. */
extern int (*bdev_wait_hook)(const message_t *m);

#endif
