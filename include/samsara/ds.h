/*
 * Protocol of ds, the data store: a publish/subscribe key-value store
 * (MINIX 3's ds). docs/DS.md explains it; this is the reference.
 *
 * Requests are sendrec to ds; ds answers each at once with sendnb (it never
 * blocks on a client) with a message of type DS_REPLY whose first word is
 * the result: 0 or a negative error from errno.h (samsara/msg/reply.h). A
 * message typed MSG_NOTIFY is taken as a notification and gets no answer;
 * any other type gets E_NOSYS. The bodies are the structs of
 * samsara/msg/ds.h, m.u.ds.NAME:
 *
 *   key    NUL-terminated, 1..31 characters of [a-z0-9._/-]. A key is
 *          "LABEL.rest": only the endpoint rs published as "owner.LABEL"
 *          (at each start of that service; ds looks it up in its own
 *          store on every write, and never asks rs) may publish or delete
 *          it, and root may write any key ("ep.*" and "owner.*" are rs's).
 *          LABEL is 1..15 characters. Anyone may read and subscribe.
 *   flags  the value type in the low byte (DS_NUM, DS_STR, DS_BLOB) and
 *          the DS_OVERWRITE / DS_INITIAL bits.
 *   len    value length in bytes (publish; replies); size is the caller's
 *          buffer (retrieve).
 *   v      a number (DS_NUM); or a value of len <= DS_INLINE_MAX bytes,
 *          inline; or, for a longer value, the id of a grant to ds (read
 *          access to publish; retrieve's `grant`: write access).
 *
 * DS_PUBLISH   publish: key, flags = type [| DS_OVERWRITE], len, v.
 *              Errors: E_INVAL (bad key, type, flags or length), E_PERM
 *              (not the key's owner), E_BUSY (exists and no DS_OVERWRITE;
 *              DS_OVERWRITE may change the type), E_NOMEM (no free key or
 *              blob slot, or past the label's share), safecopy's errors on
 *              the grant (E_BADGRANT, E_RANGE, E_PERM, E_FAULT).
 *              Subscribers whose pattern matches are notified, also when
 *              the value did not change.
 * DS_RETRIEVE  retrieve: key, flags = expected type (0: any), size, grant
 *              if size > DS_INLINE_MAX. Reply retrieve_reply: flags = the
 *              type, len = the value's length, v = the number or the inline
 *              bytes (a longer value was copied into the grant; the key is
 *              not echoed). Errors: E_SRCH (no such key), E_INVAL (bad
 *              key; or another type: flags tells which), E_RANGE (buffer
 *              too small: len tells the size), safecopy's.
 * DS_DELETE    delete_key: key, flags 0. E_SRCH, E_PERM, E_INVAL.
 *              Subscribers are notified.
 * DS_SUBSCRIBE subscribe: pattern: an exact key, or a prefix ending in '*'
 *              ("*" alone: every key); flags 0 or DS_INITIAL (keys that
 *              already match count as changed). From then on every
 *              publish or delete of a matching key marks it changed for
 *              this caller and ds notifies the caller. Subscribing twice
 *              to one pattern is one subscription. E_INVAL, E_NOMEM.
 * DS_UNSUBSCRIBE unsubscribe: the same pattern, flags 0. E_SRCH if not
 *              subscribed, E_INVAL.
 * DS_CHECK     (no body). Reply check_reply: key = the next changed key
 *              of the caller's subscriptions (in table order; several
 *              changes to one key before a check give one), flags = its
 *              type now (0: deleted), len = how many changed keys remain;
 *              key[0] = 0 when none.
 *
 * Subscriptions belong to endpoints: a dead subscriber's go when a notify
 * to it fails or when the table is full.
 */
#ifndef SAMSARA_DS_H
#define SAMSARA_DS_H

#include <stddef.h>
#include <stdint.h>
#include <samsara/ipc.h>
#include <samsara/msgtypes.h>
#include <samsara/msg/ds.h> /* the message bodies; DS_KEY_MAX, DS_INLINE_MAX */

/* The DS range of samsara/msgtypes.h */
#define DS_PUBLISH (DS_RQ_BASE + 0x50)     /* 'DP' */
#define DS_RETRIEVE (DS_RQ_BASE + 0x52)    /* 'DR' */
#define DS_DELETE (DS_RQ_BASE + 0x44)      /* 'DD' */
#define DS_SUBSCRIBE (DS_RQ_BASE + 0x53)   /* 'DS' */
#define DS_UNSUBSCRIBE (DS_RQ_BASE + 0x55) /* 'DU' */
#define DS_CHECK (DS_RQ_BASE + 0x43)       /* 'DC' */
#define DS_REPLY (DS_RQ_BASE + 0xff)       /* every answer from ds */
_Static_assert(IS_DS_RQ(DS_UNSUBSCRIBE) && IS_DS_RQ(DS_REPLY), "ds types stay in the DS range");

/* Value types (flags & DS_TYPE_MASK) */
#define DS_NUM 1  /* uint64_t */
#define DS_STR 2  /* bytes, up to DS_STR_MAX (the stubs: a C string) */
#define DS_BLOB 3 /* bytes, up to DS_BLOB_MAX */
#define DS_TYPE_MASK 0xffu
/* Flags */
#define DS_OVERWRITE (1u << 8) /* publish: replace an existing value */
#define DS_INITIAL (1u << 9)   /* subscribe: existing matching keys count as changed */
/*
 * DS_TEST_DIE with DS_PUBLISH (a test hook): ds commits the change to its journal and exits
 * before applying it, so its next instance must finish it (docs/DS.md, "Restarts"). Honoured
 * only by a ds started with the argument "test" (the ds suite's boot); refused with E_PERM
 * otherwise.
 */
#define DS_TEST_DIE (1u << 15)

/* Limits (and DS_KEY_MAX, DS_INLINE_MAX in samsara/msg/ds.h) */
#define DS_LABEL_MAX 15 /* characters of a key's owner label (a label in rs's table) */
#define DS_STR_MAX 32
#define DS_BLOB_MAX 4096
#define DS_MAX_KEYS 256
#define DS_MAX_SUBS 64
#define DS_MAX_BLOBS 64 /* values longer than DS_STR_MAX stored at once */
/* Shares, so that no one service can fill a table and deny the others (root has none) */
#define DS_LABEL_KEYS (DS_MAX_KEYS / 4)   /* live keys under one label */
#define DS_LABEL_BLOBS (DS_MAX_BLOBS / 4) /* of them, values longer than DS_STR_MAX */
#define DS_EP_SUBS (DS_MAX_SUBS / 4)      /* subscriptions of one endpoint */

/*
 * Client stubs (lib/sys/ds.c). They find ds with ROOT_LOOKUP("ds") once,
 * keep its endpoint, and look it up again when a call fails with E_DEADEP.
 * Results: 0 (or a length) on success, a negative error from errno.h.
 * Values longer than DS_INLINE_MAX bytes need KC_SETGRANT (a grant to ds).
 */
int ds_publish_u64(const char *key, uint64_t v, uint32_t flags);
int ds_retrieve_u64(const char *key, uint64_t *v);
int ds_publish_str(const char *key, const char *s, uint32_t flags); /* strlen(s) <= 32 */
int ds_retrieve_str(const char *key, char *buf, size_t size);       /* length; NUL-terminated */
int ds_publish_blob(const char *key, const void *data, size_t len, uint32_t flags);
int ds_retrieve_blob(const char *key, void *buf, size_t size); /* length */
int ds_delete(const char *key);
int ds_subscribe(const char *pattern, uint32_t flags);
int ds_unsubscribe(const char *pattern);
int ds_check(char *keybuf, size_t len); /* key length; 0: nothing changed */
endpoint_t ds_endpoint(void);           /* ds's endpoint (its notifications' source) */
int ds_notifier(endpoint_t src);        /* src is ds, maybe restarted there (asks rs) */
int ds_call(message_t *m);              /* sendrec to ds: the reply's result (reply in *m) */
void ds_client_reset(endpoint_t ep);    /* replace the kept endpoint (0: forget it) */
extern uint64_t ds_client_resent;       /* calls sent again after E_DEADEP (a restarted ds) */

#endif
