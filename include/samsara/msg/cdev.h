/*
 * Message bodies of the CDEV protocol: character drivers (samsara/fs.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_cdev, reached as m.u.cdev.NAME. Every
 * request names the minor (the device within the driver); read, write and
 * ioctl carry the requester's id for a later CDEV_ST_DONE and a grant the
 * requester made (grant ids are int32; the library refuses any other).
 * Replies: struct msg_reply (result = 0, a count, CDEV_SUSPENDED or
 * -errno), and struct msg_cdev_status for CDEV_STATUS.
 */
#ifndef SAMSARA_MSG_CDEV_H
#define SAMSARA_MSG_CDEV_H

#include <stdint.h>
#include <samsara/msg/reply.h>

struct msg_cdev_open { /* CDEV_OPEN */
    uint64_t minor;
    uint64_t flags; /* the Linux open flags */
};

struct msg_cdev_close { /* CDEV_CLOSE */
    uint64_t minor;
};

/*
 * The most one read or write may name (a larger one is malformed: -EINVAL),
 * so that a count always stays below CDEV_SUSPENDED. vfs passes a longer
 * Linux call on as a shorter transfer, as Linux's MAX_RW_COUNT does.
 */
#define CDEV_RW_MAX (1ull << 30)

struct msg_cdev_rw { /* CDEV_READ, CDEV_WRITE */
    uint64_t minor;
    uint64_t id;
    int64_t grant; /* the data: write access to read, read access to write */
    uint64_t len;
    uint64_t flags; /* CDEV_NONBLOCK */
};

struct msg_cdev_ioctl { /* CDEV_IOCTL */
    uint64_t minor;
    uint64_t id;
    uint64_t request; /* the Linux request number */
    int64_t grant;    /* the argument, read and write access (size bytes) */
    uint64_t size;    /* 0: the request passes no data */
    int64_t pgrp;     /* the caller's process group */
    uint64_t arg;     /* the raw argument, for ioctls that take a value (TCFLSH) */
};

struct msg_cdev_cancel { /* CDEV_CANCEL */
    uint64_t minor;
    uint64_t id; /* of the suspended request */
};

struct msg_cdev_select { /* CDEV_SELECT */
    uint64_t minor;
    uint64_t ops;    /* SEL_* wanted */
    uint64_t notify; /* 1: a CDEV_ST_SELECT status when one becomes ready */
};

struct msg_cdev_mailbox { /* CDEV_MAILBOX */
    int64_t grant;        /* read and write access to a struct cdev_mailbox */
    uint64_t size;        /* 0: none */
};

struct msg_cdev_status { /* the reply to CDEV_STATUS: one item */
    int64_t result;      /* its kind, CDEV_ST_* (CDEV_ST_NONE: no more) */
    uint64_t w1, w2;
};

union msg_cdev {
    struct msg_reply reply;
    struct msg_cdev_open open;
    struct msg_cdev_close close;
    struct msg_cdev_rw rw;
    struct msg_cdev_ioctl ioctl;
    struct msg_cdev_cancel cancel;
    struct msg_cdev_select select;
    struct msg_cdev_mailbox mailbox;
    struct msg_cdev_status status;
};
MSG_BODY_FITS(union msg_cdev);

#endif
