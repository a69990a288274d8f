/*
 * Message bodies of the DS protocol: the data store (samsara/ds.h has the
 * types, the flags and what each request does). One struct per request and
 * per reply that carries more than a result; each is a member of union
 * msg_ds, reached as m.u.ds.NAME. Every reply has type DS_REPLY and starts
 * with `int64_t result` (0 or a negative samsara/errno.h code); DS_PUBLISH,
 * DS_DELETE, DS_SUBSCRIBE and DS_UNSUBSCRIBE are answered with a plain
 * struct msg_reply, DS_CHECK's request has no body.
 *
 * A key or pattern travels in a 32-byte field, NUL-terminated: ds refuses
 * one without a NUL in the field. A retrieve reply does not echo the key
 * (it would not fit beside the value).
 */
#ifndef SAMSARA_MSG_DS_H
#define SAMSARA_MSG_DS_H

#include <stdint.h>
#include <samsara/msg/reply.h>

#define DS_KEY_MAX 32    /* bytes of a key field, with the NUL: keys have 1..31 characters */
#define DS_INLINE_MAX 16 /* longer values travel through a grant */

/* A value in a message: a number, a short string or blob, or a grant for a longer one. */
union msg_ds_value {
    uint64_t num;                /* DS_NUM */
    uint8_t data[DS_INLINE_MAX]; /* DS_STR or DS_BLOB of len <= DS_INLINE_MAX bytes */
    int32_t grant;               /* publish, len > DS_INLINE_MAX: a grant to ds, read access */
};

/* DS_PUBLISH; reply: msg_reply */
struct msg_ds_publish {
    char key[DS_KEY_MAX];
    uint32_t flags; /* the type, DS_NUM/DS_STR/DS_BLOB [| DS_OVERWRITE] */
    uint32_t len;   /* of the value in bytes (DS_NUM: ignored, 8) */
    union msg_ds_value v;
};

/* DS_RETRIEVE; reply: msg_ds_retrieve_reply */
struct msg_ds_retrieve {
    char key[DS_KEY_MAX];
    uint32_t flags; /* the expected type (0: any); nothing else */
    uint32_t size;  /* of the caller's buffer in bytes */
    int32_t grant;  /* size > DS_INLINE_MAX: a grant to ds of the buffer, write access */
};

/* the reply to DS_RETRIEVE */
struct msg_ds_retrieve_reply {
    int64_t result; /* 0; E_SRCH, E_INVAL, E_RANGE, safecopy's errors */
    uint32_t flags; /* the stored type (also with E_INVAL for another type) */
    uint32_t len;   /* the value's length (also with E_RANGE: the size needed) */
    union {
        uint64_t num;                /* DS_NUM */
        uint8_t data[DS_INLINE_MAX]; /* a value of len <= DS_INLINE_MAX, zero-padded */
    } v;                             /* a longer value was copied into the grant */
};

/* DS_DELETE; reply: msg_reply */
struct msg_ds_delete {
    char key[DS_KEY_MAX];
    uint32_t flags; /* 0: none are defined */
};

/* DS_SUBSCRIBE; reply: msg_reply */
struct msg_ds_subscribe {
    char pattern[DS_KEY_MAX]; /* an exact key, or a prefix ending in '*' */
    uint32_t flags;           /* 0 or DS_INITIAL */
};

/* DS_UNSUBSCRIBE; reply: msg_reply */
struct msg_ds_unsubscribe {
    char pattern[DS_KEY_MAX]; /* as subscribed */
    uint32_t flags;           /* 0: none are defined */
};

/* the reply to DS_CHECK (which has no body) */
struct msg_ds_check_reply {
    int64_t result;       /* 0 */
    char key[DS_KEY_MAX]; /* the next changed key; "" when none */
    uint32_t flags;       /* its type now (0: deleted) */
    uint32_t len;         /* how many changed keys remain after it */
};

union msg_ds {
    struct msg_reply reply;
    struct msg_ds_publish publish;
    struct msg_ds_retrieve retrieve;
    struct msg_ds_retrieve_reply retrieve_reply;
    struct msg_ds_delete delete_key;
    struct msg_ds_subscribe subscribe;
    struct msg_ds_unsubscribe unsubscribe;
    struct msg_ds_check_reply check_reply;
};
MSG_BODY_FITS(union msg_ds);

#endif
