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
uint64_t ds_client_resent;

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

/*
 * Is a notification from src ds's? Yes from the endpoint kept; from another
 * only if ds was restarted there (its store and subscriptions survive, so
 * its next notification comes from its new endpoint): asked of rs, so call
 * this for a notification nothing else claims.
 */
int ds_notifier(endpoint_t src)
{
    if (src > 0 && src == ds_ep)
        return 1;
    return src > 0 && root_lookup("ds") == src && (ds_ep = src) > 0;
}

/*
 * One request, m, answered in m: buf granted to ds when len > 0 (the grant
 * id goes into the request's grant field; it names ds's endpoint, so a
 * retry after E_DEADEP makes a new one). Returns the reply's result, or an
 * IPC error; a reply that breaks the protocol (not DS_REPLY, or a result
 * that is neither 0 nor an error) is E_INVAL.
 */
static int request(message_t *m, const void *buf, size_t len, uint32_t access)
{
    message_t copy = *m;
    for (int tries = 0;; tries++) {
        endpoint_t ep = ds_endpoint();
        if (ep < 0)
            return ep;
        grant_id_t g = -1;
        if (len > 0) {
            if ((g = grant_alloc(ep, buf, len, access)) < 0)
                return g;
            if (m->type == DS_PUBLISH)
                m->u.ds.publish.v.grant = g;
            else
                m->u.ds.retrieve.grant = g;
        }
        int r = ipc_sendrec_bounded(ep, m, DS_TIMEOUT_MS);
        if (g >= 0)
            grant_free(g);
        if (r == -E_DEADEP && tries == 0) {
            ds_ep = 0; /* ds is gone: find its new instance */
            ds_client_resent++;
            *m = copy;
            continue;
        }
        if (r < 0)
            return r;
        int64_t result = m->u.reply.result;
        if (m->type != DS_REPLY || result > 0 || result < -4095) /* errors are small */
            return -E_INVAL;
        return (int)result;
    }
}

int ds_call(message_t *m)
{
    return request(m, 0, 0, 0);
}

/* A request with a key (or pattern) in a field of DS_KEY_MAX bytes: -E_INVAL if it does not fit. */
static int put_key(message_t *m, int type, char *field, const char *key)
{
    *m = (message_t){.type = type};
    if (!key || strlen(key) >= DS_KEY_MAX)
        return -E_INVAL;
    strncpy_s(field, key, DS_KEY_MAX);
    return 0;
}

static int publish(const char *key, uint32_t flags, const void *data, size_t len)
{
    message_t m;
    struct msg_ds_publish *q = &m.u.ds.publish;
    if (len > DS_BLOB_MAX || put_key(&m, DS_PUBLISH, q->key, key) < 0)
        return -E_INVAL;
    q->flags = flags;
    q->len = (uint32_t)len;
    if (len <= DS_INLINE_MAX) {
        memcpy(q->v.data, data, len);
        return request(&m, 0, 0, 0);
    }
    return request(&m, data, len, GRANT_READ);
}

/*
 * Retrieve a value of the given type into buf (size bytes; a number: 8):
 * the value's length, or an error.
 */
static int retrieve(const char *key, uint32_t type, void *buf, size_t size)
{
    message_t m;
    struct msg_ds_retrieve *q = &m.u.ds.retrieve;
    const struct msg_ds_retrieve_reply *a = &m.u.ds.retrieve_reply;
    if (size > DS_BLOB_MAX)
        size = DS_BLOB_MAX;
    if (put_key(&m, DS_RETRIEVE, q->key, key) < 0)
        return -E_INVAL;
    q->flags = type;
    q->size = (uint32_t)size;
    int r = request(&m, buf, size > DS_INLINE_MAX ? size : 0, GRANT_WRITE);
    if (r < 0)
        return r;
    if (a->len > size) /* never believed past the buffer, whoever answered */
        return -E_RANGE;
    if (a->len <= DS_INLINE_MAX)
        memcpy(buf, a->v.data, a->len);
    return (int)a->len;
}

int ds_publish_u64(const char *key, uint64_t v, uint32_t flags)
{
    return publish(key, DS_NUM | flags, &v, sizeof(v));
}

int ds_retrieve_u64(const char *key, uint64_t *v)
{
    uint64_t num;
    int r = retrieve(key, DS_NUM, &num, sizeof(num));
    if (r < 0)
        return r;
    if (r != sizeof(num))
        return -E_INVAL; /* a broken answer */
    *v = num;
    return 0;
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

int ds_delete(const char *key)
{
    message_t m;
    if (put_key(&m, DS_DELETE, m.u.ds.delete_key.key, key) < 0)
        return -E_INVAL;
    return request(&m, 0, 0, 0);
}

int ds_subscribe(const char *pattern, uint32_t flags)
{
    message_t m;
    if (put_key(&m, DS_SUBSCRIBE, m.u.ds.subscribe.pattern, pattern) < 0)
        return -E_INVAL;
    m.u.ds.subscribe.flags = flags;
    return request(&m, 0, 0, 0);
}

int ds_unsubscribe(const char *pattern)
{
    message_t m;
    if (put_key(&m, DS_UNSUBSCRIBE, m.u.ds.unsubscribe.pattern, pattern) < 0)
        return -E_INVAL;
    return request(&m, 0, 0, 0);
}

int ds_check(char *keybuf, size_t len)
{
    message_t m = {.type = DS_CHECK};
    if (len < DS_KEY_MAX)
        return -E_INVAL;
    int r = request(&m, 0, 0, 0);
    if (r < 0)
        return r;
    struct msg_ds_check_reply *a = &m.u.ds.check_reply;
    a->key[DS_KEY_MAX - 1] = '\0';
    strncpy_s(keybuf, a->key, DS_KEY_MAX);
    return (int)strlen(keybuf);
}
