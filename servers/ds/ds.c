/*
 * ds, the data store: named values that services publish, anyone reads,
 * and subscribers hear about (protocol in samsara/ds.h, docs/DS.md).
 *
 * The store is a table of DS_MAX_KEYS entries; values longer than a string
 * live in one of DS_MAX_BLOBS 4 KiB slots. A subscription is an endpoint, a
 * pattern and a bitmap of the entries that changed since it last checked.
 * A deleted entry stays as a tombstone (name, no value) while a subscriber
 * still has to hear of it, so DS_CHECK can name it; a full table reuses
 * tombstones first. Every request is answered at once with sendnb, and ds
 * never calls anyone: the owner of a key's label is the endpoint rs
 * published as "owner.LABEL" at that service's latest start (0 at its
 * death), so a restarted owner writes with its new endpoint at once and a
 * stale one never passes.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "sys.h"
#include "format/format.h"

#define WORDS (DS_MAX_KEYS / 64)

struct entry {
    char key[DS_KEY_MAX]; /* key[0] == 0: free */
    uint32_t type;        /* DS_NUM, DS_STR, DS_BLOB; 0: deleted (a tombstone) */
    uint32_t len;
    union {
        uint64_t num;
        uint8_t str[DS_STR_MAX];
        int blob; /* slot in blobs, for a value longer than DS_STR_MAX */
    } v;
};

struct sub {
    endpoint_t ep; /* 0: free */
    char pattern[DS_KEY_MAX];
    uint64_t changed[WORDS];
};

static struct entry store[DS_MAX_KEYS];
static struct sub subs[DS_MAX_SUBS];
static uint8_t blobs[DS_MAX_BLOBS][DS_BLOB_MAX];
static uint8_t blob_used[DS_MAX_BLOBS];
static uint8_t stage[DS_BLOB_MAX]; /* a value on its way in */

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '/';
}

/* A key (pattern: a trailing '*' allowed): its length, or -E_INVAL. */
static int check_key(const char *k, int pattern)
{
    int n = 0;
    while (n < DS_KEY_MAX && k[n])
        n++;
    if (n == 0 || n == DS_KEY_MAX)
        return -E_INVAL;
    for (int i = 0; i < n; i++)
        if (!key_char(k[i]) && !(pattern && k[i] == '*' && i == n - 1))
            return -E_INVAL;
    return n;
}

static int matches(const char *pattern, const char *key)
{
    int n = (int)strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return !strncmp(pattern, key, (size_t)n - 1);
    return !strcmp(pattern, key);
}

static int find(const char *key)
{
    for (int i = 0; i < DS_MAX_KEYS; i++)
        if (store[i].key[0] && !strcmp(store[i].key, key))
            return i;
    return -1;
}

/*
 * The endpoint that rs published as the owner of `label` ("owner.LABEL", at
 * each start of that service; 0 at its death), or 0 if none.
 */
static endpoint_t label_owner(const char *label)
{
    char key[DS_KEY_MAX] = "owner.";
    strncpy_s(key + 6, label, DS_KEY_MAX - 6);
    int i = find(key);
    return i >= 0 && store[i].type == DS_NUM ? (endpoint_t)store[i].v.num : 0;
}

/*
 * May the sender of m write `key`? Root may; else only the endpoint rs
 * published as the owner of its label. The labels "ep" and "owner" are
 * rs's. A refusal is counted and logged (service_refuse).
 */
static int may_write(const message_t *m, const char *key)
{
    endpoint_t who = m->source;
    if (who == ROOT_EP)
        return 0;
    char label[DS_LABEL_MAX + 1];
    int n = 0;
    while (key[n] && key[n] != '.')
        n++;
    if (key[n] != '.' || n == 0 || n > DS_LABEL_MAX) {
        service_refuse("ds", m, "a key without an owner's label");
        return -E_PERM;
    }
    memcpy(label, key, (size_t)n);
    label[n] = '\0';
    if (strcmp(label, "ep") && strcmp(label, "owner") && label_owner(label) == who && who > 0)
        return 0;
    char why[80];
    snprintf_s(why, sizeof(why), "key '%s' is not the sender's (its label's service writes it)",
               key);
    service_refuse("ds", m, why);
    return -E_PERM;
}

static int bit(const uint64_t *map, int i)
{
    return (int)(map[i / 64] >> (i % 64)) & 1;
}

/* Free tombstone i if no subscriber still has to hear of it. */
static void settle(int i)
{
    if (!store[i].key[0] || store[i].type)
        return;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (subs[s].ep && bit(subs[s].changed, i))
            return;
    store[i].key[0] = '\0';
}

static void settle_all(void)
{
    for (int i = 0; i < DS_MAX_KEYS; i++)
        settle(i);
}

static void drop_subscriber(endpoint_t ep)
{
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (subs[s].ep == ep)
            subs[s] = (struct sub){0};
    settle_all();
}

/* Entry i changed: mark it for every matching subscription and notify each subscriber once. */
static void changed(int i)
{
    endpoint_t told[DS_MAX_SUBS];
    int n = 0;
    for (int s = 0; s < DS_MAX_SUBS; s++) {
        if (!subs[s].ep || !matches(subs[s].pattern, store[i].key))
            continue;
        subs[s].changed[i / 64] |= 1ull << (i % 64);
        int seen = 0;
        for (int t = 0; t < n; t++)
            seen |= told[t] == subs[s].ep;
        if (!seen)
            told[n++] = subs[s].ep;
    }
    for (int t = 0; t < n; t++) {
        int r = ipc_notify(told[t]);
        if (r == -E_DEADEP || r == -E_SRCH)
            drop_subscriber(told[t]);
    }
    settle(i);
}

/* An entry for a new key: a free one, else a tombstone (its subscribers miss that deletion). */
static int new_entry(void)
{
    for (int i = 0; i < DS_MAX_KEYS; i++)
        if (!store[i].key[0])
            return i;
    for (int i = 0; i < DS_MAX_KEYS; i++)
        if (!store[i].type) {
            for (int s = 0; s < DS_MAX_SUBS; s++)
                subs[s].changed[i / 64] &= ~(1ull << (i % 64));
            store[i].key[0] = '\0';
            return i;
        }
    return -1;
}

static int in_slot(const struct entry *e);

/*
 * Live keys under the label that owns key (the part before its first '.'),
 * or of them those whose value takes a blob slot: a service's share of the
 * tables (DS_LABEL_KEYS, DS_LABEL_BLOBS) is counted by its label.
 */
static int owned(const char *key, int in_slots_only)
{
    int n = 0, count = 0;
    while (key[n] && key[n] != '.')
        n++;
    for (int i = 0; i < DS_MAX_KEYS; i++)
        if (store[i].type && !strncmp(store[i].key, key, (size_t)n + 1) &&
            (!in_slots_only || in_slot(&store[i])))
            count++;
    return count;
}

static int new_blob(void)
{
    for (int b = 0; b < DS_MAX_BLOBS; b++)
        if (!blob_used[b])
            return b;
    return -1;
}

static int in_slot(const struct entry *e)
{
    return e->type == DS_BLOB && e->len > DS_STR_MAX;
}

static void clear_value(struct entry *e)
{
    if (in_slot(e))
        blob_used[e->v.blob] = 0;
    e->type = 0;
    e->len = 0;
}

static int publish(const message_t *m, message_t *reply)
{
    (void)reply;
    const struct msg_ds_publish *q = &m->u.ds.publish;
    endpoint_t who = m->source;
    uint32_t type = q->flags & DS_TYPE_MASK, len = q->len;
    if (check_key(q->key, 0) < 0 || (q->flags & ~(DS_TYPE_MASK | DS_OVERWRITE)))
        return -E_INVAL;
    if (type == DS_NUM)
        len = sizeof(uint64_t);
    else if ((type != DS_STR && type != DS_BLOB) ||
             len > (type == DS_STR ? DS_STR_MAX : DS_BLOB_MAX))
        return -E_INVAL;
    int r = may_write(m, q->key);
    if (r < 0)
        return r;
    int i = find(q->key);
    if (i >= 0 && store[i].type && !(q->flags & DS_OVERWRITE))
        return -E_BUSY;
    if (type == DS_NUM) {
        memcpy(stage, &q->v.num, sizeof(uint64_t));
    } else if (len <= DS_INLINE_MAX) {
        memcpy(stage, q->v.data, len);
    } else {
        if ((r = sys_safecopy_from(who, q->v.grant, 0, stage, len)) < 0)
            return r;
    }
    int slot = type == DS_BLOB && len > DS_STR_MAX, blob = -1;
    int new_key = i < 0 || !store[i].type, new_slot = slot && !(i >= 0 && in_slot(&store[i]));
    /* a service's share: root (rs) has none, so ep.LABEL always finds room */
    if (who != ROOT_EP && ((new_key && owned(q->key, 0) >= DS_LABEL_KEYS) ||
                           (new_slot && owned(q->key, 1) >= DS_LABEL_BLOBS)))
        return -E_NOMEM;
    if (new_slot && (blob = new_blob()) < 0)
        return -E_NOMEM;
    if (i < 0 && (i = new_entry()) < 0)
        return -E_NOMEM;
    struct entry *e = &store[i];
    if (slot && in_slot(e))
        blob = e->v.blob; /* keep its slot */
    else
        clear_value(e);
    strncpy_s(e->key, q->key, DS_KEY_MAX);
    e->type = type;
    e->len = len;
    if (type == DS_NUM) {
        memcpy(&e->v.num, stage, sizeof(uint64_t));
    } else if (!slot) {
        memcpy(e->v.str, stage, len);
    } else {
        e->v.blob = blob;
        blob_used[blob] = 1;
        memcpy(blobs[blob], stage, len);
    }
    changed(i);
    return 0;
}

static int retrieve(const message_t *m, message_t *reply)
{
    const struct msg_ds_retrieve *q = &m->u.ds.retrieve;
    struct msg_ds_retrieve_reply *a = &reply->u.ds.retrieve_reply;
    uint32_t want = q->flags & DS_TYPE_MASK;
    if (check_key(q->key, 0) < 0 || (q->flags & ~DS_TYPE_MASK) || want > DS_BLOB)
        return -E_INVAL;
    int i = find(q->key);
    if (i < 0 || !store[i].type)
        return -E_SRCH;
    const struct entry *e = &store[i];
    a->flags = e->type;
    a->len = e->len;
    if (want && want != e->type)
        return -E_INVAL;
    if (e->type == DS_NUM) {
        a->v.num = e->v.num;
        return 0;
    }
    const uint8_t *data = in_slot(e) ? blobs[e->v.blob] : e->v.str;
    if (e->len <= DS_INLINE_MAX) {
        memcpy(a->v.data, data, e->len); /* the reply started zeroed */
        return 0;
    }
    if (q->size < e->len)
        return -E_RANGE;
    return sys_safecopy_to(m->source, q->grant, 0, data, e->len);
}

static int remove_key(const message_t *m, message_t *reply)
{
    (void)reply;
    const struct msg_ds_delete *q = &m->u.ds.delete_key;
    if (check_key(q->key, 0) < 0 || q->flags)
        return -E_INVAL;
    int r = may_write(m, q->key);
    if (r < 0)
        return r;
    int i = find(q->key);
    if (i < 0 || !store[i].type)
        return -E_SRCH;
    clear_value(&store[i]);
    changed(i); /* marks the tombstone, or frees it if nobody listens */
    return 0;
}

/* Forget the subscriptions of processes that are gone (the table is full). */
static void sweep(void)
{
    struct proc_info info;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (subs[s].ep && sys_proc_info(subs[s].ep, &info) < 0)
            drop_subscriber(subs[s].ep);
}

static int subscribe(const message_t *m, message_t *reply)
{
    (void)reply;
    const struct msg_ds_subscribe *q = &m->u.ds.subscribe;
    endpoint_t who = m->source;
    if (check_key(q->pattern, 1) < 0 || (q->flags & ~DS_INITIAL))
        return -E_INVAL;
    int s = -1, have = 0;
    for (int t = 0; t < DS_MAX_SUBS; t++) {
        have += subs[t].ep == who;
        if (s < 0 && subs[t].ep == who && !strcmp(subs[t].pattern, q->pattern))
            s = t;
    }
    if (s < 0 && have >= DS_EP_SUBS)
        return -E_NOMEM; /* its share: no one endpoint takes every subscription */
    for (int pass = 0; pass < 2 && s < 0; pass++) {
        for (int t = 0; t < DS_MAX_SUBS && s < 0; t++)
            if (!subs[t].ep)
                s = t;
        if (s < 0 && pass == 0)
            sweep();
    }
    if (s < 0)
        return -E_NOMEM;
    if (!subs[s].ep) {
        subs[s] = (struct sub){.ep = who};
        strncpy_s(subs[s].pattern, q->pattern, DS_KEY_MAX);
    }
    int any = 0;
    for (int i = 0; i < DS_MAX_KEYS && (q->flags & DS_INITIAL); i++)
        if (store[i].type && matches(subs[s].pattern, store[i].key)) {
            subs[s].changed[i / 64] |= 1ull << (i % 64);
            any = 1;
        }
    if (any)
        ipc_notify(who); /* pending until the caller has our reply */
    return 0;
}

static int unsubscribe(const message_t *m, message_t *reply)
{
    (void)reply;
    const struct msg_ds_unsubscribe *q = &m->u.ds.unsubscribe;
    if (check_key(q->pattern, 1) < 0 || q->flags)
        return -E_INVAL;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (subs[s].ep == m->source && !strcmp(subs[s].pattern, q->pattern)) {
            subs[s] = (struct sub){0};
            settle_all();
            return 0;
        }
    return -E_SRCH;
}

/* The caller's next changed key (the lowest entry), cleared from all its subscriptions. */
static int check(const message_t *m, message_t *reply)
{
    struct msg_ds_check_reply *a = &reply->u.ds.check_reply;
    endpoint_t who = m->source;
    uint64_t all[WORDS] = {0};
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (subs[s].ep == who)
            for (int w = 0; w < WORDS; w++)
                all[w] |= subs[s].changed[w];
    int i = 0;
    while (i < DS_MAX_KEYS && !bit(all, i))
        i++;
    if (i == DS_MAX_KEYS)
        return 0;
    strncpy_s(a->key, store[i].key, DS_KEY_MAX);
    a->flags = store[i].type;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (subs[s].ep == who)
            subs[s].changed[i / 64] &= ~(1ull << (i % 64));
    all[i / 64] &= ~(1ull << (i % 64));
    for (int w = 0; w < WORDS; w++)
        a->len += (uint32_t)__builtin_popcountll(all[w]);
    settle(i);
    return 0;
}

/*
 * The requests, by type within the DS range. Each handler checks its
 * arguments and the sender's right, fills the reply's body if it has one,
 * and returns the result. Who may send what (docs/DS.md): anyone, except
 * that publish and delete check the key's owner (may_write).
 */
typedef int (*handler_t)(const message_t *m, message_t *reply);
static const handler_t handlers[MSG_RANGE_SIZE] = {
    [DS_PUBLISH - DS_RQ_BASE] = publish,         /* the key's owner, or root */
    [DS_RETRIEVE - DS_RQ_BASE] = retrieve,       /* anyone */
    [DS_DELETE - DS_RQ_BASE] = remove_key,       /* the key's owner, or root */
    [DS_SUBSCRIBE - DS_RQ_BASE] = subscribe,     /* anyone: for itself */
    [DS_UNSUBSCRIBE - DS_RQ_BASE] = unsubscribe, /* anyone: its own */
    [DS_CHECK - DS_RQ_BASE] = check,             /* anyone: its own changes */
};

static void handle(const message_t *m)
{
    message_t reply = {.type = DS_REPLY};
    handler_t h = IS_DS_RQ(m->type) ? handlers[m->type - DS_RQ_BASE] : 0;
    reply.u.reply.result = h ? h(m, &reply) : -E_NOSYS;
    reply_hold(m->source, &reply); /* a caller not waiting for it loses it */
}

int main(uint64_t arg)
{
    (void)arg;
    service_startup("ds", 0); /* a restarted ds starts empty */
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0 || m.source <= 0)
            continue; /* SYSTEM and HARDWARE have nothing for us */
        if (m.type == MSG_NOTIFY)
            continue; /* rs's heartbeat was answered in there; others mean nothing here */
        handle(&m);
    }
}
