/*
 * Message bodies of the BDEV protocol: block-device clients and block
 * drivers (samsara/bdev.h has the types and what each request does). One
 * struct per request and per reply that carries more than a result; each is
 * a member of union msg_bdev, reached as m.u.bdev.NAME. Every reply has type
 * BDEV_REPLY and starts with `int64_t result` (a count or 0, or a negative
 * samsara/errno.h code).
 */
#ifndef SAMSARA_MSG_BDEV_H
#define SAMSARA_MSG_BDEV_H

#include <stdint.h>
#include <samsara/bdev.h>
#include <samsara/msg/reply.h>

struct msg_bdev_open { /* BDEV_OPEN */
    uint32_t minor;
    uint32_t access; /* BDEV_R | BDEV_W */
};

struct msg_bdev_minor { /* BDEV_CLOSE, BDEV_FLUSH, BDEV_GEOMETRY */
    uint32_t minor;
};

struct msg_bdev_geometry_reply { /* BDEV_OPEN's and BDEV_GEOMETRY's reply */
    int64_t result;
    uint64_t size;        /* of the minor, in bytes */
    uint32_t sector_size; /* bytes: positions and lengths are multiples of it */
    uint32_t unused;
    uint64_t start; /* the minor's first byte on the whole disk (0 for minor 0) */
};

struct msg_bdev_transfer { /* BDEV_READ, BDEV_WRITE */
    uint32_t minor;
    uint32_t count;    /* pieces: 1..BDEV_INLINE_PIECES inline, or 1..BDEV_VEC_MAX in vec_grant */
    uint64_t position; /* bytes from the minor's start */
    int32_t vec_grant; /* -1: the pieces are piece[]; else a grant of count struct bdev_piece */
    struct bdev_piece piece[BDEV_INLINE_PIECES];
};

union msg_bdev {
    struct msg_reply reply;
    struct msg_bdev_open open;
    struct msg_bdev_minor minor;
    struct msg_bdev_geometry_reply geometry_reply;
    struct msg_bdev_transfer transfer;
};
MSG_BODY_FITS(union msg_bdev);

#endif
