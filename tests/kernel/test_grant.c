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
    grants[1] =
        (struct grant){GRANT_VALID | GRANT_WRITE, h, (uint64_t)outbuf, sizeof(outbuf), 0, 0};
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
    EXPECT(ask(h, OP_FROM, 0, 0, big + 1, 0, 0), -E_RANGE);    /* one byte too many */
    EXPECT(ask(h, OP_FROM, 0, big, 1, 0, 0), -E_RANGE);        /* at the end */
    EXPECT(ask(h, OP_FROM, 0, ~0ull - 5, 10, 0, 0), -E_RANGE); /* offset overflow */
    EXPECT(ask(h, OP_FROM, 0, 8, ~0ull - 4, 0, 0), -E_RANGE);  /* length overflow */
    EXPECT(ask(h, OP_TO, 0, 0, 16, 0, 0), -E_PERM);            /* read-only grant */
    EXPECT(ask(h, OP_FROM, 1, 0, 16, 0, 0), -E_PERM);          /* write-only grant */
    EXPECT(ask(h, OP_FROM, 2, 0, 16, 0, 0), -E_BADGRANT);      /* for someone else */
    EXPECT(ask(h, OP_FROM, 4, 0, 16, 0, 0), -E_BADGRANT);      /* past the table */
    EXPECT(ask(h, OP_FROM, (uint64_t)-1, 0, 16, 0, 0), -E_BADGRANT);
    EXPECT(ask(h, OP_FROM, 3, 0, 16, 0, 0), -E_FAULT); /* granted memory unmapped */
    EXPECT(ask(h, OP_FROM, 0, 0, 16, 0xffffffff80000000ull, 0), -E_FAULT); /* bad local */
    EXPECT(ask(h, OP_FROM, 0, 0, 16, 0x400000, 0), -E_FAULT);              /* local read-only */
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
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, a1, ~0ull, 0, 0}, /* all of memory */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, top - 4095, 4096, 0,
         0}, /* crosses the top */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, ~0ull - 10, 20, 0, 0}, /* wraps */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, a1, 4094, 0, 0}, /* sane: one page */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, 1ull << 63, 4096, 0, 0}, /* kernel half */
        {GRANT_VALID | GRANT_READ | GRANT_WRITE, self_ep, top - 4096, 0, 0,
         0}, /* empty, at the top */
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

/*
 * Indirect grants and vector copies. A lender owns lbuf and a grant table it
 * fills as told: LEND_SET(idx, flags, grantee, addr, len, inner granter |
 * inner id << 32), addr an offset in lbuf for a direct entry; LEND_SUM(off,
 * len) answers the weighted sum of lbuf[off, off+len).
 */
enum { LEND_QUIT, LEND_SET, LEND_SUM };
#define LBUF 8192
#define L_PATTERN(i) ((uint8_t)((i)*5 + 1))
#define C_PATTERN(i) ((uint8_t)((i)*3 + 1)) /* what the copier writes */

static int h_lender(uint64_t n)
{
    static uint8_t lbuf[LBUF];
    static struct grant lg[4];
    (void)n;
    for (uint64_t i = 0; i < LBUF; i++)
        lbuf[i] = L_PATTERN(i);
    if (sys_setgrant(lg, 4) < 0)
        return 1;
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 2;
        uint64_t *w = m.u.w;
        if (w[0] == LEND_QUIT)
            return 0;
        if (w[0] == LEND_SET)
            lg[w[1] & 3] = (struct grant){(uint32_t)w[2],
                                          (endpoint_t)w[3],
                                          w[2] & GRANT_INDIRECT ? w[4] : (uint64_t)lbuf + w[4],
                                          w[5],
                                          (endpoint_t)(uint32_t)w[6],
                                          (grant_id_t)(w[6] >> 32)};
        else
            w[0] = weighted_sum(lbuf + w[1], w[2]);
        if (ipc_sendnb(m.source, &m) < 0)
            return 3;
    }
}

static void lend(endpoint_t l, uint64_t idx, uint32_t flags, endpoint_t grantee, uint64_t addr,
                 uint64_t len, endpoint_t inner, grant_id_t inner_id)
{
    message_t m = {.type = TEST_COPY,
                   .u.w = {LEND_SET, idx, flags, (uint64_t)(uint32_t)grantee, addr, len,
                           (uint32_t)inner | (uint64_t)(uint32_t)inner_id << 32}};
    EXPECT(ipc_sendrec(l, &m), 0);
}

static uint64_t lender_sum(endpoint_t l, uint64_t off, uint64_t len)
{
    message_t m = {.type = TEST_COPY, .u.w = {LEND_SUM, off, len}};
    EXPECT(ipc_sendrec(l, &m), 0);
    return m.u.w[0];
}

static uint64_t pattern_sum(uint64_t from, uint64_t len, int copier)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < len; i++)
        s += (copier ? C_PATTERN(i) : L_PATTERN(from + i)) * (i + 1);
    return s;
}

static void quit(endpoint_t ep)
{
    struct death_info d;
    message_t m = {.type = TEST_COPY, .u.w = {0}};
    EXPECT(ipc_send(ep, &m), 0);
    wait_child(ep, &d);
    EXPECT(d.code, 0);
}

#define RW (GRANT_VALID | GRANT_READ | GRANT_WRITE)
#define IND (GRANT_VALID | GRANT_INDIRECT)
static struct grant ig[12];

static void t_grant_indirect(void)
{
    endpoint_t h = spawn_helper("peer", "copier", 0), l = spawn_helper("peer", "lender", 0);
    uint64_t sum;
    for (uint64_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    lend(l, 0, RW, self_ep, 0, LBUF, 0, 0);                       /* L -> us: all of lbuf */
    lend(l, 1, RW, h, 0, LBUF, 0, 0);                             /* L -> copier, not us */
    lend(l, 2, GRANT_VALID | GRANT_READ, self_ep, 0, LBUF, 0, 0); /* L -> us, read only */
    ig[0] = (struct grant){IND | GRANT_READ | GRANT_WRITE, h, 100, 1000, l, 0};
    ig[1] = (struct grant){IND | GRANT_READ | GRANT_WRITE, h, 0, 16, l, 1};
    ig[2] = (struct grant){IND | GRANT_READ | GRANT_WRITE, h, 8000, 1000, l, 0};
    ig[3] = (struct grant){IND | GRANT_READ | GRANT_WRITE, h, 0, 64, l, 2};
    ig[4] = (struct grant){IND | GRANT_READ, h, 0, 64, l, 0};
    ig[5] = (struct grant){IND | GRANT_READ | GRANT_WRITE, h, ~0ull - 5, 64, l, 0};
    EXPECT(sys_setgrant(ig, 6), 0);
    /* one level: read and write lbuf through our grant, at an offset */
    EXPECT(ask(h, OP_FROM, 0, 10, 500, 0, &sum), 0);
    EXPECT(sum, pattern_sum(110, 500, 0));
    EXPECT(ask(h, OP_TO, 0, 0, 1000, 0, 0), 0);
    EXPECT(lender_sum(l, 100, 1000), pattern_sum(0, 1000, 1));
    EXPECT(lender_sum(l, 1100, 100), pattern_sum(1100, 100, 0)); /* no further */
    EXPECT(ask(h, OP_FROM, 0, 0, 1001, 0, 0), -E_RANGE);         /* past our grant */
    EXPECT(ask(h, OP_FROM, 1, 0, 16, 0, 0), -E_BADGRANT);        /* inner grant is the copier's */
    EXPECT(ask(h, OP_FROM, 2, 0, 192, 0, &sum), 0);              /* up to the inner grant's end */
    EXPECT(sum, pattern_sum(8000, 192, 0));
    EXPECT(ask(h, OP_FROM, 2, 0, 193, 0, 0), -E_RANGE); /* leaves the inner grant */
    EXPECT(ask(h, OP_FROM, 2, 192, 1, 0, 0), -E_RANGE);
    EXPECT(ask(h, OP_FROM, 3, 0, 64, 0, 0), 0);
    EXPECT(ask(h, OP_TO, 3, 0, 64, 0, 0), -E_PERM);   /* inner grant is read only */
    EXPECT(ask(h, OP_TO, 4, 0, 64, 0, 0), -E_PERM);   /* our grant is read only */
    EXPECT(ask(h, OP_FROM, 5, 0, 1, 0, 0), -E_RANGE); /* offset + inner offset wraps */
    EXPECT(ask(h, OP_FROM, 5, 10, 1, 0, 0), -E_RANGE);
    /* two levels, through three processes: ig[6] -> L's 3 -> ig[7] -> buf */
    ig[6] = (struct grant){IND | GRANT_READ | GRANT_WRITE, h, 4, 2000, l, 3};
    ig[7] = (struct grant){RW, l, (uint64_t)buf, sizeof(buf), 0, 0};
    lend(l, 3, IND | GRANT_READ | GRANT_WRITE, self_ep, 4000, 3000, self_ep, 7);
    EXPECT(sys_setgrant(ig, 8), 0);
    EXPECT(ask(h, OP_FROM, 6, 1, 1500, 0, &sum), 0);
    EXPECT(sum, weighted_sum(buf + 4005, 1500));
    EXPECT(ask(h, OP_TO, 6, 0, 2000, 0, 0), 0);
    EXPECT(buf[4003], (uint8_t)(4003 * 7 + 3));
    for (int i = 0; i < 2000; i++)
        CHECK(buf[4004 + i] == C_PATTERN(i));
    EXPECT(buf[6004], (uint8_t)(6004 * 7 + 3));
    EXPECT(ask(h, OP_FROM, 6, 0, 2001, 0, 0), -E_RANGE);
    ig[7].flags = GRANT_VALID | GRANT_WRITE; /* the innermost level may not be read */
    EXPECT(ask(h, OP_FROM, 6, 0, 16, 0, 0), -E_PERM);
    ig[7].flags = RW;
    lend(l, 3, IND | GRANT_READ, self_ep, 4000, 3000, self_ep, 7); /* the middle one */
    EXPECT(ask(h, OP_TO, 6, 0, 16, 0, 0), -E_PERM);
    EXPECT(ask(h, OP_FROM, 6, 0, 16, 0, 0), 0);
    lend(l, 3, IND | GRANT_READ, self_ep, 4000, 3000, self_ep, 0); /* ig[0] is the copier's */
    EXPECT(ask(h, OP_FROM, 6, 0, 16, 0, 0), -E_BADGRANT);
    ig[7].flags = 0; /* revoking the innermost revokes the chain */
    lend(l, 3, IND | GRANT_READ, self_ep, 4000, 3000, self_ep, 7);
    EXPECT(ask(h, OP_FROM, 6, 0, 16, 0, 0), -E_BADGRANT);
    quit(l);
    EXPECT(ask(h, OP_FROM, 0, 0, 16, 0, 0), -E_DEADEP); /* the inner granter died */
    EXPECT(sys_setgrant(0, 0), 0);
    finish(h);
}

static void t_grant_indirect_depth(void)
{
    endpoint_t h = spawn_helper("peer", "copier", 0);
    /* our own chain: 0 <- 1 <- 2 <- 3 <- 4 (each for us), copier's entries at 8.. */
    for (uint64_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    ig[0] = (struct grant){RW, self_ep, (uint64_t)buf, sizeof(buf), 0, 0};
    for (int i = 1; i < 5; i++)
        ig[i] = (struct grant){IND | GRANT_READ, self_ep, 1, sizeof(buf) - 4, self_ep, i - 1};
    ig[5] = (struct grant){IND | GRANT_READ, self_ep, 0, 16, self_ep, 5}; /* itself */
    ig[6] = (struct grant){IND | GRANT_READ, self_ep, 0, 16, self_ep, 7}; /* 6 <-> 7 */
    ig[7] = (struct grant){IND | GRANT_READ, self_ep, 0, 16, self_ep, 6};
    ig[8] = (struct grant){IND | GRANT_READ, h, 0, 64, self_ep, 2}; /* 3 entries */
    ig[9] = (struct grant){IND | GRANT_READ, h, 0, 64, self_ep, 3}; /* 5: too deep */
    ig[10] = (struct grant){IND | GRANT_READ, h, 0, 64, self_ep, 5};
    ig[11] = (struct grant){IND | GRANT_READ, h, 0, 64, self_ep, 6};
    EXPECT(sys_setgrant(ig, 12), 0);
    uint64_t sum;
    EXPECT(ask(h, OP_FROM, 8, 0, 64, 0, &sum), 0);
    EXPECT(sum, weighted_sum(buf + 2, 64));
    EXPECT(sys_safecopy_from(self_ep, 3, 0, outbuf, 16), 0); /* 4 entries: the limit */
    EXPECT(memcmp(outbuf, buf + 3, 16), 0);
    EXPECT(sys_safecopy_from(self_ep, 4, 0, outbuf, 16), -E_LOOP);
    EXPECT(ask(h, OP_FROM, 9, 0, 16, 0, 0), -E_LOOP);
    EXPECT(ask(h, OP_FROM, 10, 0, 16, 0, 0), -E_LOOP);
    EXPECT(ask(h, OP_FROM, 11, 0, 16, 0, 0), -E_LOOP);
    EXPECT(sys_safecopy_from(self_ep, 5, 0, outbuf, 16), -E_LOOP);
    /* an indirect grant's own addr and len may be anything: only the sums are checked */
    ig[1] = (struct grant){IND | GRANT_READ, self_ep, ~0ull, ~0ull, self_ep, 0};
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 1, 1, outbuf, 1), -E_RANGE);
    ig[1] = (struct grant){IND | GRANT_READ, self_ep, 1ull << 63, 1ull << 63, self_ep, 0};
    EXPECT(sys_safecopy_from(self_ep, 1, 1ull << 63, outbuf, 1), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_RANGE);
    ig[1] = (struct grant){IND | GRANT_READ, self_ep, 0, ~0ull, self_ep, 0};
    EXPECT(sys_safecopy_from(self_ep, 1, 8, outbuf, ~0ull - 7), -E_RANGE);
    EXPECT(sys_safecopy_from(self_ep, 1, sizeof(buf) - 1, outbuf, 1), 0);
    EXPECT(sys_safecopy_from(self_ep, 1, sizeof(buf), outbuf, 1), -E_RANGE);
    ig[1].inner_id = -1;
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_BADGRANT);
    ig[1].inner_id = 0, ig[1].inner_granter = -3;
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_SRCH);
    /* GRANT_USER_MEMORY names a Linux process's own memory, for a PRIV_USERS granter only:
       not ours (no PRIV_USERS), not of a process that is not a Linux one (vfs -> ramfs uses it:
       utest file_user_buffer_edges) */
    ig[1] =
        (struct grant){IND | GRANT_READ, self_ep, (uint64_t)buf, 64, self_ep, GRANT_USER_MEMORY};
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_BADGRANT);
    ig[1].inner_granter = h;
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_BADGRANT);
    ig[1].inner_granter = -3;
    EXPECT(sys_safecopy_from(self_ep, 1, 0, outbuf, 1), -E_SRCH);
    EXPECT(sys_setgrant(0, 0), 0);
    finish(h);
}

static uint8_t va[4096], vb[4096], vout[4096];

static void t_grant_vec(void)
{
    endpoint_t l = spawn_helper("peer", "lender", 0);
    for (int i = 0; i < 4096; i++)
        va[i] = (uint8_t)(i + 1), vb[i] = (uint8_t)(i * 11), vout[i] = 0;
    lend(l, 0, RW, self_ep, 0, LBUF, 0, 0);
    ig[0] = (struct grant){RW, self_ep, (uint64_t)va, sizeof(va), 0, 0};
    ig[1] = (struct grant){GRANT_VALID | GRANT_READ, self_ep, (uint64_t)vb, sizeof(vb), 0, 0};
    ig[2] = (struct grant){IND | GRANT_READ | GRANT_WRITE, self_ep, 4096, 4096, l, 0};
    EXPECT(sys_setgrant(ig, 3), 0);
    struct safecopy_piece v[SAFECOPY_VEC_MAX + 1] = {
        {self_ep, 0, 0, (uint64_t)vout, 100},
        {self_ep, 1, 50, (uint64_t)vout + 100, 200},
        {l, 0, 10, (uint64_t)vout + 300, 300},
        {self_ep, 2, 4000, (uint64_t)vout + 600, 96},
    };
    EXPECT(sys_safecopy_vec(GRANT_READ, v, 4), 696);
    EXPECT(memcmp(vout, va, 100), 0);
    EXPECT(memcmp(vout + 100, vb + 50, 200), 0);
    for (int i = 0; i < 300; i++)
        CHECK(vout[300 + i] == L_PATTERN(10 + i));
    for (int i = 0; i < 96; i++)
        CHECK(vout[600 + i] == L_PATTERN(8096 + i));
    EXPECT(vout[696], 0);
    /* all or nothing: a bad last piece, and nothing moves */
    for (int i = 0; i < 4096; i++)
        vout[i] = C_PATTERN(i);
    struct safecopy_piece w[4] = {{self_ep, 0, 0, (uint64_t)vout, 100},
                                  {l, 0, 0, (uint64_t)vout, 4096},
                                  {self_ep, 2, 0, (uint64_t)vout, 4096},
                                  {self_ep, 0, 4000, (uint64_t)vout, 97}};
    EXPECT(sys_safecopy_vec(GRANT_WRITE, w, 4), -E_RANGE);
    w[3] = (struct safecopy_piece){self_ep, 1, 0, (uint64_t)vout, 1}; /* read only */
    EXPECT(sys_safecopy_vec(GRANT_WRITE, w, 4), -E_PERM);
    w[3] = (struct safecopy_piece){self_ep, 0, 0, 0x0000800000000000ull - 8, 16};
    EXPECT(sys_safecopy_vec(GRANT_WRITE, w, 4), -E_FAULT);
    w[3] = (struct safecopy_piece){self_ep, 7, 0, (uint64_t)vout, 1};
    EXPECT(sys_safecopy_vec(GRANT_WRITE, w, 4), -E_BADGRANT);
    w[3] = (struct safecopy_piece){-3, 0, 0, (uint64_t)vout, 1};
    EXPECT(sys_safecopy_vec(GRANT_WRITE, w, 4), -E_SRCH);
    for (int i = 0; i < 100; i++)
        CHECK(va[i] == (uint8_t)(i + 1));
    EXPECT(lender_sum(l, 0, LBUF), pattern_sum(0, LBUF, 0));
    w[3] = (struct safecopy_piece){self_ep, 0, 4000, (uint64_t)vout, 96};
    EXPECT(sys_safecopy_vec(GRANT_WRITE, w, 4), 100 + 4096 + 4096 + 96);
    EXPECT(lender_sum(l, 0, 4096), pattern_sum(0, 4096, 1));
    EXPECT(lender_sum(l, 4096, 4096), pattern_sum(0, 4096, 1));
    for (int i = 0; i < 100; i++)
        CHECK(va[i] == C_PATTERN(i) && va[4000 + i % 96] == C_PATTERN(i % 96));
    /* bad calls and edge values */
    EXPECT(sys_safecopy_vec(GRANT_READ, v, 0), 0);
    EXPECT(sys_safecopy_vec(GRANT_READ, v, SAFECOPY_VEC_MAX + 1), -E_INVAL);
    EXPECT(sys_safecopy_vec(GRANT_READ, v, ~0ull), -E_INVAL);
    EXPECT(sys_safecopy_vec(0, v, 1), -E_INVAL);
    EXPECT(sys_safecopy_vec(GRANT_READ | GRANT_WRITE, v, 1), -E_INVAL);
    EXPECT(sys_safecopy_vec(GRANT_READ, (void *)0x0000800000000000ull - 16, 1), -E_FAULT);
    EXPECT(sys_safecopy_vec(GRANT_READ, (void *)~0ull, 1), -E_FAULT);
    for (int i = 0; i < SAFECOPY_VEC_MAX; i++)
        v[i] =
            (struct safecopy_piece){self_ep, 0, (uint64_t)i * 256, (uint64_t)vout + i * 256, 256};
    EXPECT(sys_safecopy_vec(GRANT_READ, v, SAFECOPY_VEC_MAX), 4096);
    EXPECT(memcmp(vout, va, 4096), 0);
    const uint64_t bad[][2] = {{0, ~0ull}, {1ull << 63, 1}, {~0ull, 1},      {4096, 1},
                               {4095, 2},  {1, ~0ull},      {~0ull - 5, 10}, {8, 1ull << 63}};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v[1] = (struct safecopy_piece){self_ep, 0, bad[i][0], (uint64_t)vout, bad[i][1]};
        EXPECT(sys_safecopy_vec(GRANT_READ, v, 2), -E_RANGE);
        v[1].grant = 2; /* indirect, also 4096 bytes */
        EXPECT(sys_safecopy_vec(GRANT_WRITE, v, 2), -E_RANGE);
    }
    v[1] = (struct safecopy_piece){self_ep, 0, 4095, (uint64_t)vout, 1};
    EXPECT(sys_safecopy_vec(GRANT_READ, v, 2), 257);
    v[1] = (struct safecopy_piece){self_ep, 0, 4096, (uint64_t)vout, 0};
    EXPECT(sys_safecopy_vec(GRANT_READ, v, 2), 256);
    v[1] = (struct safecopy_piece){self_ep, 0, 0, ~0ull, 1}; /* local address wraps */
    EXPECT(sys_safecopy_vec(GRANT_READ, v, 2), -E_FAULT);
    v[1] = (struct safecopy_piece){self_ep, 0, 0, (uint64_t)vout, ~0ull};
    v[2] = v[1];
    EXPECT(sys_safecopy_vec(GRANT_READ, v, 3), -E_RANGE); /* huge lengths: no sum is reached */
    EXPECT(sys_setgrant(0, 0), 0);
    quit(l);
}

const struct test grant_tests[] = {
    {"grant_indirect", t_grant_indirect},
    {"grant_indirect_depth", t_grant_indirect_depth},
    {"grant_vec", t_grant_vec},
    {"grant_edges", t_grant_edges},
    {"grant_copy", t_grant_copy},
    {"grant_revoked", t_grant_revoked},
    {"grant_bad_requests", t_grant_bad_requests},
    {0, 0},
};

const struct khelper grant_helpers[] = {
    {"copier", h_copier},
    {"lender", h_lender},
    {0, 0},
};
