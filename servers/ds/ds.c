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
#include <samsara/manifest.h>
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

/*
 * The store lives in the state region rs keeps across ds's deaths (`state`
 * in ds.conf, docs/REINCARNATION.md): a header ds checks at start, the
 * journal of the one change in progress, the entries, the subscriptions and
 * the blob slots (one more than DS_MAX_BLOBS: an overwrite fills a free slot
 * before the entry names it). Which slots are in use is worked out from the
 * entries at start (blob_used), so it needs no care at a crash.
 */
#define STATE_MAGIC 0x3165746174537364ull /* "dsState1" */
#define STATE_VERSION 1
#define STATE_LEN (320 * 1024) /* ds.conf: state 320K */

struct header {
    uint64_t magic;
    uint32_t version, len; /* the layout's, and sizeof(struct state) */
    uint64_t check;        /* of the three fields above */
};

/*
 * A change to one entry, prepared here in full, committed by one 8-byte
 * store of `pending`, then copied into the store and told to subscribers;
 * `pending` goes back to 0 last. A ds that dies in between leaves pending 1,
 * and the next one does the copy and the telling again (recover).
 */
struct journal {
    uint64_t pending;
    uint64_t index;
    struct entry e;
};

struct state {
    struct header h;
    struct journal j;
    struct entry store[DS_MAX_KEYS];
    struct sub subs[DS_MAX_SUBS];
    uint8_t blobs[DS_MAX_BLOBS + 1][DS_BLOB_MAX];
};
_Static_assert(sizeof(struct state) <= STATE_LEN, "ds's store is larger than its state region");

static struct state *const st = (struct state *)MANIFEST_STATE_VADDR;
static int test_hooks;       /* started with the argument "test": DS_TEST_DIE honoured */
static int die_after_commit; /* the change being made came with DS_TEST_DIE */
static uint8_t blob_used[DS_MAX_BLOBS + 1]; /* from the entries, at start and at each change */
static uint8_t stage[DS_BLOB_MAX];          /* a value on its way in */

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
        if (st->store[i].key[0] && !strcmp(st->store[i].key, key))
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
    return i >= 0 && st->store[i].type == DS_NUM ? (endpoint_t)st->store[i].v.num : 0;
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
    if (!st->store[i].key[0] || st->store[i].type)
        return;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (st->subs[s].ep && bit(st->subs[s].changed, i))
            return;
    st->store[i].key[0] = '\0';
}

static void settle_all(void)
{
    for (int i = 0; i < DS_MAX_KEYS; i++)
        settle(i);
}

/* A subscription goes by one store of its endpoint (its pattern then means nothing). */
static void free_sub(int s)
{
    __atomic_store_n(&st->subs[s].ep, 0, __ATOMIC_RELEASE);
}

static void drop_subscriber(endpoint_t ep)
{
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (st->subs[s].ep == ep)
            free_sub(s);
    settle_all();
}

/* Entry i changed: mark it for every matching subscription and notify each subscriber once. */
static void changed(int i)
{
    endpoint_t told[DS_MAX_SUBS];
    int n = 0;
    for (int s = 0; s < DS_MAX_SUBS; s++) {
        if (!st->subs[s].ep || !matches(st->subs[s].pattern, st->store[i].key))
            continue;
        st->subs[s].changed[i / 64] |= 1ull << (i % 64);
        int seen = 0;
        for (int t = 0; t < n; t++)
            seen |= told[t] == st->subs[s].ep;
        if (!seen)
            told[n++] = st->subs[s].ep;
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
        if (!st->store[i].key[0])
            return i;
    for (int i = 0; i < DS_MAX_KEYS; i++)
        if (!st->store[i].type) {
            for (int s = 0; s < DS_MAX_SUBS; s++)
                st->subs[s].changed[i / 64] &= ~(1ull << (i % 64));
            st->store[i].key[0] = '\0';
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
        if (st->store[i].type && !strncmp(st->store[i].key, key, (size_t)n + 1) &&
            (!in_slots_only || in_slot(&st->store[i])))
            count++;
    return count;
}

/*
 * A free blob slot: for a new long value only while fewer than DS_MAX_BLOBS
 * are in use; for one that replaces a long value any of the DS_MAX_BLOBS + 1
 * (one is always free then: the old value's slot is freed after the commit).
 */
static int new_blob(int replacing)
{
    int used = 0, free = -1;
    for (int b = 0; b <= DS_MAX_BLOBS; b++) {
        used += blob_used[b];
        if (!blob_used[b] && free < 0)
            free = b;
    }
    return replacing || used < DS_MAX_BLOBS ? free : -1;
}

static int in_slot(const struct entry *e)
{
    return e->type == DS_BLOB && e->len > DS_STR_MAX;
}

/* The journal's change into the store, told to subscribers; then no change is pending. */
static void apply(void)
{
    int i = (int)st->j.index;
    struct entry *e = &st->store[i];
    if (in_slot(e))
        blob_used[e->v.blob] = 0;
    *e = st->j.e;
    if (in_slot(e))
        blob_used[e->v.blob] = 1;
    changed(i); /* marks it for subscribers; a tombstone nobody waits for is freed */
    __atomic_store_n(&st->j.pending, 0, __ATOMIC_RELEASE);
}

/* Entry i becomes e: all of it, or (ds dying before the commit) none of it. */
static void commit(int i, const struct entry *e)
{
    st->j.e = *e;
    st->j.index = (uint64_t)i;
    __atomic_store_n(&st->j.pending, 1, __ATOMIC_RELEASE); /* the commit */
    if (die_after_commit) { /* the test hook: the next instance must finish it (recover) */
        printf("ds: test hook: exiting between the commit and the apply of '%s'\n", e->key);
        sys_exit(1);
    }
    apply();
}

static int publish(const message_t *m, message_t *reply)
{
    (void)reply;
    const struct msg_ds_publish *q = &m->u.ds.publish;
    endpoint_t who = m->source;
    uint32_t type = q->flags & DS_TYPE_MASK, len = q->len;
    if (check_key(q->key, 0) < 0 || (q->flags & ~(DS_TYPE_MASK | DS_OVERWRITE | DS_TEST_DIE)))
        return -E_INVAL;
    if ((q->flags & DS_TEST_DIE) && !test_hooks) {
        service_refuse("ds", m, "DS_TEST_DIE, a test hook: this ds was not started with 'test'");
        return -E_PERM;
    }
    if (type == DS_NUM)
        len = sizeof(uint64_t);
    else if ((type != DS_STR && type != DS_BLOB) ||
             len > (type == DS_STR ? DS_STR_MAX : DS_BLOB_MAX))
        return -E_INVAL;
    int r = may_write(m, q->key);
    if (r < 0)
        return r;
    int i = find(q->key);
    if (i >= 0 && st->store[i].type && !(q->flags & DS_OVERWRITE))
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
    int new_key = i < 0 || !st->store[i].type,
        new_slot = slot && !(i >= 0 && in_slot(&st->store[i]));
    /* a service's share: root (rs) has none, so ep.LABEL always finds room */
    if (who != ROOT_EP && ((new_key && owned(q->key, 0) >= DS_LABEL_KEYS) ||
                           (new_slot && owned(q->key, 1) >= DS_LABEL_BLOBS)))
        return -E_NOMEM;
    if (slot && (blob = new_blob(!new_slot)) < 0)
        return -E_NOMEM;
    if (i < 0 && (i = new_entry()) < 0)
        return -E_NOMEM;
    /* prepared aside: a new slot's bytes are nobody's until the commit names them */
    struct entry e = {.type = type, .len = len};
    strncpy_s(e.key, q->key, DS_KEY_MAX);
    if (type == DS_NUM) {
        memcpy(&e.v.num, stage, sizeof(uint64_t));
    } else if (!slot) {
        memcpy(e.v.str, stage, len);
    } else {
        e.v.blob = blob;
        memcpy(st->blobs[blob], stage, len);
    }
    die_after_commit = (q->flags & DS_TEST_DIE) != 0;
    commit(i, &e);
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
    if (i < 0 || !st->store[i].type)
        return -E_SRCH;
    const struct entry *e = &st->store[i];
    a->flags = e->type;
    a->len = e->len;
    if (want && want != e->type)
        return -E_INVAL;
    if (e->type == DS_NUM) {
        a->v.num = e->v.num;
        return 0;
    }
    const uint8_t *data = in_slot(e) ? st->blobs[e->v.blob] : e->v.str;
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
    if (i < 0 || !st->store[i].type)
        return -E_SRCH;
    struct entry e = {0};
    strncpy_s(e.key, st->store[i].key, DS_KEY_MAX); /* a tombstone: the name, no value */
    commit(i, &e);
    return 0;
}

/* Forget the subscriptions of processes that are gone (the table is full). */
static void sweep(void)
{
    struct proc_info info;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (st->subs[s].ep && sys_proc_info(st->subs[s].ep, &info) < 0)
            drop_subscriber(st->subs[s].ep);
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
        have += st->subs[t].ep == who;
        if (s < 0 && st->subs[t].ep == who && !strcmp(st->subs[t].pattern, q->pattern))
            s = t;
    }
    if (s < 0 && have >= DS_EP_SUBS)
        return -E_NOMEM; /* its share: no one endpoint takes every subscription */
    for (int pass = 0; pass < 2 && s < 0; pass++) {
        for (int t = 0; t < DS_MAX_SUBS && s < 0; t++)
            if (!st->subs[t].ep)
                s = t;
        if (s < 0 && pass == 0)
            sweep();
    }
    if (s < 0)
        return -E_NOMEM;
    if (!st->subs[s].ep) { /* filled while free; its endpoint's store makes it one */
        strncpy_s(st->subs[s].pattern, q->pattern, DS_KEY_MAX);
        memset(st->subs[s].changed, 0, sizeof(st->subs[s].changed));
        __atomic_store_n(&st->subs[s].ep, who, __ATOMIC_RELEASE);
    }
    int any = 0;
    for (int i = 0; i < DS_MAX_KEYS && (q->flags & DS_INITIAL); i++)
        if (st->store[i].type && matches(st->subs[s].pattern, st->store[i].key)) {
            st->subs[s].changed[i / 64] |= 1ull << (i % 64);
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
        if (st->subs[s].ep == m->source && !strcmp(st->subs[s].pattern, q->pattern)) {
            free_sub(s);
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
        if (st->subs[s].ep == who)
            for (int w = 0; w < WORDS; w++)
                all[w] |= st->subs[s].changed[w];
    int i = 0;
    while (i < DS_MAX_KEYS && !bit(all, i))
        i++;
    if (i == DS_MAX_KEYS)
        return 0;
    strncpy_s(a->key, st->store[i].key, DS_KEY_MAX);
    a->flags = st->store[i].type;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (st->subs[s].ep == who)
            st->subs[s].changed[i / 64] &= ~(1ull << (i % 64));
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

static uint64_t header_check(const struct header *h)
{
    uint64_t x = 0xcbf29ce484222325ull, w[2] = {h->magic, (uint64_t)h->version << 32 | h->len};
    const uint8_t *b = (const uint8_t *)w;
    for (uint64_t n = 0; n < sizeof(w); n++)
        x = (x ^ b[n]) * 0x100000001b3ull; /* FNV-1a */
    return x;
}

/* A key field as the store may hold it: NUL-terminated within DS_KEY_MAX. */
static int key_ok(const char *k)
{
    for (int n = 0; n < DS_KEY_MAX; n++)
        if (!k[n])
            return 1;
    return 0;
}

/* An entry a previous ds could have left; a long value's slot not also another's. */
static int entry_ok(const struct entry *e)
{
    if (!e->key[0])
        return 1;
    if (!key_ok(e->key) || e->type > DS_BLOB || (e->type == DS_NUM && e->len != sizeof(uint64_t)) ||
        (e->type == DS_STR && e->len > DS_STR_MAX) || (e->type == DS_BLOB && e->len > DS_BLOB_MAX))
        return 0;
    return !in_slot(e) || (e->v.blob >= 0 && e->v.blob <= DS_MAX_BLOBS && !blob_used[e->v.blob]);
}

/*
 * ds's store at start: the previous instance's if the region's header is
 * right (finishing a change it committed), else an empty one, logged. Bad
 * entries and subscriptions in a kept store are dropped and counted. Every
 * subscriber with changes marked is told again (a notification lost at the
 * death costs nothing twice).
 */
static void recover(void)
{
    struct header want = {STATE_MAGIC, STATE_VERSION, (uint32_t)sizeof(struct state), 0};
    want.check = header_check(&want);
    const struct header *h = &st->h;
    const char *why = !h->magic && !h->version && !h->len && !h->check ? 0
                      : h->check != header_check(h)                    ? "header checksum"
                      : h->magic != STATE_MAGIC                        ? "magic"
                      : h->version != STATE_VERSION                    ? "layout version"
                      : h->len != want.len                             ? "length"
                                                                       : "";
    if (!why || *why) {
        if (why)
            printf("ds: state region unusable (bad %s): starting with an empty store\n", why);
        memset(st, 0, sizeof(*st));
        st->h = want;
        return;
    }
    int pending = st->j.pending == 1 && st->j.index < DS_MAX_KEYS && entry_ok(&st->j.e);
    if (pending)
        st->store[st->j.index] = st->j.e; /* committed: done again below (apply) */
    int dropped = 0, keys = 0, nsubs = 0;
    memset(blob_used, 0, sizeof(blob_used));
    for (int i = 0; i < DS_MAX_KEYS; i++) {
        struct entry *e = &st->store[i];
        if (!entry_ok(e)) {
            e->key[0] = '\0';
            dropped++;
        } else if (in_slot(e)) {
            blob_used[e->v.blob] = 1;
        }
        keys += e->key[0] && e->type;
    }
    for (int s = 0; s < DS_MAX_SUBS; s++)
        if (st->subs[s].ep && !key_ok(st->subs[s].pattern)) {
            free_sub(s);
            dropped++;
        } else {
            nsubs += st->subs[s].ep != 0;
        }
    printf("ds: store kept across a restart: %d keys, %d subscriptions%s, %d bad dropped\n", keys,
           nsubs, pending ? ", a committed change finished" : "", dropped);
    if (pending)
        apply();
    else
        st->j.pending = 0;
    for (int s = 0; s < DS_MAX_SUBS; s++)
        for (int w = 0; w < WORDS && st->subs[s].ep; w++)
            if (st->subs[s].changed[w]) {
                if (ipc_notify(st->subs[s].ep) < 0)
                    drop_subscriber(st->subs[s].ep);
                break;
            }
    settle_all();
}

int main(uint64_t arg)
{
    test_hooks = arg && !strcmp((const char *)arg, "test");
    recover();
    service_startup("ds", 0);
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0 || m.source <= 0)
            continue; /* SYSTEM and HARDWARE have nothing for us */
        if (m.type == MSG_NOTIFY)
            continue; /* rs's heartbeat was answered in there; others mean nothing here */
        handle(&m);
    }
}
