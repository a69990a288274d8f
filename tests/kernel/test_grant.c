/*
 * Grant and safecopy tests. The test process owns a grant table; a helper
 * performs the copies it is asked to and reports each result, so every
 * error path is seen from the grantee's side.
 */
#include "ktest.h"

enum { OP_QUIT, OP_FROM, OP_TO };

static struct grant grants[4];
static uint8_t buf[3 * 4096 + 100];
static uint8_t outbuf[8192];

/* Helper: perform the copies the parent asks for; reply result and checksum. */
static int h_copier(uint64_t n)
{
    static uint8_t local[16384];
    (void)n;
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 1;
        uint64_t op = m.u.w[0], id = m.u.w[1], off = m.u.w[2], len = m.u.w[3];
        uint64_t addr = m.u.w[4] ? m.u.w[4] : (uint64_t)local;
        int64_t r = 0;
        uint64_t sum = 0;
        if (op == OP_QUIT)
            return 0;
        if (op == OP_FROM) {
            r = sys_safecopy_from(m.source, (grant_id_t)id, off, (void *)addr, len);
            for (uint64_t i = 0; r == 0 && i < len; i++)
                sum += local[i] * (i + 1);
        } else {
            for (uint64_t i = 0; i < sizeof(local); i++)
                local[i] = (uint8_t)(i * 3 + 1);
            r = sys_safecopy_to(m.source, (grant_id_t)id, off, (const void *)addr, len);
        }
        m.u.w[0] = (uint64_t)r;
        m.u.w[1] = sum;
        if (ipc_sendnb(m.source, &m) < 0)
            return 2;
    }
}

static int64_t ask(endpoint_t h, uint64_t op, uint64_t id, uint64_t off, uint64_t len,
                   uint64_t addr, uint64_t *sum)
{
    message_t m = {.type = TEST_COPY, .u.w = {op, id, off, len, addr}};
    EXPECT(ipc_sendrec(h, &m), 0);
    if (sum)
        *sum = m.u.w[1];
    return (int64_t)m.u.w[0];
}

static uint64_t weighted_sum(const uint8_t *p, uint64_t len)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < len; i++)
        s += p[i] * (i + 1);
    return s;
}

static endpoint_t setup(void)
{
    endpoint_t h = spawn_helper("peer", "copier", 0);
    for (uint64_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    grants[0] = (struct grant){GRANT_VALID | GRANT_READ, h, (uint64_t)buf, sizeof(buf), 0, 0};
    grants[1] = (struct grant){GRANT_VALID | GRANT_WRITE, h, (uint64_t)outbuf, sizeof(outbuf), 0, 0};
    grants[2] = (struct grant){GRANT_VALID | GRANT_READ, ROOT_EP, (uint64_t)buf, sizeof(buf), 0, 0};
    grants[3] = (struct grant){GRANT_VALID | GRANT_READ | GRANT_WRITE, h, 0x10, 4096, 0, 0};
    EXPECT(sys_setgrant(grants, 4), 0);
    return h;
}

static void finish(endpoint_t h)
{
    struct death_info d;
    message_t m = {.type = TEST_COPY, .u.w = {OP_QUIT}};
    EXPECT(ipc_send(h, &m), 0);
    wait_child(h, &d);
    EXPECT(d.code, 0);
}

static void t_grant_copy(void)
{
    endpoint_t h = setup();
    uint64_t sum;
    /* whole buffer, across page boundaries, and a slice at an offset */
    EXPECT(ask(h, OP_FROM, 0, 0, sizeof(buf), 0, &sum), 0);
    EXPECT(sum, weighted_sum(buf, sizeof(buf)));
    EXPECT(ask(h, OP_FROM, 0, 4000, 300, 0, &sum), 0);
    EXPECT(sum, weighted_sum(buf + 4000, 300));
    EXPECT(ask(h, OP_TO, 1, 10, 5000, 0, 0), 0);
    for (int i = 0; i < 5000; i++)
        EXPECT(outbuf[10 + i], (uint8_t)(i * 3 + 1));
    EXPECT(outbuf[9], 0);
    EXPECT(outbuf[5010], 0);
    EXPECT(ask(h, OP_FROM, 0, 0, 0, 0, 0), 0); /* zero bytes is fine */
    finish(h);
}

static void t_grant_revoked(void)
{
    endpoint_t h = setup();
    EXPECT(ask(h, OP_FROM, 0, 0, 64, 0, 0), 0);
    grants[0].flags &= ~GRANT_VALID; /* revoke: no kernel call needed */
    EXPECT(ask(h, OP_FROM, 0, 0, 64, 0, 0), -E_BADGRANT);
    grants[0].flags |= GRANT_VALID;
    EXPECT(ask(h, OP_FROM, 0, 0, 64, 0, 0), 0);
    EXPECT(sys_setgrant(0, 0), 0); /* withdraw the whole table */
    EXPECT(ask(h, OP_FROM, 0, 0, 64, 0, 0), -E_BADGRANT);
    EXPECT(sys_setgrant(grants, 4), 0);
    grants[1].grantee = ROOT_EP; /* re-aimed at someone else */
    EXPECT(ask(h, OP_TO, 1, 0, 64, 0, 0), -E_BADGRANT);
    finish(h);
}

static void t_grant_bad_requests(void)
{
    endpoint_t h = setup();
    uint64_t big = sizeof(buf);
    EXPECT(ask(h, OP_FROM, 0, 0, big + 1, 0, 0), -E_RANGE);       /* one byte too many */
    EXPECT(ask(h, OP_FROM, 0, big, 1, 0, 0), -E_RANGE);           /* at the end */
    EXPECT(ask(h, OP_FROM, 0, ~0ull - 5, 10, 0, 0), -E_RANGE);    /* offset overflow */
    EXPECT(ask(h, OP_FROM, 0, 8, ~0ull - 4, 0, 0), -E_RANGE);     /* length overflow */
    EXPECT(ask(h, OP_TO, 0, 0, 16, 0, 0), -E_PERM);               /* read-only grant */
    EXPECT(ask(h, OP_FROM, 1, 0, 16, 0, 0), -E_PERM);             /* write-only grant */
    EXPECT(ask(h, OP_FROM, 2, 0, 16, 0, 0), -E_BADGRANT);         /* for someone else */
    EXPECT(ask(h, OP_FROM, 4, 0, 16, 0, 0), -E_BADGRANT);         /* past the table */
    EXPECT(ask(h, OP_FROM, (uint64_t)-1, 0, 16, 0, 0), -E_BADGRANT);
    EXPECT(ask(h, OP_FROM, 3, 0, 16, 0, 0), -E_FAULT);            /* granted memory unmapped */
    EXPECT(ask(h, OP_FROM, 0, 0, 16, 0xffffffff80000000ull, 0), -E_FAULT); /* bad local */
    EXPECT(ask(h, OP_FROM, 0, 0, 16, 0x400000, 0), -E_FAULT);     /* local read-only */
    /* a table pointer that is garbage is refused, or fails at copy time */
    EXPECT(sys_setgrant((struct grant *)0x0000800000000000ull, 1), -E_INVAL);
    EXPECT(sys_setgrant(grants, GRANT_MAX_ENTRIES + 1), -E_INVAL);
    EXPECT(sys_setgrant((struct grant *)0x1000, 4), 0);
    EXPECT(ask(h, OP_FROM, 0, 0, 16, 0, 0), -E_BADGRANT);
    EXPECT(sys_safecopy_from(-3, 0, 0, buf, 1), -E_SRCH);
    finish(h);
}

/*
 * Lengths and addresses at the edges, against the caller's own grants: no
 * sum may wrap. Before the fix, a grant of 2^64-1 bytes at page offset 1
 * and a copy of 2^64-1 bytes made the kernel copy over all of memory.
 */
static uint8_t edge[2 * 4096] __attribute__((aligned(4096)));

static void t_grant_edges(void)
{
    const uint64_t top = 0x0000800000000000ull, a1 = (uint64_t)edge + 1;
    uint8_t *dst = edge + 4096 + 1;
    memset(edge, 0x5a, sizeof(edge));
    struct grant g[6] = {
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, a1, ~0ull, 0, 0},  /* all of memory */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, top - 4095, 4096, 0, 0}, /* crosses the top */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, ~0ull - 10, 20, 0, 0}, /* wraps */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, a1, 4094, 0, 0},   /* sane: one page */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, 1ull << 63, 4096, 0, 0}, /* kernel half */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, top - 4096, 0, 0, 0}, /* empty, at the top */
    };
    EXPECT(sys_setgrant(g, 6), 0);
    EXPECT(sys_safecopy_from(self_ep, 0, 0, dst, ~0ull), -E_BADGRANT);
    EXPECT(sys_safecopy_to(self_ep, 0, 0, dst, ~0ull), -E_BADGRANT);
    EXPECT(sys_safecopy_from(self_ep, 0, 4095, dst, ~0ull - 4095), -E_BADGRANT);
    EXPECT(sys_safecopy_from(self_ep, 1, 0, dst, 16), -E_BADGRANT);
    EXPECT(sys_safecopy_from(self_ep, 2, 0, dst, 16), -E_BADGRANT);
    EXPECT(sys_safecopy_from(self_ep, 4, 0, dst, 16), -E_BADGRANT);
    EXPECT(sys_safecopy_from(self_ep, 3, 0, dst, ~0ull), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 3, 1, dst, ~0ull), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 3, ~0ull, dst, 1), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 3, 4094, dst, 1), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 5, 0, dst, 1), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 5, 0, dst, 0), 0);
    EXPECT(sys_safecopy_from(self_ep, 3, 0, (void *)(top - 1), 2), -E_FAULT);
    EXPECT(sys_safecopy_from(self_ep, 3, 0, (void *)~0ull, 1), -E_FAULT);
    for (uint64_t i = 0; i < sizeof(edge); i++)
        CHECK(edge[i] == 0x5a); /* nothing moved */
    edge[1] = 7, edge[4094] = 9;
    EXPECT(sys_safecopy_from(self_ep, 3, 0, dst, 4094), 0); /* page offset 1 to 4095 */
    CHECK(dst[0] == 7 && dst[4093] == 9);
    /* messages: a buffer that crosses into nothing, or the top, or wraps */
    EXPECT(ipc_sendnb(parent_ep, (message_t *)(top - 32)), -E_FAULT);
    EXPECT(ipc_sendnb(parent_ep, (message_t *)(~0ull - 31)), -E_FAULT);
    EXPECT(ipc_sendnb(parent_ep, (message_t *)(~0ull - 4095)), -E_FAULT);
    EXPECT(kcall3(KC_RECEIVE, ANY, top - 32, RECV_NONBLOCK), -E_FAULT);
    EXPECT(kcall3(KC_RECEIVE, ANY, ~0ull - 63, RECV_NONBLOCK), -E_FAULT);
    /* the log and the trace: lengths and sequence numbers at the edges */
    EXPECT(kcall2(KC_LOG, (uint64_t)edge, ~0ull), -E_INVAL);
    EXPECT(kcall2(KC_LOG, ~0ull, 1), -E_FAULT);
    EXPECT(kcall3(KC_DMAALLOC, 4096, 0x30000000, 0), -E_PERM); /* the trace is not empty */
    EXPECT(kcall3(KC_TRACE_READ, ~0ull, (uint64_t)edge, 1), 0);
    EXPECT(kcall3(KC_TRACE_READ, 0, top - 8, 4), -E_FAULT);
    EXPECT(sys_setgrant(0, 0), 0);
}

const struct ktest grant_tests[] = {
    {"grant_edges", t_grant_edges},
    {"grant_copy", t_grant_copy},
    {"grant_revoked", t_grant_revoked},
    {"grant_bad_requests", t_grant_bad_requests},
    {0, 0},
};

const struct khelper grant_helpers[] = {
    {"copier", h_copier},
    {0, 0},
};
