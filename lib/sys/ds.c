/*
 * Client stubs for ds, the data store (samsara/ds.h). ds is found with
 * ROOT_LOOKUP("ds") on first use and the endpoint kept; a call that fails
 * with E_DEADEP (ds was restarted) looks it up again and is sent once more.
 * Values longer than DS_INLINE_MAX bytes go through a grant to ds. ds
 * answers every request at once, so a wait is bounded (DS_TIMEOUT_MS): a
 * hung ds fails its clients' calls with E_TIMEDOUT and holds nobody, rs
 * included (it publishes every service's endpoint).
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "sys.h"

#define DS_TIMEOUT_MS 2000

static endpoint_t ds_ep;

void ds_client_reset(endpoint_t ep)
{
    ds_ep = ep;
}

static endpoint_t lookup(void)
{
    endpoint_t ep = root_lookup("ds");
    if (ep > 0)
        ds_ep = ep;
    return ep;
}

endpoint_t ds_endpoint(void)
{
    return ds_ep > 0 ? ds_ep : lookup();
}

int ds_call(message_t *m)
{
    message_t copy = *m;
    for (int tries = 0;; tries++) {
        endpoint_t ep = ds_endpoint();
        if (ep < 0)
            return ep;
        int r = ipc_sendrec_bounded(ep, m, DS_TIMEOUT_MS);
        if (r == 0)
            return m->type;
        if (r != -E_DEADEP || tries > 0)
            return r;
        ds_ep = 0; /* ds is gone: find its new instance */
        *m = copy;
    }
}

/*
 * One request: q in the payload, buf granted to ds when len > 0 (the grant
 * names ds's endpoint, so a retry after E_DEADEP makes a new one). The
 * reply's payload comes back in q.
 */
static int request(int type, struct ds_msg *q, const void *buf, size_t len, uint32_t access)
{
    for (int tries = 0;; tries++) {
        message_t m = {.type = type};
        endpoint_t ep = ds_endpoint();
        if (ep < 0)
            return ep;
        grant_id_t g = -1;
        if (len > 0) {
            if ((g = grant_alloc(ep, buf, len, access)) < 0)
                return g;
            q->v.grant = g;
        }
        memcpy(m.u.b, q, sizeof(*q));
        int r = ipc_sendrec_bounded(ep, &m, DS_TIMEOUT_MS);
        if (g >= 0)
            grant_free(g);
        if (r == -E_DEADEP && tries == 0) {
            ds_ep = 0; /* ds is gone: find its new instance */
            continue;
        }
        if (r < 0)
            return r;
        memcpy(q, m.u.b, sizeof(*q));
        return m.type;
    }
}

/* The key (or pattern) of a request: -E_INVAL if it does not fit. */
static int put_key(struct ds_msg *q, const char *key, uint32_t flags, uint32_t len)
{
    memset(q, 0, sizeof(*q));
    if (!key || strlen(key) >= DS_KEY_MAX)
        return -E_INVAL;
    strncpy_s(q->key, key, DS_KEY_MAX);
    q->flags = flags;
    q->len = len;
    return 0;
}

static int publish(const char *key, uint32_t flags, const void *data, size_t len)
{
    struct ds_msg q;
    if (len > DS_BLOB_MAX || put_key(&q, key, flags, (uint32_t)len) < 0)
        return -E_INVAL;
    if (len <= DS_INLINE_MAX) {
        memcpy(q.v.data, data, len);
        return request(DS_PUBLISH, &q, 0, 0, 0);
    }
    return request(DS_PUBLISH, &q, data, len, GRANT_READ);
}

/* Retrieve into buf (size bytes): the value's length, or an error. */
static int retrieve(const char *key, uint32_t type, void *buf, size_t size)
{
    struct ds_msg q;
    if (size > DS_BLOB_MAX)
        size = DS_BLOB_MAX;
    if (put_key(&q, key, type, (uint32_t)size) < 0)
        return -E_INVAL;
    int r = request(DS_RETRIEVE, &q, buf, size > DS_INLINE_MAX ? size : 0, GRANT_WRITE);
    if (r < 0)
        return r;
    if (q.len > size) /* never believed past the buffer, whoever answered */
        return -E_RANGE;
    if (q.len <= DS_INLINE_MAX)
        memcpy(buf, q.v.data, q.len);
    return (int)q.len;
}

int ds_publish_u64(const char *key, uint64_t v, uint32_t flags)
{
    struct ds_msg q;
    if (put_key(&q, key, DS_NUM | flags, sizeof(v)) < 0)
        return -E_INVAL;
    q.v.num = v;
    return request(DS_PUBLISH, &q, 0, 0, 0);
}

int ds_retrieve_u64(const char *key, uint64_t *v)
{
    struct ds_msg q;
    if (put_key(&q, key, DS_NUM, 0) < 0)
        return -E_INVAL;
    int r = request(DS_RETRIEVE, &q, 0, 0, 0);
    if (r == 0)
        *v = q.v.num;
    return r;
}

int ds_publish_str(const char *key, const char *s, uint32_t flags)
{
    size_t n = strlen(s);
    return n > DS_STR_MAX ? -E_INVAL : publish(key, DS_STR | flags, s, n);
}

int ds_retrieve_str(const char *key, char *buf, size_t size)
{
    if (size == 0)
        return -E_RANGE;
    int n = retrieve(key, DS_STR, buf, size - 1); /* room for the NUL */
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

int ds_publish_blob(const char *key, const void *data, size_t len, uint32_t flags)
{
    return publish(key, DS_BLOB | flags, data, len);
}

int ds_retrieve_blob(const char *key, void *buf, size_t size)
{
    return retrieve(key, DS_BLOB, buf, size);
}

static int simple(int type, const char *key, uint32_t flags)
{
    struct ds_msg q;
    if (put_key(&q, key, flags, 0) < 0)
        return -E_INVAL;
    return request(type, &q, 0, 0, 0);
}

int ds_delete(const char *key)
{
    return simple(DS_DELETE, key, 0);
}
int ds_subscribe(const char *pattern, uint32_t flags)
{
    return simple(DS_SUBSCRIBE, pattern, flags);
}
int ds_unsubscribe(const char *pattern)
{
    return simple(DS_UNSUBSCRIBE, pattern, 0);
}

int ds_check(char *keybuf, size_t len)
{
    struct ds_msg q = {0};
    if (len < DS_KEY_MAX)
        return -E_INVAL;
    int r = request(DS_CHECK, &q, 0, 0, 0);
    if (r < 0)
        return r;
    q.key[DS_KEY_MAX - 1] = '\0';
    strncpy_s(keybuf, q.key, DS_KEY_MAX);
    return (int)strlen(keybuf);
}
