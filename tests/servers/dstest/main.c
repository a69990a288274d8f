/*
 * dstest: the data store's tests (servers/ds, samsara/ds.h). A table of
 * named tests run by lib/test: one "TEST ds.NAME PASS|FAIL" line each,
 * then "dstest: N passed, M failed", then QEMU exits through port 0x501
 * (status 1 if every test passed, 3 otherwise).
 *
 * The same program plays two other parts, chosen by its argument:
 *   helper  a child spawned with ROOT_SPAWN (manifest dshelper): a second
 *           process that must not write dstest's keys, reads them, and
 *           hears of a change through its own subscription;
 *   owner   the service "dsowner" (a boot module of this image under that
 *           name, restarted at once when it dies): publishes its restart
 *           count, so a kill shows that ownership follows the label to the
 *           new endpoint;
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "sys.h"
#include "test/test.h" /* CHECK, EXPECT: a failed check marks the test failed and goes on */
#include "dstest.h"

static endpoint_t ds;
static endpoint_t dead_helper; /* a helper's endpoint after its death */
static uint8_t big[DS_BLOB_MAX + 64], back[DS_BLOB_MAX + 64];

/* ---- helpers ---- */

/*
 * A raw request (malformed ones too), m, sent to ds without the client
 * stubs: the reply's result, its body in m. An IPC failure and a reply
 * that is not DS_REPLY are told apart from ds's answers.
 */
static int raw(message_t *m)
{
    int r = ipc_sendrec(ds, m);
    if (r < 0)
        return r - 10000;
    if (m->type != DS_REPLY)
        return -20000;
    return (int)m->u.reply.result;
}

/* The key (pattern) and flags fields of a request of m's type; 0 for one without (DS_CHECK). */
static char *key_field(message_t *m, uint32_t **flags)
{
    union msg_ds *u = &m->u.ds;
    switch (m->type) {
    case DS_PUBLISH:
        *flags = &u->publish.flags;
        return u->publish.key;
    case DS_RETRIEVE:
        *flags = &u->retrieve.flags;
        return u->retrieve.key;
    case DS_DELETE:
        *flags = &u->delete_key.flags;
        return u->delete_key.key;
    case DS_SUBSCRIBE:
        *flags = &u->subscribe.flags;
        return u->subscribe.pattern;
    case DS_UNSUBSCRIBE:
        *flags = &u->unsubscribe.flags;
        return u->unsubscribe.pattern;
    }
    return 0;
}

/*
 * A request of the given type: key (or pattern) and flags, and for a
 * publish its len and grant, for a retrieve its size and grant (DS_CHECK
 * and unknown types: no body).
 */
static message_t rq(int type, const char *key, uint32_t flags, uint32_t len, int32_t grant)
{
    message_t m = {.type = type};
    uint32_t *f;
    char *k = key_field(&m, &f);
    if (k) {
        strncpy_s(k, key, DS_KEY_MAX);
        *f = flags;
    }
    if (type == DS_PUBLISH) {
        m.u.ds.publish.len = len;
        m.u.ds.publish.v.grant = grant;
    } else if (type == DS_RETRIEVE) {
        m.u.ds.retrieve.size = len;
        m.u.ds.retrieve.grant = grant;
    }
    return m;
}

/* Wait for SYSTEM's alarm or a message matching (src, type); 1 if it came in time. */
static int wait_for(endpoint_t src, int type, uint64_t ms, message_t *out)
{
    uint64_t deadline = sys_uptime() + ms;
    sys_alarm(ms);
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            continue;
        if (m.source == SYSTEM) {
            if ((m.u.notify.bits & NOTIFY_ALARM) && sys_uptime() >= deadline)
                return 0;
            if (m.u.notify.bits & NOTIFY_ALARM)
                sys_alarm(deadline - sys_uptime()); /* an old alarm */
            continue;
        }
        if (m.source == src && m.type == type) {
            sys_alarm(0);
            if (out)
                *out = m;
            return 1;
        }
    }
}

void sleep_ms(uint64_t ms)
{
    wait_for(NONE, 0, ms, 0);
}

/* A notification from ds pending now? (ds notifies before it replies.) */
static int notified(void)
{
    message_t m;
    int got = 0;
    while (ipc_receive_nb(ds, &m) == 0)
        got |= m.type == MSG_NOTIFY;
    return got;
}

/* Take every changed key; return how many. */
static int drain(void)
{
    char k[DS_KEY_MAX];
    int n = 0;
    while (ds_check(k, sizeof(k)) > 0 && n < 1000)
        n++;
    notified();
    return n;
}

static int check_is(const char *want)
{
    char k[DS_KEY_MAX];
    int r = ds_check(k, sizeof(k));
    if (r < 0 || strcmp(k, want)) {
        printf("dstest: ds_check gave %d \"%s\", expected \"%s\"\n", r, r >= 0 ? k : "", want);
        return 0;
    }
    return 1;
}

static int check_empty(void)
{
    char k[DS_KEY_MAX];
    int r = ds_check(k, sizeof(k));
    if (r != 0)
        printf("dstest: ds_check gave %d \"%s\", expected nothing\n", r, r > 0 ? k : "");
    return r == 0;
}

/* ds notified us, and its one changed key is `key` (each part checked and said, as three CHECKs).
 */
static int changed_only(const char *key)
{
    int told = notified();
    if (!told)
        printf("dstest: no notification, expected one for \"%s\"\n", key);
    int is = check_is(key), empty = check_empty();
    return told && is && empty;
}

/* Nothing changed for us: no notification, no key to check. */
static int unchanged(void)
{
    int told = notified();
    if (told)
        printf("dstest: a notification, expected none\n");
    int empty = check_empty();
    return !told && empty;
}

/* How many keys ds holds: subscribe to everything with DS_INITIAL and count. */
static int count_keys(void)
{
    drain();
    if (ds_subscribe("*", DS_INITIAL) < 0)
        return -1;
    int n = drain();
    ds_unsubscribe("*");
    return n;
}

/* ---- values ---- */

static void test_lookup(void)
{
    CHECK(ds > 0);
    EXPECT(ds_endpoint(), ds);
    EXPECT(root_lookup("ds"), ds);
}

static void test_num(void)
{
    uint64_t v = 0;
    EXPECT(ds_publish_u64("dstest.num", 0xdeadbeefcafef00dull, 0), 0);
    EXPECT(ds_retrieve_u64("dstest.num", &v), 0);
    EXPECT(v == 0xdeadbeefcafef00dull, 1);
    EXPECT(ds_publish_u64("dstest.num", 1, 0), -E_BUSY);
    EXPECT(ds_retrieve_u64("dstest.num", &v), 0);
    EXPECT(v == 0xdeadbeefcafef00dull, 1);
    EXPECT(ds_publish_u64("dstest.num", ~0ull, DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_u64("dstest.num", &v), 0);
    EXPECT(v == ~0ull, 1);
    EXPECT(ds_publish_u64("dstest.zero", 0, DS_OVERWRITE), 0); /* overwrite of nothing: fine */
    EXPECT(ds_retrieve_u64("dstest.zero", &v), 0);
    EXPECT(v, 0);
    /* a 31-character key, the longest */
    EXPECT(ds_publish_u64("dstest.abcdefghijklmnopqrstuvwx", 31, 0), 0);
    EXPECT(ds_retrieve_u64("dstest.abcdefghijklmnopqrstuvwx", &v), 0);
    EXPECT(v, 31);
    EXPECT(ds_publish_u64("dstest.abcdefghijklmnopqrstuvwxy", 32, 0), -E_INVAL);
    EXPECT(ds_delete("dstest.abcdefghijklmnopqrstuvwx"), 0);
    EXPECT(ds_delete("dstest.zero"), 0);
}

static void test_str(void)
{
    char buf[64];
    static const char *const strs[] = {"", "hello", "sixteen-chars-ok", "seventeen-chars-x",
                                       "thirty-two-characters-exactly-32"};
    for (int i = 0; i < 5; i++) {
        EXPECT(ds_publish_str("dstest.str", strs[i], DS_OVERWRITE), 0);
        memset(buf, 'x', sizeof(buf));
        EXPECT(ds_retrieve_str("dstest.str", buf, sizeof(buf)), strlen(strs[i]));
        CHECK(!strcmp(buf, strs[i]));
    }
    EXPECT(ds_publish_str("dstest.str", "thirty-three-characters-exactly33", DS_OVERWRITE),
           -E_INVAL);
    /* the value is unchanged; a buffer too small for it */
    EXPECT(ds_retrieve_str("dstest.str", buf, 32), -E_RANGE);
    EXPECT(ds_retrieve_str("dstest.str", buf, 33), 32);
    EXPECT(ds_publish_str("dstest.str", "short", DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_str("dstest.str", buf, 4), -E_RANGE); /* inline, but still too long */
    EXPECT(ds_retrieve_str("dstest.str", buf, 6), 5);
    /* the server's own check of a string's length */
    message_t m = rq(DS_PUBLISH, "dstest.str", DS_STR | DS_OVERWRITE, DS_STR_MAX + 1, 0);
    EXPECT(raw(&m), -E_INVAL);
    EXPECT(ds_delete("dstest.str"), 0);
}

static void test_blob(void)
{
    for (int i = 0; i < DS_BLOB_MAX; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    static const uint32_t sizes[] = {0, 1, 16, 17, 32, 33, 100, 4095, DS_BLOB_MAX};
    for (int s = 0; s < 9; s++) {
        uint32_t n = sizes[s];
        EXPECT(ds_publish_blob("dstest.blob", big + s, n, DS_OVERWRITE), 0);
        memset(back, 0xee, sizeof(back));
        EXPECT(ds_retrieve_blob("dstest.blob", back, sizeof(back)), n);
        CHECK(!memcmp(back, big + s, n));
        CHECK(back[n] == 0xee); /* nothing past the value */
    }
    EXPECT(ds_retrieve_blob("dstest.blob", back, 100), -E_RANGE);
    /* E_RANGE tells the size */
    message_t m = rq(DS_RETRIEVE, "dstest.blob", DS_BLOB, 8, 0);
    EXPECT(raw(&m), -E_RANGE);
    EXPECT(m.u.ds.retrieve_reply.len, DS_BLOB_MAX);
    EXPECT(ds_publish_blob("dstest.blob", big, DS_BLOB_MAX + 1, DS_OVERWRITE), -E_INVAL);
    m = rq(DS_PUBLISH, "dstest.blob", DS_BLOB | DS_OVERWRITE, DS_BLOB_MAX + 1, 0);
    EXPECT(raw(&m), -E_INVAL);
    EXPECT(ds_delete("dstest.blob"), 0);
}

static void test_types(void)
{
    uint64_t v;
    char s[40];
    EXPECT(ds_publish_str("dstest.typed", "text", 0), 0);
    EXPECT(ds_retrieve_u64("dstest.typed", &v), -E_INVAL);
    EXPECT(ds_retrieve_blob("dstest.typed", s, sizeof(s)), -E_INVAL);
    /* the reply names the real type; type 0 takes any */
    message_t m = rq(DS_RETRIEVE, "dstest.typed", DS_NUM, 0, 0);
    EXPECT(raw(&m), -E_INVAL);
    EXPECT(m.u.ds.retrieve_reply.flags, DS_STR);
    m = rq(DS_RETRIEVE, "dstest.typed", 0, 16, 0);
    EXPECT(raw(&m), 0);
    EXPECT(m.u.ds.retrieve_reply.flags, DS_STR);
    EXPECT(m.u.ds.retrieve_reply.len, 4);
    CHECK(!memcmp(m.u.ds.retrieve_reply.v.data, "text\0\0\0\0\0\0\0\0\0\0\0\0", DS_INLINE_MAX));
    /* DS_OVERWRITE may change the type */
    EXPECT(ds_publish_u64("dstest.typed", 5, DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_u64("dstest.typed", &v), 0);
    EXPECT(v, 5);
    EXPECT(ds_retrieve_str("dstest.typed", s, sizeof(s)), -E_INVAL);
    EXPECT(ds_publish_blob("dstest.typed", big, 1000, DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_blob("dstest.typed", back, sizeof(back)), 1000);
    EXPECT(ds_publish_str("dstest.typed", "again", DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_str("dstest.typed", s, sizeof(s)), 5);
    EXPECT(ds_delete("dstest.typed"), 0);
}

/*
 * Every answer is DS_REPLY with the result in its first word; a retrieve's
 * reply has flags, len and the value after it (no key), a check's the key.
 */
static void test_reply_convention(void)
{
    drain();
    EXPECT(ds_publish_str("dstest.rc", "abc", DS_OVERWRITE), 0);
    static const struct {
        int type;
        int64_t result;
    } answers[] = {
        {DS_PUBLISH, -E_INVAL}, /* flags 0: no type */
        {DS_RETRIEVE, 0},       {DS_SUBSCRIBE, 0},    {DS_UNSUBSCRIBE, 0},  {DS_CHECK, 0},
        {DS_DELETE, 0},         {DS_DELETE, -E_SRCH}, {DS_REPLY, -E_NOSYS}, {0, -E_NOSYS},
    };
    for (int i = 0; i < 9; i++) {
        message_t m = rq(answers[i].type, "dstest.rc", 0, 0, 0);
        EXPECT(ipc_sendrec(ds, &m), 0);
        EXPECT(m.type, DS_REPLY);
        EXPECT((int64_t)m.u.w[0], answers[i].result);
    }
    EXPECT(ds_publish_str("dstest.rc", "abc", 0), 0);
    message_t m = rq(DS_RETRIEVE, "dstest.rc", DS_STR, 0, 0);
    EXPECT(raw(&m), 0);
    uint32_t flags_len[2];
    memcpy(flags_len, m.u.b + 8, sizeof(flags_len));
    EXPECT(flags_len[0], DS_STR);
    EXPECT(flags_len[1], 3);
    CHECK(!memcmp(m.u.b + 16, "abc", 4));
    EXPECT(ds_subscribe("dstest.rc", 0), 0);
    EXPECT(ds_delete("dstest.rc"), 0);
    m = (message_t){.type = DS_CHECK};
    EXPECT(raw(&m), 0);
    CHECK(!strcmp((const char *)m.u.b + 8, "dstest.rc"));
    EXPECT(ds_unsubscribe("dstest.rc"), 0);
    drain();
}

static void test_delete(void)
{
    uint64_t v;
    EXPECT(ds_retrieve_u64("dstest.never", &v), -E_SRCH);
    EXPECT(ds_delete("dstest.never"), -E_SRCH);
    EXPECT(ds_publish_u64("dstest.del", 1, 0), 0);
    EXPECT(ds_delete("dstest.del"), 0);
    EXPECT(ds_retrieve_u64("dstest.del", &v), -E_SRCH);
    EXPECT(ds_delete("dstest.del"), -E_SRCH);
    EXPECT(ds_publish_u64("dstest.del", 2, 0), 0); /* gone: no DS_OVERWRITE needed */
    EXPECT(ds_retrieve_u64("dstest.del", &v), 0);
    EXPECT(v, 2);
    EXPECT(ds_delete("dstest.del"), 0);
}

/* ---- ownership ---- */

static void test_owner_label(void)
{
    EXPECT(ds_publish_u64("nobody.x", 1, 0), -E_PERM);     /* no such service */
    EXPECT(ds_publish_u64("ds.x", 1, 0), -E_PERM);         /* another service */
    EXPECT(ds_publish_u64("root.x", 1, 0), -E_PERM);       /* root is not a label */
    EXPECT(ds_publish_u64("ep.dstest", 1, 0), -E_PERM);    /* rs's keys */
    EXPECT(ds_publish_u64("owner.dstest", 1, 0), -E_PERM); /* rs's keys */
    EXPECT(ds_publish_u64("owner.x", 1, 0), -E_PERM);
    EXPECT(ds_publish_u64("dstest", 1, 0), -E_PERM);              /* no label part */
    EXPECT(ds_publish_u64(".dstest", 1, 0), -E_PERM);             /* empty label */
    EXPECT(ds_publish_u64("dstest/x", 1, 0), -E_PERM);            /* '/' does not end a label */
    EXPECT(ds_publish_u64("dstestdstestdstes.x", 1, 0), -E_PERM); /* 17: beyond ROOT_LOOKUP */
    EXPECT(ds_publish_u64("dstest.", 1, 0), 0);                   /* the label and nothing else */
    EXPECT(ds_delete("dstest."), 0);
    EXPECT(ds_delete("ds.x"), -E_PERM);
    EXPECT(ds_delete("nobody.x"), -E_PERM);
    /* a refused write changes nothing */
    uint64_t v;
    EXPECT(ds_retrieve_u64("nobody.x", &v), -E_SRCH);
    /* the owner ds checks against: rs published it at our start (ds asks rs nothing) */
    EXPECT(ds_retrieve_u64("owner.dstest", &v), 0);
    EXPECT(v, (uint64_t)self_ep);
}

/* The helper (a child, not a service) against dstest's keys. */
static int helper_main(void)
{
    uint64_t fails = 0, v = 0;
    if (ds_publish_u64("dstest.owned", 7, DS_OVERWRITE) != -E_PERM)
        fails |= 1;
    if (ds_delete("dstest.owned") != -E_PERM)
        fails |= 2;
    if (ds_publish_u64("dshelper.x", 1, 0) != -E_PERM) /* not a service: owns nothing */
        fails |= 4;
    if (ds_retrieve_u64("dstest.owned", &v) != 0 || v != 42) /* but reads anything */
        fails |= 8;
    if (ds_subscribe("dstest.forhelper", 0) != 0 || ds_subscribe("dstest.h1*", 0) != 0 ||
        ds_subscribe("dstest.h2*", 0) != 0)
        fails |= 16;
    message_t m = {.type = TEST_HELPER_READY, .u.w = {fails}};
    if (ipc_sendrec(parent_ep, &m) < 0) /* the parent publishes dstest.forhelper */
        return 1;
    if (!wait_for(ds_endpoint(), MSG_NOTIFY, 2000, 0))
        fails |= 32;
    char k[DS_KEY_MAX];
    if (ds_check(k, sizeof(k)) <= 0 || strcmp(k, "dstest.forhelper"))
        fails |= 64;
    if (ds_check(k, sizeof(k)) != 0)
        fails |= 128;
    m = (message_t){.type = TEST_HELPER_DONE, .u.w = {fails}};
    ipc_send(parent_ep, &m);
    return 0; /* its subscriptions stay behind, to be swept */
}

/*
 * "fakeds": a helper that answers as a broken ds would: a retrieve or a
 * check with a length of 1000 (and a key without a NUL); a publish with a
 * reply in the old convention (type 0, which meant success); a delete with
 * a positive result; a subscribe with a result that is 0 in 32 bits.
 */
static int fakeds_main(void)
{
    for (;;) {
        message_t m;
        if (ipc_receive(parent_ep, &m) < 0)
            continue;
        if (m.type == TEST_HELPER_DONE)
            return 0;
        message_t r = {.type = DS_REPLY};
        if (m.type == DS_RETRIEVE) {
            r.u.ds.retrieve_reply.flags = DS_STR;
            r.u.ds.retrieve_reply.len = 1000;
        } else if (m.type == DS_CHECK) {
            memset(r.u.ds.check_reply.key, 'a', DS_KEY_MAX);
            r.u.ds.check_reply.flags = DS_STR;
            r.u.ds.check_reply.len = 1000;
        } else if (m.type == DS_PUBLISH) {
            r.type = 0;
        } else if (m.type == DS_DELETE) {
            r.u.reply.result = 5;
        } else if (m.type == DS_SUBSCRIBE) {
            r.u.reply.result = -(1ll << 40);
        }
        ipc_sendnb(m.source, &r);
    }
}

/* The client stubs never write past the caller's buffer, whatever the answer says. */
static void test_client_checks_replies(void)
{
    endpoint_t fake = root_spawn("dstest", "dshelper", "fakeds");
    CHECK(fake > 0);
    if (fake <= 0)
        return;
    struct {
        char buf[8];
        char canary[1100];
    } out;
    memset(&out, 0x77, sizeof(out));
    ds_client_reset(fake);
    EXPECT(ds_retrieve_str("dstest.x", out.buf, sizeof(out.buf)), -E_RANGE);
    EXPECT(ds_retrieve_blob("dstest.x", out.buf, sizeof(out.buf)), -E_RANGE);
    uint64_t v = 7;
    EXPECT(ds_retrieve_u64("dstest.x", &v), -E_RANGE);
    EXPECT(v, 7);
    /* a reply that breaks the convention: not DS_REPLY, or a result neither 0 nor an error */
    EXPECT(ds_publish_u64("dstest.x", 1, 0), -E_INVAL);
    EXPECT(ds_delete("dstest.x"), -E_INVAL);
    EXPECT(ds_subscribe("dstest.x", 0), -E_INVAL);
    EXPECT(ds_unsubscribe("dstest.x"), 0);
    char k[DS_KEY_MAX + 8];
    memset(k, 0x77, sizeof(k));
    EXPECT(ds_check(k, DS_KEY_MAX), DS_KEY_MAX - 1); /* the key cut to fit, with its NUL */
    CHECK(k[DS_KEY_MAX] == 0x77);
    int intact = 1;
    for (size_t i = 0; i < sizeof(out.canary); i++)
        intact &= out.canary[i] == 0x77;
    CHECK(intact);
    ds_client_reset(0);
    message_t m = {.type = TEST_HELPER_DONE};
    ipc_send(fake, &m);
    struct death_info d;
    for (int i = 0; sys_proc_reap(&d) != fake && i < 200; i++)
        sleep_ms(10);
    EXPECT(ds_endpoint(), ds);
}

static void test_owner_other_process(void)
{
    uint64_t v;
    EXPECT(ds_publish_u64("dstest.owned", 42, DS_OVERWRITE), 0);
    endpoint_t helper = root_spawn("dstest", "dshelper", "helper");
    message_t m;
    if (helper <= 0) {
        printf("dstest: cannot spawn the helper: %s\n", strerror_s(helper));
        test_failed(__FILE__, __LINE__, "spawn the helper");
        return;
    }
    if (ipc_receive(helper, &m) < 0 || m.type != TEST_HELPER_READY) {
        test_failed(__FILE__, __LINE__, "the helper's ready message");
        return;
    }
    EXPECT(m.u.w[0], 0);
    EXPECT(ds_publish_u64("dstest.forhelper", 1, DS_OVERWRITE), 0);
    message_t ok = {.type = 0};
    EXPECT(ipc_sendnb(helper, &ok), 0);
    if (ipc_receive(helper, &m) < 0 || m.type != TEST_HELPER_DONE) {
        test_failed(__FILE__, __LINE__, "the helper's done message");
        return;
    }
    EXPECT(m.u.w[0], 0); /* bit n: the helper's check n failed */
    EXPECT(ds_retrieve_u64("dstest.owned", &v), 0);
    EXPECT(v, 42);
    /* reap it: its endpoint is now dead (test_client_relookup, test_limit_subs) */
    struct death_info d;
    int i = 0;
    while (sys_proc_reap(&d) != helper && i++ < 200)
        sleep_ms(10);
    CHECK(i <= 200);
    dead_helper = helper;
    /* its subscriptions stay until test_limit_subs needs their room */
}

/* The owner is the label: a restarted dsowner (new endpoint) still writes its keys. */
static _Noreturn void owner_main(void)
{
    uint64_t gen = service_startup("dstest", 0); /* how often rs restarted it */
    int r1 = ds_publish_u64("dsowner.ep", (uint64_t)self_ep, DS_OVERWRITE);
    int r2 = ds_publish_u64("dsowner.gen", gen, DS_OVERWRITE);
    if (r1 < 0 || r2 < 0)
        printf("dsowner: publish failed: %s %s\n", strerror_s(r1), strerror_s(r2));
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) == 0)
            service_handle(&m); /* rs's heartbeat */
    }
}

static void test_owner_restart(void)
{
    uint64_t gen = 0, old = 0, now = 0;
    int i = 0;
    while (ds_retrieve_u64("dsowner.gen", &gen) != 0 && i++ < 300)
        sleep_ms(10);
    EXPECT(ds_retrieve_u64("dsowner.gen", &gen), 0);
    EXPECT(ds_retrieve_u64("dsowner.ep", &old), 0);
    EXPECT(root_lookup("dsowner"), (endpoint_t)old);
    EXPECT(ds_publish_u64("dsowner.gen", 99, DS_OVERWRITE), -E_PERM);
    drain();
    EXPECT(ds_subscribe("dsowner.gen", 0), 0);
    EXPECT(root_service(SVC_KILL, "dsowner", 0), 0);
    CHECK(wait_for(ds, MSG_NOTIFY, 3000, 0));
    CHECK(check_is("dsowner.gen"));
    EXPECT(ds_retrieve_u64("dsowner.gen", &now), 0);
    EXPECT(now, gen + 1);
    EXPECT(ds_retrieve_u64("dsowner.ep", &now), 0);
    CHECK(now != old);
    EXPECT(root_lookup("dsowner"), (endpoint_t)now);
    uint64_t owner = 0; /* rs published the new instance as the owner before it ran */
    EXPECT(ds_retrieve_u64("owner.dsowner", &owner), 0);
    EXPECT(owner, now);
    EXPECT(ds_publish_u64("dsowner.gen", 99, DS_OVERWRITE), -E_PERM);
    EXPECT(ds_unsubscribe("dsowner.gen"), 0);
    drain();
}

/* ---- subscriptions ---- */

static void test_sub_exact(void)
{
    drain();
    EXPECT(ds_subscribe("dstest.exact", 0), 0);
    CHECK(unchanged());
    EXPECT(ds_publish_u64("dstest.exact", 1, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.exact"));
    /* neither a longer key nor another one */
    EXPECT(ds_publish_u64("dstest.exactly", 1, DS_OVERWRITE), 0);
    EXPECT(ds_publish_u64("dstest.exac", 1, DS_OVERWRITE), 0);
    CHECK(unchanged());
    /* subscribing twice is one subscription: one change, one check */
    EXPECT(ds_subscribe("dstest.exact", 0), 0);
    EXPECT(ds_publish_u64("dstest.exact", 2, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.exact"));
    EXPECT(ds_unsubscribe("dstest.exact"), 0);
    EXPECT(ds_unsubscribe("dstest.exact"), -E_SRCH);
    EXPECT(ds_publish_u64("dstest.exact", 3, DS_OVERWRITE), 0);
    CHECK(unchanged());
    EXPECT(ds_delete("dstest.exact"), 0);
    EXPECT(ds_delete("dstest.exactly"), 0);
    EXPECT(ds_delete("dstest.exac"), 0);
}

static void test_sub_pattern(void)
{
    drain();
    EXPECT(ds_subscribe("dstest.p.*", 0), 0);
    EXPECT(ds_publish_u64("dstest.p.a", 1, DS_OVERWRITE), 0);
    EXPECT(ds_publish_str("dstest.p.b", "x", DS_OVERWRITE), 0);
    EXPECT(ds_publish_u64("dstest.q", 1, DS_OVERWRITE), 0);
    EXPECT(ds_publish_u64("dstest.p", 1, DS_OVERWRITE), 0); /* the prefix is "dstest.p." */
    CHECK(notified());
    message_t m = {.type = DS_CHECK};
    const struct msg_ds_check_reply *a = &m.u.ds.check_reply;
    EXPECT(raw(&m), 0);
    CHECK(!strcmp(a->key, "dstest.p.a"));
    EXPECT(a->flags, DS_NUM);
    EXPECT(a->len, 1); /* one more to come */
    m = (message_t){.type = DS_CHECK};
    EXPECT(raw(&m), 0);
    CHECK(!strcmp(a->key, "dstest.p.b"));
    EXPECT(a->flags, DS_STR);
    EXPECT(a->len, 0);
    CHECK(check_empty());
    /* many changes to one key before a check: one check */
    for (int i = 0; i < 5; i++)
        EXPECT(ds_publish_u64("dstest.p.a", (uint64_t)i, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.p.a"));
    /* two patterns that both match: still one check */
    EXPECT(ds_subscribe("dstest.*", 0), 0);
    EXPECT(ds_publish_u64("dstest.p.a", 9, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.p.a"));
    EXPECT(ds_unsubscribe("dstest.*"), 0);
    EXPECT(ds_unsubscribe("dstest.p.*"), 0);
    EXPECT(ds_delete("dstest.p.a"), 0);
    EXPECT(ds_delete("dstest.p.b"), 0);
    EXPECT(ds_delete("dstest.q"), 0);
    EXPECT(ds_delete("dstest.p"), 0);
    CHECK(unchanged());
}

static void test_sub_delete(void)
{
    uint64_t v;
    drain();
    EXPECT(ds_publish_u64("dstest.d.k", 1, DS_OVERWRITE), 0);
    EXPECT(ds_subscribe("dstest.d.*", 0), 0);
    EXPECT(ds_delete("dstest.d.k"), 0);
    CHECK(notified());
    message_t m = {.type = DS_CHECK};
    const struct msg_ds_check_reply *a = &m.u.ds.check_reply;
    EXPECT(raw(&m), 0);
    CHECK(!strcmp(a->key, "dstest.d.k"));
    EXPECT(a->flags, 0); /* deleted */
    EXPECT(ds_retrieve_u64("dstest.d.k", &v), -E_SRCH);
    CHECK(check_empty());
    /* published again after a delete, before the check: one change, the new value */
    EXPECT(ds_publish_u64("dstest.d.k", 2, 0), 0);
    EXPECT(ds_delete("dstest.d.k"), 0);
    EXPECT(ds_publish_u64("dstest.d.k", 3, 0), 0);
    m = (message_t){.type = DS_CHECK};
    EXPECT(raw(&m), 0);
    CHECK(!strcmp(a->key, "dstest.d.k"));
    EXPECT(a->flags, DS_NUM);
    CHECK(check_empty());
    EXPECT(ds_delete("dstest.d.k"), 0);
    CHECK(check_is("dstest.d.k"));
    EXPECT(ds_unsubscribe("dstest.d.*"), 0);
}

static void test_sub_initial(void)
{
    drain();
    EXPECT(ds_publish_u64("dstest.i.1", 1, DS_OVERWRITE), 0);
    EXPECT(ds_publish_u64("dstest.i.2", 2, DS_OVERWRITE), 0);
    EXPECT(ds_subscribe("dstest.i.*", 0), 0); /* without DS_INITIAL: nothing yet */
    CHECK(unchanged());
    EXPECT(ds_subscribe("dstest.i.*", DS_INITIAL), 0);
    CHECK(notified());
    CHECK(check_is("dstest.i.1"));
    CHECK(check_is("dstest.i.2"));
    CHECK(check_empty());
    EXPECT(ds_unsubscribe("dstest.i.*"), 0);
    EXPECT(ds_subscribe("dstest.i.2", DS_INITIAL), 0); /* an exact key */
    CHECK(changed_only("dstest.i.2"));
    EXPECT(ds_subscribe("dstest.i.3", DS_INITIAL), 0); /* not there: nothing */
    CHECK(!notified());
    EXPECT(ds_unsubscribe("dstest.i.2"), 0);
    EXPECT(ds_unsubscribe("dstest.i.3"), 0);
    EXPECT(ds_delete("dstest.i.1"), 0);
    EXPECT(ds_delete("dstest.i.2"), 0);
}

static void test_sub_everything(void)
{
    drain();
    EXPECT(ds_subscribe("*", 0), 0);
    EXPECT(ds_publish_u64("dstest.all", 1, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.all"));
    EXPECT(ds_unsubscribe("*"), 0);
    EXPECT(ds_delete("dstest.all"), 0);
    CHECK(!notified());
}

/* ---- limits ---- */

static void key_name(char *k, const char *prefix, int n)
{
    int p = (int)strlen(prefix), d = 0;
    char num[8];
    do {
        num[d++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    memcpy(k, prefix, (size_t)p);
    for (int j = 0; j < d; j++)
        k[p + j] = num[d - 1 - j];
    k[p + d] = '\0';
}

/* Keys matching pattern now: subscribe with DS_INITIAL and count. */
static int count_matching(const char *pattern)
{
    drain();
    if (ds_subscribe(pattern, DS_INITIAL) < 0)
        return -1;
    int n = drain();
    ds_unsubscribe(pattern);
    return n;
}

/*
 * One service cannot fill a table and so deny every other: it may hold
 * DS_LABEL_KEYS live keys under its label, DS_LABEL_BLOBS of them long, and
 * DS_EP_SUBS subscriptions (limit_subs). Before, dstest took all 256
 * entries, and rs could not publish ep.LABEL for a restarted service.
 */
static void test_quota_per_owner(void)
{
    char key[DS_KEY_MAX];
    int mine = count_matching("dstest.*"), total = count_keys(), n, r = 0;
    for (n = 0; n < DS_MAX_KEYS; n++) {
        key_name(key, "dstest.q", n);
        if ((r = ds_publish_u64(key, (uint64_t)n, 0)) < 0)
            break;
    }
    EXPECT(r, -E_NOMEM);
    EXPECT(n + mine, DS_LABEL_KEYS);
    CHECK(count_keys() < DS_MAX_KEYS);                       /* room left for others */
    EXPECT(ds_publish_u64("dstest.q0", 7, DS_OVERWRITE), 0); /* an overwrite needs no new key */
    for (int i = 0; i < n; i++) {
        key_name(key, "dstest.q", i);
        EXPECT(ds_delete(key), 0);
    }
    EXPECT(count_keys(), total);
    for (n = 0; n < DS_MAX_BLOBS; n++) {
        key_name(key, "dstest.qb", n);
        if ((r = ds_publish_blob(key, big, DS_STR_MAX + 1, 0)) < 0)
            break;
    }
    EXPECT(r, -E_NOMEM);
    EXPECT(n, DS_LABEL_BLOBS);
    EXPECT(ds_publish_blob(key, big, DS_STR_MAX, 0), 0); /* a short one needs no slot */
    EXPECT(ds_publish_blob("dstest.qb0", big, 200, DS_OVERWRITE), 0); /* keeps its slot */
    EXPECT(ds_delete(key), 0);
    for (int i = 0; i < n; i++) {
        key_name(key, "dstest.qb", i);
        EXPECT(ds_delete(key), 0);
    }
    EXPECT(count_keys(), total);
    drain();
}

/* A service's share of keys, then E_NOMEM; one freed, one more fits. */
static void test_limit_keys(void)
{
    int mine = count_matching("dstest.*"), before = count_keys(), n = 0, r = 0;
    char key[DS_KEY_MAX];
    CHECK(before > 0);
    for (n = 0; n <= DS_MAX_KEYS; n++) {
        key_name(key, "dstest.k", n);
        if ((r = ds_publish_u64(key, (uint64_t)n, 0)) < 0)
            break;
    }
    EXPECT(r, -E_NOMEM);
    EXPECT(n + mine, DS_LABEL_KEYS);
    uint64_t v;
    EXPECT(ds_retrieve_u64(key, &v), -E_SRCH); /* the refused one is not there */
    /* one freed, one more fits */
    EXPECT(ds_delete("dstest.k0"), 0);
    EXPECT(ds_publish_u64(key, 1, 0), 0);
    EXPECT(ds_publish_u64("dstest.k0", 1, 0), -E_NOMEM);
    for (int i = 1; i <= n; i++) {
        key_name(key, "dstest.k", i);
        EXPECT(ds_delete(key), 0);
    }
    EXPECT(count_keys(), before);
}

static void test_limit_blobs(void)
{
    char key[DS_KEY_MAX];
    int n, r = 0;
    for (n = 0; n <= DS_LABEL_BLOBS; n++) {
        key_name(key, "dstest.b", n);
        if ((r = ds_publish_blob(key, big, 100, 0)) < 0)
            break;
    }
    EXPECT(r, -E_NOMEM);
    EXPECT(n, DS_LABEL_BLOBS);
    EXPECT(ds_retrieve_blob(key, back, sizeof(back)), -E_SRCH);
    /* short blobs and other values need no slot */
    EXPECT(ds_publish_blob(key, big, DS_STR_MAX, 0), 0);
    EXPECT(ds_publish_blob(key, big, DS_STR_MAX + 1, DS_OVERWRITE), -E_NOMEM);
    EXPECT(ds_retrieve_blob(key, back, sizeof(back)), DS_STR_MAX); /* unchanged */
    /* an overwrite keeps its slot; a shrink frees it */
    EXPECT(ds_publish_blob("dstest.b0", big + 1, DS_BLOB_MAX, DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_blob("dstest.b0", back, sizeof(back)), DS_BLOB_MAX);
    CHECK(!memcmp(back, big + 1, DS_BLOB_MAX));
    EXPECT(ds_publish_blob("dstest.b0", big, 3, DS_OVERWRITE), 0);
    EXPECT(ds_publish_blob(key, big, 200, DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_blob(key, back, sizeof(back)), 200);
    for (int i = 0; i <= n; i++) {
        key_name(key, "dstest.b", i);
        EXPECT(ds_delete(key), 0);
    }
    /* all free again */
    for (n = 0; n < DS_LABEL_BLOBS; n++) {
        key_name(key, "dstest.b", n);
        if (ds_publish_blob(key, big, 100, 0) < 0)
            break;
    }
    EXPECT(n, DS_LABEL_BLOBS);
    for (int i = 0; i < n; i++) {
        key_name(key, "dstest.b", i);
        EXPECT(ds_delete(key), 0);
    }
}

/* An endpoint's share of subscriptions (the dead helper's do not count against ours). */
static void test_limit_subs(void)
{
    char key[DS_KEY_MAX];
    int n, r = 0;
    CHECK(dead_helper > 0);
    for (n = 0; n <= DS_EP_SUBS; n++) {
        key_name(key, "dstest.s", n);
        if ((r = ds_subscribe(key, 0)) < 0)
            break;
    }
    EXPECT(r, -E_NOMEM);
    EXPECT(n, DS_EP_SUBS);
    EXPECT(ds_subscribe("dstest.s0", 0), 0); /* the same again: no new one needed */
    EXPECT(ds_publish_u64("dstest.s7", 1, 0), 0);
    CHECK(check_is("dstest.s7"));
    for (int i = 0; i < n; i++) {
        key_name(key, "dstest.s", i);
        EXPECT(ds_unsubscribe(key), 0);
    }
    EXPECT(ds_subscribe(key, 0), 0);
    EXPECT(ds_unsubscribe(key), 0);
    EXPECT(ds_delete("dstest.s7"), 0);
    EXPECT(ds_delete("dstest.forhelper"), 0); /* the helper's subscription is gone: no notify */
    drain();
}

/*
 * Deleted keys stay (as tombstones) while a subscriber has yet to check
 * them; a full table reuses them, and then that deletion is not reported.
 */
static void test_limit_tombstones(void)
{
    char key[DS_KEY_MAX];
    int before = count_keys(), n;
    drain();
    EXPECT(ds_subscribe("dstest.t*", 0), 0);
    /* every free entry becomes a tombstone: published, deleted, not yet checked */
    for (n = 0; n < DS_MAX_KEYS - before; n++) {
        key_name(key, "dstest.t", n);
        EXPECT(ds_publish_u64(key, 1, 0), 0);
        EXPECT(ds_delete(key), 0);
    }
    EXPECT(ds_publish_u64("dstest.x", 1, 0), 0); /* the table is full: a tombstone goes */
    EXPECT(ds_publish_u64("dstest.y", 1, 0), 0);
    int heard = drain(); /* the deletions that went with their tombstones are not heard of */
    CHECK(heard > 0 && heard <= n - 2);
    EXPECT(ds_unsubscribe("dstest.t*"), 0);
    EXPECT(ds_delete("dstest.x"), 0);
    EXPECT(ds_delete("dstest.y"), 0);
    EXPECT(count_keys(), before);
    drain();
}

/* ---- garbage ---- */

static void test_bad_keys(void)
{
    static const char *const bad[] = {
        "",  "dstest.UPPER", "dstest.sp ace", "dstest.star*", "dstest.a*b",
        "*", "dstest.\x01",  "dstest.k\xff"};
    for (int i = 0; i < 8; i++) {
        message_t m = rq(DS_PUBLISH, bad[i], DS_NUM, 8, 0);
        EXPECT(raw(&m), -E_INVAL);
        m = rq(DS_RETRIEVE, bad[i], DS_NUM, 8, 0);
        EXPECT(raw(&m), -E_INVAL);
        m = rq(DS_DELETE, bad[i], 0, 0, 0);
        EXPECT(raw(&m), -E_INVAL);
    }
    /* no NUL in the 32 bytes of the key field */
    static const int keyed[] = {DS_PUBLISH, DS_RETRIEVE, DS_DELETE, DS_SUBSCRIBE, DS_UNSUBSCRIBE};
    for (int i = 0; i < 5; i++) {
        message_t m = rq(keyed[i], "", 0, 0, 0);
        uint32_t *flags;
        memset(key_field(&m, &flags), 'a', DS_KEY_MAX);
        *flags = keyed[i] == DS_PUBLISH || keyed[i] == DS_RETRIEVE ? DS_NUM : 0;
        EXPECT(raw(&m), -E_INVAL);
    }
    /* patterns: '*' only at the end, once */
    static const char *const badpat[] = {"", "**", "dstest.*.x", "*dstest", "Dstest*"};
    for (int i = 0; i < 5; i++) {
        message_t m = rq(DS_SUBSCRIBE, badpat[i], 0, 0, 0);
        EXPECT(raw(&m), -E_INVAL);
        m = rq(DS_UNSUBSCRIBE, badpat[i], 0, 0, 0);
        EXPECT(raw(&m), -E_INVAL);
    }
    /* the client refuses what does not fit before sending */
    EXPECT(ds_subscribe("dstest.0123456789012345678901234567*", 0), -E_INVAL);
}

static void test_bad_flags(void)
{
    message_t m;
    static const uint32_t types[] = {0, 4, 0xff};
    for (int i = 0; i < 3; i++) {
        m = rq(DS_PUBLISH, "dstest.f", types[i], 8, 0);
        EXPECT(raw(&m), -E_INVAL);
    }
    m = rq(DS_PUBLISH, "dstest.f", DS_NUM | (1u << 20), 8, 0);
    EXPECT(raw(&m), -E_INVAL);
    m = rq(DS_PUBLISH, "dstest.f", DS_NUM | DS_INITIAL, 8, 0);
    EXPECT(raw(&m), -E_INVAL);
    m = rq(DS_RETRIEVE, "dstest.f", 4, 8, 0);
    EXPECT(raw(&m), -E_INVAL);
    m = rq(DS_RETRIEVE, "dstest.f", DS_NUM | DS_OVERWRITE, 8, 0);
    EXPECT(raw(&m), -E_INVAL);
    m = rq(DS_DELETE, "dstest.f", DS_OVERWRITE, 0, 0);
    EXPECT(raw(&m), -E_INVAL);
    m = rq(DS_SUBSCRIBE, "dstest.f*", DS_OVERWRITE, 0, 0);
    EXPECT(raw(&m), -E_INVAL);
    m = rq(DS_UNSUBSCRIBE, "dstest.f*", DS_INITIAL, 0, 0);
    EXPECT(raw(&m), -E_INVAL);
    uint64_t v;
    EXPECT(ds_retrieve_u64("dstest.f", &v), -E_SRCH);
    /* unknown requests */
    static const int types2[] = {0, 1, -1, DS_RQ_BASE + 0x51, ROOT_LOOKUP, DS_REPLY, 0x7fffffff};
    for (int i = 0; i < 7; i++) {
        m = rq(DS_PUBLISH, "dstest.f", DS_NUM, 8, 0);
        m.type = types2[i];
        EXPECT(raw(&m), -E_NOSYS);
    }
}

static void test_bad_grants(void)
{
    uint64_t v;
    message_t m = rq(DS_PUBLISH, "dstest.g", DS_BLOB, 100, 9999); /* no such grant */
    EXPECT(raw(&m), -E_BADGRANT);
    m = rq(DS_PUBLISH, "dstest.g", DS_BLOB, 100, -1);
    EXPECT(raw(&m), -E_BADGRANT);
    /* a grant too short for the length */
    grant_id_t g = grant_alloc(ds, big, 50, GRANT_READ);
    m = rq(DS_PUBLISH, "dstest.g", DS_BLOB, 100, g);
    EXPECT(raw(&m), -E_RANGE);
    grant_free(g);
    /* a grant for someone else */
    g = grant_alloc(ROOT_EP, big, 100, GRANT_READ);
    m = rq(DS_PUBLISH, "dstest.g", DS_BLOB, 100, g);
    EXPECT(raw(&m), -E_BADGRANT);
    grant_free(g);
    /* revoked before the request */
    g = grant_alloc(ds, big, 100, GRANT_READ);
    grant_free(g);
    m = rq(DS_PUBLISH, "dstest.g", DS_BLOB, 100, g);
    EXPECT(raw(&m), -E_BADGRANT);
    EXPECT(ds_retrieve_u64("dstest.g", &v), -E_SRCH); /* nothing was stored */
    /* the wrong direction (counts as a denial against ds) */
    g = grant_alloc(ds, big, 100, GRANT_WRITE);
    m = rq(DS_PUBLISH, "dstest.g", DS_BLOB, 100, g);
    EXPECT(raw(&m), -E_PERM);
    grant_free(g);
    EXPECT(ds_publish_blob("dstest.g", big, 100, 0), 0);
    g = grant_alloc(ds, back, 100, GRANT_READ);
    m = rq(DS_RETRIEVE, "dstest.g", DS_BLOB, 100, g);
    EXPECT(raw(&m), -E_PERM);
    grant_free(g);
    /* retrieve: buffer length larger than the grant */
    g = grant_alloc(ds, back, 50, GRANT_WRITE);
    m = rq(DS_RETRIEVE, "dstest.g", DS_BLOB, 200, g);
    EXPECT(raw(&m), -E_RANGE);
    grant_free(g);
    m = rq(DS_RETRIEVE, "dstest.g", DS_BLOB, 200, 4242);
    EXPECT(raw(&m), -E_BADGRANT);
    EXPECT(ds_delete("dstest.g"), 0);
}

/* A plain send (no receive for the reply) and notifications: ds does not block or answer. */
static void test_no_blocking(void)
{
    uint64_t v;
    EXPECT(ds_publish_u64("dstest.nb", 77, DS_OVERWRITE), 0);
    message_t m = rq(DS_RETRIEVE, "dstest.nb", DS_NUM, 8, 0);
    for (int i = 0; i < 10; i++)
        EXPECT(ipc_send(ds, &m), 0); /* ds's sendnb reply finds us not receiving: lost */
    EXPECT(ipc_notify(ds), 0);
    EXPECT(ipc_notify(ds), 0);
    EXPECT(ipc_receive_nb(ds, &m), -E_AGAIN); /* nothing queued for us */
    EXPECT(ds_retrieve_u64("dstest.nb", &v), 0);
    EXPECT(v, 77);
    m = (message_t){.type = MSG_NOTIFY}; /* looks like a notification: no answer */
    EXPECT(ipc_send(ds, &m), 0);
    EXPECT(ds_retrieve_u64("dstest.nb", &v), 0);
    EXPECT(ds_delete("dstest.nb"), 0);
}

/* Random requests: every answer is 0 or an error, and ds goes on working. */
static void test_fuzz(void)
{
    static const int types[] = {DS_PUBLISH,     DS_RETRIEVE, DS_DELETE, DS_SUBSCRIBE,
                                DS_UNSUBSCRIBE, DS_CHECK,    0,         DS_RQ_BASE};
    static const char *const keys[] = {"dstest.fz", "dstest.fz.1", "dstest.*", "nobody.x", "*"};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int bad = 0;
    drain();
    for (int i = 0; i < 3000; i++) {
        message_t m = {.type = types[rand64(&seed) % 8]};
        for (int w = 0; w < 7; w++)
            m.u.w[w] = rand64(&seed);
        uint64_t k = rand64(&seed);
        uint32_t *flags;
        char *key = key_field(&m, &flags);
        if (key && k % 2) /* half with a plausible key and small fields */
            strncpy_s(key, keys[(k >> 8) % 5], DS_KEY_MAX);
        if (key && k % 4 == 1) {
            *flags &= 0x3ff;
            if (m.type == DS_PUBLISH) {
                m.u.ds.publish.len %= 5000;
                m.u.ds.publish.v.grant %= 80;
            } else if (m.type == DS_RETRIEVE) {
                m.u.ds.retrieve.size %= 5000;
                m.u.ds.retrieve.grant %= 80;
            }
        }
        int type = m.type, r = raw(&m);
        if (r > 0 || !strcmp(strerror_s(r), "E_?")) { /* not DS_REPLY, 0 or a known error */
            if (bad++ < 5)
                printf("dstest: fuzz request %d (type %x): answer %d\n", i, type, r);
        }
    }
    EXPECT(bad, 0);
    /* clean up what the fuzz may have made */
    ds_unsubscribe("dstest.fz");
    ds_unsubscribe("dstest.fz.1");
    ds_unsubscribe("dstest.*");
    ds_unsubscribe("nobody.x");
    ds_unsubscribe("*");
    ds_delete("dstest.fz");
    ds_delete("dstest.fz.1");
    drain();
    uint64_t v;
    EXPECT(ds_publish_u64("dstest.after", 5, DS_OVERWRITE), 0);
    EXPECT(ds_retrieve_u64("dstest.after", &v), 0);
    EXPECT(v, 5);
    EXPECT(ds_delete("dstest.after"), 0);
}

/* The client keeps ds's endpoint and finds it again after E_DEADEP. */
static void test_client_relookup(void)
{
    uint64_t v;
    CHECK(dead_helper > 0);
    EXPECT(ds_publish_u64("dstest.re", 3, DS_OVERWRITE), 0);
    ds_client_reset(dead_helper); /* as if ds had died and come back elsewhere */
    EXPECT(ds_retrieve_u64("dstest.re", &v), 0);
    EXPECT(v, 3);
    EXPECT(ds_endpoint(), ds);
    ds_client_reset(dead_helper);
    EXPECT(ds_publish_blob("dstest.re", big, 500, DS_OVERWRITE), 0); /* a grant made anew */
    EXPECT(ds_endpoint(), ds);
    ds_client_reset(dead_helper);
    EXPECT(ds_retrieve_blob("dstest.re", back, sizeof(back)), 500);
    CHECK(!memcmp(back, big, 500));
    ds_client_reset(0);
    EXPECT(ds_delete("dstest.re"), 0);
    EXPECT(ds_endpoint(), ds);
}

/* ---- ds's own restarts: the store in its state region ---- */

static int new_ds(endpoint_t old);

/* Kill ds (op: SVC_KILL, maybe with SVC_SCRAMBLE) and wait for its next instance: 1 if it came. */
static int kill_ds(uint64_t op)
{
    return root_service(op, "ds", 0) == 0 && new_ds(ds);
}

/* Wait for ds's instance after old (up to 3 s), and use it: 1 if it came. */
static int new_ds(endpoint_t old)
{
    endpoint_t now = 0;
    for (int i = 0; i < 300 && ((now = root_lookup("ds")) <= 0 || now == old); i++)
        sleep_ms(10);
    if (now <= 0 || now == old)
        return 0;
    ds = now;
    ds_client_reset(0);
    return 1;
}

/* Keys, values and subscriptions survive a kill of ds; new writes work at once. */
static void test_restart_keeps_store(void)
{
    char str[DS_STR_MAX + 1];
    uint64_t v;
    for (int i = 0; i < 300; i++)
        big[i] = (uint8_t)(i * 7 + 1);
    EXPECT(ds_publish_u64("dstest.keep.n", 1234, DS_OVERWRITE), 0);
    EXPECT(ds_publish_str("dstest.keep.s", "survivor", DS_OVERWRITE), 0);
    EXPECT(ds_publish_blob("dstest.keep.b", big, 300, DS_OVERWRITE), 0);
    EXPECT(ds_publish_u64("dstest.keep.gone", 1, DS_OVERWRITE), 0);
    EXPECT(ds_delete("dstest.keep.gone"), 0);
    drain();
    EXPECT(ds_subscribe("dstest.keep.*", 0), 0);
    CHECK(kill_ds(SVC_KILL));
    EXPECT(ds_retrieve_u64("dstest.keep.n", &v), 0);
    EXPECT(v, 1234);
    EXPECT(ds_retrieve_str("dstest.keep.s", str, sizeof(str)), 8);
    CHECK(!strcmp(str, "survivor"));
    memset(back, 0, sizeof(back));
    EXPECT(ds_retrieve_blob("dstest.keep.b", back, sizeof(back)), 300);
    CHECK(!memcmp(back, big, 300));
    EXPECT(ds_retrieve_u64("dstest.keep.gone", &v), -E_SRCH);
    EXPECT(ds_retrieve_u64("owner.dstest", &v), 0);
    EXPECT(v, (uint64_t)self_ep);
    /* writes go on: an overwrite, a long value's new slot, and the subscription made before */
    EXPECT(ds_publish_u64("dstest.keep.n", 5678, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.keep.n"));
    EXPECT(ds_publish_blob("dstest.keep.b", big + 1, 299, DS_OVERWRITE), 0);
    CHECK(changed_only("dstest.keep.b"));
    EXPECT(ds_retrieve_blob("dstest.keep.b", back, sizeof(back)), 299);
    CHECK(!memcmp(back, big + 1, 299));
    EXPECT(ds_retrieve_u64("dstest.keep.n", &v), 0);
    EXPECT(v, 5678);
    EXPECT(ds_unsubscribe("dstest.keep.*"), 0);
}

/* A region whose header is garbage (rs's test hook) is not used: the next ds starts empty. */
static void test_restart_bad_header(void)
{
    uint64_t v;
    EXPECT(ds_publish_u64("dstest.keep.n", 42, DS_OVERWRITE), 0);
    CHECK(kill_ds(SVC_KILL | SVC_SCRAMBLE));
    EXPECT(ds_retrieve_u64("dstest.keep.n", &v), -E_SRCH);
    EXPECT(ds_retrieve_u64("dstest.keep.s", &v), -E_SRCH);
    /* rs published every running service's owner key again when the new ds was ready */
    int r = -1;
    for (int i = 0; i < 100 && (r = ds_publish_u64("dstest.keep.n", 7, DS_OVERWRITE)) != 0; i++)
        sleep_ms(10);
    EXPECT(r, 0);
    EXPECT(ds_retrieve_u64("dstest.keep.n", &v), 0);
    EXPECT(v, 7);
    EXPECT(root_service(SVC_RESTART | SVC_SCRAMBLE, "ds", 0), -E_INVAL); /* only with a kill */
}

/*
 * A change committed to ds's journal but not applied when ds died (the DS_TEST_DIE hook: this
 * boot's ds runs with "test") is finished by the next instance, subscribers told: an
 * overwritten number, then a long value moved to a new slot.
 */
static void test_restart_finishes_commit(void)
{
    uint64_t v;
    for (int i = 0; i < 300; i++)
        big[i] = (uint8_t)(i * 13 + 5);
    EXPECT(ds_publish_u64("dstest.jr.n", 1, DS_OVERWRITE), 0);
    EXPECT(ds_publish_blob("dstest.jr.b", big, 300, DS_OVERWRITE), 0);
    drain();
    EXPECT(ds_subscribe("dstest.jr.*", 0), 0);
    endpoint_t old = ds;
    message_t m = rq(DS_PUBLISH, "dstest.jr.n", DS_NUM | DS_OVERWRITE | DS_TEST_DIE, 8, 0);
    m.u.ds.publish.v.num = 2;
    EXPECT(raw(&m), -E_DEADEP - 10000); /* ds died in the middle of the request */
    CHECK(new_ds(old));
    EXPECT(ds_retrieve_u64("dstest.jr.n", &v), 0);
    EXPECT(v, 2);
    CHECK(changed_only("dstest.jr.n"));
    old = ds;
    grant_id_t g = grant_alloc(ds, big + 7, 290, GRANT_READ);
    m = rq(DS_PUBLISH, "dstest.jr.b", DS_BLOB | DS_OVERWRITE | DS_TEST_DIE, 290, g);
    EXPECT(raw(&m), -E_DEADEP - 10000);
    grant_free(g);
    CHECK(new_ds(old));
    memset(back, 0, sizeof(back));
    EXPECT(ds_retrieve_blob("dstest.jr.b", back, sizeof(back)), 290);
    CHECK(!memcmp(back, big + 7, 290));
    CHECK(changed_only("dstest.jr.b"));
    EXPECT(ds_unsubscribe("dstest.jr.*"), 0);
}

static const struct test tests[] = {
    {"lookup", test_lookup},
    {"num", test_num},
    {"str", test_str},
    {"blob", test_blob},
    {"types", test_types},
    {"delete", test_delete},
    {"reply_convention", test_reply_convention},
    {"owner_label", test_owner_label},
    {"owner_other_process", test_owner_other_process},
    {"owner_restart", test_owner_restart},
    {"sub_exact", test_sub_exact},
    {"sub_pattern", test_sub_pattern},
    {"sub_delete", test_sub_delete},
    {"sub_initial", test_sub_initial},
    {"sub_everything", test_sub_everything},
    {"quota_per_owner", test_quota_per_owner},
    {"limit_keys", test_limit_keys},
    {"limit_blobs", test_limit_blobs},
    {"limit_subs", test_limit_subs},
    {"limit_tombstones", test_limit_tombstones},
    {"bad_keys", test_bad_keys},
    {"bad_flags", test_bad_flags},
    {"bad_grants", test_bad_grants},
    {"no_blocking", test_no_blocking},
    {"client_relookup", test_client_relookup},
    {"client_checks_replies", test_client_checks_replies},
    {"fuzz", test_fuzz},
    {"restart_keeps_store", test_restart_keeps_store},
    {"restart_bad_header", test_restart_bad_header},
    /* issue 13: the journal's finish at start; ds killed at random instants under a workload */
    {"restart_finishes_commit", test_restart_finishes_commit},
    {"kill_campaign", test_kill_campaign},
    {0},
};

static const struct test_suite ds_suite = {.program = "dstest", .prefix = "ds.", .tests = tests};

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    if (!strcmp(arg, "helper"))
        return helper_main();
    if (!strcmp(arg, "fakeds"))
        return fakeds_main();
    if (!strcmp(arg, "owner"))
        owner_main();
    for (int i = 0; i < 100 && (ds = ds_endpoint()) <= 0; i++)
        sleep_ms(10);
    if (ds <= 0)
        return test_abort(&ds_suite, "no ds");
    return test_main(&ds_suite, arg);
}
