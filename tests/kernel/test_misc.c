/*
 * Memory calls, FPU state across preemption, and the kernel-call fuzzer.
 */
#include "ktest.h"

/* Helper (memdrv): the memory kernel calls, their limits and errors. */
static int h_memory(uint64_t n)
{
    (void)n;
    const uint64_t va = 0x10000000;
    volatile uint64_t *p = (volatile uint64_t *)va;
    if (sys_mem_map(SELF, va, 8192, PROT_R | PROT_W) != 0 || p[0] != 0)
        return 1;
    p[1000] = 42;
    if (sys_mem_map(SELF, va + 4096, 4096, PROT_R) != -E_BUSY || /* overlaps */
        sys_mem_map(SELF, va + 1, 4096, PROT_R) != -E_INVAL ||   /* unaligned */
        sys_mem_map(SELF, va, 0, PROT_R) != -E_INVAL ||
        sys_mem_map(SELF, 0x00007ffffffff000ull, 8192, PROT_R) != -E_INVAL || /* past the top */
        sys_mem_map(SELF, 0x20000000, 1ull << 40, PROT_R) != -E_NOMEM ||      /* too much */
        sys_mem_map(SELF, 0x20000000, 16385 * 4096ull, PROT_R) != -E_NOMEM || /* over limit */
        sys_mem_map(SELF, 0x20000000, 4096, 0x10) != -E_INVAL ||
        sys_mem_map(ROOT_EP + NR_SLOTS * 7, 0x20000000, 4096, PROT_R) != -E_SRCH ||
        sys_mem_map_fill(SELF, 0x20000000, 4096, PROT_R, (void *)0x10, 100) != -E_FAULT ||
        sys_mem_map_fill(SELF, 0x20000000, 4096, PROT_R, (void *)va, 8192) != -E_INVAL)
        return 2;
    /* memory calls reach only ourselves and our children: not root, not the parent */
    if (sys_mem_unmap(ROOT_EP, 0x400000, 4096) != -E_PERM ||
        sys_mem_map(parent_ep, 0x20000000, 4096, PROT_R) != -E_PERM)
        return 10;
    if (sys_mem_map_fill(SELF, 0x20000000, 4096, PROT_R, (const void *)(va + 8000), 100) != 0 ||
        ((volatile uint64_t *)0x20000000)[0] != 42)
        return 3;
    /* demand-zero pages: zeros at the first touch, read or written; KC_MEM_MOVE moves pages and
       markers alike; its refusals */
    volatile uint64_t *z = (volatile uint64_t *)0x50000000, *m = (volatile uint64_t *)0x60000000;
    if (sys_mem_map(SELF, 0x50000000, 8 * 4096, PROT_R | PROT_W | MEM_LAZY) != 0 || z[0] != 0 ||
        (z[512 * 3] = 5, z[512 * 3] != 5) ||
        sys_mem_map(SELF, 0x50000000 + 4096, 4096, PROT_R) != -E_BUSY || /* a marker is there */
        sys_mem_map_fill(SELF, 0x58000000, 4096, PROT_R | MEM_LAZY, (const void *)va, 8) !=
            -E_INVAL)
        return 11;
    if (sys_mem_move(SELF, 0x50000000, 0x50000000 + 4096, 8 * 4096) != -E_INVAL || /* overlap */
        sys_mem_move(SELF, 0x50000000, va, 8 * 4096) != -E_BUSY ||
        sys_mem_move(SELF, 0x50000001, 0x60000000, 4096) != -E_INVAL ||
        sys_mem_move(SELF, 0x50000000, 0x60000000, 8 * 4096) != 0 || m[0] != 0 || m[512 * 3] != 5 ||
        m[512 * 7] != 0 || sys_mem_map(SELF, 0x50000000, 8 * 4096, PROT_R) != 0 ||
        sys_mem_unmap(SELF, 0x50000000, 0x20000000) != 0)
        return 12;
    /* unmapping a huge, mostly empty range is quick and frees what was there */
    if (sys_mem_unmap(SELF, 0x20000000, 0x00007f0000000000ull) != 0 ||
        sys_mem_unmap(SELF, va, 4095) != -E_INVAL || p[1000] != 42)
        return 4;
    /* DMA memory: contiguous, zeroed, physical address reported */
    uint64_t pa = 0;
    if (sys_dmaalloc(4 * 4096, 0x30000000, &pa) != 0 || !pa || (pa & 4095) ||
        ((volatile uint64_t *)0x30000000)[1000] != 0)
        return 5;
    if (sys_dmaalloc(4096, 0x30000000, &pa) != -E_BUSY ||
        sys_dmaalloc(100, 0x31000000, &pa) != -E_INVAL ||
        sys_dmaalloc(4096, 0x31000000, (uint64_t *)0x10) != -E_FAULT)
        return 6;
    /* MMIO: the local APIC's version register, and a range outside the manifest */
    if (sys_mapphys(0xfee00000, 4096, 0x40000000) != 0)
        return 7;
    uint32_t version = ((volatile uint32_t *)0x40000000)[0x30 / 4];
    if ((version & 0xff) == 0 || (version & 0xff) == 0xff)
        return 8;
    if (sys_mapphys(0xfec00000, 4096, 0x41000000) != -E_PERM ||
        sys_mapphys(0xfee00000, 8192, 0x41000000) != -E_PERM ||
        sys_mapphys(0xfee00000, 4096, 0x40000000) != -E_BUSY)
        return 9;
    /* KC_MEM_SHARE: our pages also in a child of ours, both seeing every write */
    endpoint_t c = sys_proc_create(SELF, "sharer");
    uint64_t got = 0, v = 0x66;
    const uint64_t cva = 0x50000000;
    if (c < 0 || sys_mem_share(c, cva, 8192, PROT_R | PROT_W, va) != 0 ||
        sys_vcopy(c, cva + 8000, SELF, (uint64_t)&got, 8) != 0 || got != 42 ||
        sys_vcopy(SELF, (uint64_t)&v, c, cva + 8, 8) != 0 || p[1] != 0x66)
        return 11;
    if (sys_mem_share(c, cva, 4096, PROT_R, va) != -E_BUSY ||            /* already mapped */
        sys_mem_share(SELF, 0x51000000, 4096, PROT_R, va) != -E_INVAL || /* itself */
        sys_mem_share(c, cva + 1, 4096, PROT_R, va) != -E_INVAL ||
        sys_mem_share(c, 0x51000000, 4096, PROT_R, va + 1) != -E_INVAL ||
        sys_mem_share(c, 0x51000000, 4096, 0x10, va) != -E_INVAL ||
        sys_mem_share(c, 0x51000000, 4096, PROT_R, 0x60000000) != -E_FAULT || /* not mapped */
        sys_mem_share(c, 0x51000000, 4096, PROT_R, 0x40000000) != -E_FAULT || /* MMIO: not ours */
        sys_mem_share(c, 0x51000000, 1ull << 40, PROT_R, va) != -E_FAULT ||   /* more than we own */
        sys_mem_share(ROOT_EP, 0x51000000, 4096, PROT_R, va) != -E_PERM)
        return 12;
    /* our unmap leaves the child's mapping valid; its death frees the frames */
    got = 0;
    if (sys_mem_unmap(SELF, va, 8192) != 0 ||
        sys_vcopy(c, cva + 8000, SELF, (uint64_t)&got, 8) != 0 || got != 42 ||
        sys_proc_kill(c) != 0)
        return 13;
    return 0;
}

static void t_memory(void)
{
    struct sysinfo s0, s1;
    EXPECT(sys_sysinfo(&s0), 0);
    endpoint_t e = spawn_helper("memdrv", "memory", 0);
    expect_clean_exit(e);
    EXPECT(sys_dma_release(e), 4); /* its DMA memory was quarantined (ktest.dma_quarantine) */
    EXPECT(sys_sysinfo(&s1), 0);
    EXPECT(s1.free_frames, s0.free_frames);
}

/*
 * Helper (memdrv): unmaps that cover leaf tables (2 MiB) whole free them in one loop, with their
 * pages counted off the limit (16,384 pages: a leak stops the loop) and their translations gone
 * from the TLB (a stale one would read 42); KC_MEM_MAP's free check finds a page at the end of a
 * 2 MiB span past absent tables.
 */
static int h_unmap_tables(uint64_t n)
{
    (void)n;
    const uint64_t va = 0x40000000 - 4096, len = (4ull << 20) + 2 * 4096; /* 3 tables, 2 whole */
    volatile uint64_t *p = (volatile uint64_t *)va;
    for (int round = 0; round < 20; round++) {
        if (sys_mem_map(SELF, va, len, PROT_R | PROT_W) != 0)
            return 1 + round;
        for (uint64_t i = 0; i < len / 8; i += 512)
            p[i] = 42;
        if (sys_mem_unmap(SELF, va, len) != 0)
            return 30;
    }
    if (sys_mem_map(SELF, va, len, PROT_R | PROT_W | MEM_LAZY) != 0 || p[512] != 0 ||
        p[len / 8 - 512] != 0 || sys_mem_unmap(SELF, va, len) != 0)
        return 31;
    if (sys_mem_map(SELF, 0x40600000 - 4096, 4096, PROT_R) != 0 ||
        sys_mem_map(SELF, 0x3fe00000, 8ull << 20, PROT_R | MEM_LAZY) != -E_BUSY ||
        sys_mem_map(SELF, 0x3fe00000, 8ull << 20, PROT_R) != -E_BUSY ||
        sys_mem_map(SELF, 0x3fe00000, (8ull << 20) - 4096, PROT_R) != 0)
        return 32;
    return 0;
}

static void t_unmap_tables(void)
{
    struct sysinfo s0, s1;
    EXPECT(sys_sysinfo(&s0), 0);
    expect_clean_exit(spawn_helper("memdrv", "unmap_tables", 0));
    EXPECT(sys_sysinfo(&s1), 0);
    EXPECT(s1.free_frames, s0.free_frames);
}

static double fpu_work(uint64_t seed)
{
    double x = (double)seed;
    for (int i = 0; i < 400000; i++)
        x = x * 0.999999 + 1.5 / (double)(i + seed);
    return x;
}

/* Helper: compute with SSE across many preemptions; exit with the result's bits. */
static int h_fpu(uint64_t seed)
{
    double r = fpu_work(seed);
    uint64_t bits;
    memcpy(&bits, &r, sizeof(bits));
    kcall1(KC_EXIT, bits);
    return 0;
}

static void t_fpu(void)
{
    endpoint_t a = spawn_helper("unpriv", "fpu", 3);
    endpoint_t b = spawn_helper("unpriv", "fpu", 7);
    double mine = fpu_work(11), ra = fpu_work(3), rb = fpu_work(7);
    struct death_info d;
    wait_child(a, &d);
    CHECK(!memcmp(&d.code, &ra, 8));
    wait_child(b, &d);
    CHECK(!memcmp(&d.code, &rb, 8));
    CHECK(mine == fpu_work(11));
}

/*
 * Helper (manifest fuzz): n random kernel calls and IPC operations with
 * random arguments, drawn from palettes that mix garbage with values that
 * get past the first checks and values at the edges, where sums wrap: 0,
 * 2^47 (the top of user space), 2^63, 2^64-1, and addresses at page
 * offsets 1 and 4095. A million purely random calls once missed a copy of
 * 2^64-1 bytes; the edges find such things first. Prints a histogram.
 * The arena is the only memory the fuzzer lets the kernel write into; the
 * slack after it absorbs copies that start near its end, and a copy into
 * our own memory that could succeed is kept shorter than the slack.
 */
static struct {
    uint8_t arena[3 * 4096];
    uint8_t slack[32768];
} fz __attribute__((aligned(4096)));
#define arena fz.arena
static struct grant fuzz_grants[8];

#define TOP 0x0000800000000000ull
static const uint64_t edges[] = {0,
                                 1,
                                 4095,
                                 4096,
                                 4097,
                                 TOP - 4096,
                                 TOP - 1,
                                 TOP,
                                 TOP + 1,
                                 1ull << 63,
                                 (1ull << 63) - 1,
                                 ~0ull,
                                 ~0ull - 4095,
                                 ~0ull - 63,
                                 0xffff800000000000ull,
                                 0xffffffff80100000ull};
#define NR_EDGES (sizeof(edges) / sizeof(edges[0]))

static uint64_t pick_pointer(uint64_t *rs)
{
    uint64_t r = rand64(rs);
    switch (r % 6) {
    case 0:
        return edges[(r >> 8) % NR_EDGES];
    case 1:
        return rand64(rs);
    case 2:
        return (uint64_t)arena + ((r >> 8) % 3) * 4096 + ((r >> 12) & 1 ? 1 : 4095);
    default:
        return (uint64_t)arena + (r >> 8) % (sizeof(arena) - 64);
    }
}

static uint64_t pick_value(uint64_t *rs, endpoint_t parent)
{
    uint64_t r = rand64(rs);
    switch (r % 9) {
    case 0:
        return rand64(rs);
    case 1:
        return (r >> 8) % 16;
    case 2:
        return (uint64_t)(int64_t) - (int64_t)((r >> 8) % 6);
    case 3:
        return (uint64_t)parent;
    case 4:
        return (uint64_t)self_ep;
    case 5:
        return (uint64_t)EP_MAKE((r >> 8) % 4 + 1, (r >> 16) % NR_SLOTS);
    case 6:
        return (r >> 8) % 0x20000;
    case 7:
        return edges[(r >> 8) % NR_EDGES] + ((r >> 16) % 3) - 1; /* an edge, give or take one */
    default:
        return pick_pointer(rs);
    }
}

/*
 * Grants to ourselves that describe edge ranges: only the arena is
 * writable through them; the whole of user space may be read (into the
 * arena), and the rest must be refused.
 */
static void fuzz_grant_table(uint64_t *rs)
{
    const uint32_t rw = GRANT_VALID | GRANT_READ | GRANT_WRITE, ro = GRANT_VALID | GRANT_READ;
    const uint64_t a = (uint64_t)arena;
    struct grant g[8] = {
        {rw, self_ep, a, sizeof(arena), 0, 0},       {rw, self_ep, a + 1, ~0ull, 0, 0},
        {rw, self_ep, a + 4095, 4097, 0, 0},         {ro, self_ep, 0, TOP, 0, 0},
        {rw, self_ep, TOP - 4095, 4096, 0, 0},       {rw, self_ep, ~0ull - 10, 20, 0, 0},
        {rw, self_ep, 1ull << 63, 1ull << 62, 0, 0}, {rw, self_ep, a + 1, 0, 0, 0},
    };
    for (int i = 0; i < 8; i++)
        fuzz_grants[i] = g[i];
    uint64_t r = rand64(rs);
    if (r & 1) /* sometimes a random edge entry in a random slot, maybe indirect to another */
        fuzz_grants[1 + rand64(rs) % 7] =
            (struct grant){rw | (r & 2 ? GRANT_INDIRECT : 0),
                           self_ep,
                           edges[rand64(rs) % NR_EDGES] | 0x800000000000ull,
                           edges[rand64(rs) % NR_EDGES],
                           self_ep,
                           (grant_id_t)((r >> 8) % 8)};
}

static int fuzz_ipc_targets; /* set for the helper that may message anyone */

static int h_fuzz(uint64_t n)
{
    uint64_t rs = 0x9e3779b97f4a7c15ull ^ sys_tsc();
    endpoint_t parent = parent_ep;
    uint64_t hist[8] = {0}; /* 0 ok, E_PERM, E_FAULT, E_INVAL, E_SRCH/E_DEADEP, other */
    fuzz_grant_table(&rs);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = pick_value(&rs, parent);
        uint64_t call = rand64(&rs) % (NR_KCALLS + 3);
        if (call == NR_KCALLS)
            call = rand64(&rs); /* any number at all */
        else if (call == NR_KCALLS + 1)
            call = (uint64_t)0 - KCALL_BASE + rand64(&rs) % 512; /* a Linux number */
        else if (call == KC_EXIT)
            call = (uint64_t)0 - KCALL_BASE + 60; /* Linux exit: unrouted, E_NOSYS */
        else if (call == KC_RECEIVE)
            a[2] |= RECV_NONBLOCK; /* nothing else could wake us */
        else if (fuzz_ipc_targets && (call == KC_SEND || call == KC_SENDREC))
            call = KC_SENDNB; /* a peer might never receive: do not block */
        else if (call == KC_LOG)
            a[0] |= 0xffff800000000000ull; /* bad pointers only: keep the console readable */
        else if (call == NR_KCALLS + 2) {
            call = KC_SETGRANT; /* keep a usable table around half the time */
            fuzz_grant_table(&rs);
            a[0] = (uint64_t)fuzz_grants;
            a[1] = rand64(&rs) % 9;
        }
        if (call == KC_SAFECOPY_FROM || call == KC_SAFECOPY_TO) {
            if (rand64(&rs) & 1) {
                a[0] = (uint64_t)self_ep;
                a[1] = rand64(&rs) % 9;
                uint64_t r = rand64(&rs);
                a[2] = r % 3 == 0   ? (r >> 8) % 16
                       : r % 3 == 1 ? (r >> 8) % (sizeof(arena) + 10)
                                    : pick_value(&rs, parent);
                a[3] = pick_pointer(&rs);
                r = rand64(&rs);
                a[4] = r % 3 == 0   ? (r >> 8) % 5000
                       : r % 3 == 1 ? ~0ull - (r >> 8) % 4097
                                    : pick_value(&rs, parent);
            }
        }
        if (call == KC_SAFECOPY_FROM && a[4] >= sizeof(fz.slack) && a[4] < TOP)
            a[4] %= sizeof(fz.slack); /* grant 3 reads all of user space: do not overrun */
        int64_t r = kcall6(call, a[0], a[1], a[2], a[3], a[4], a[5]);
        int bucket = r >= 0                              ? 0
                     : r == -E_PERM                      ? 1
                     : r == -E_FAULT                     ? 2
                     : r == -E_INVAL                     ? 3
                     : (r == -E_SRCH || r == -E_DEADEP)  ? 4
                     : r == -E_NOSYS                     ? 5
                     : r == -E_BADGRANT || r == -E_RANGE ? 6
                                                         : 7;
        hist[bucket]++;
    }
    sys_alarm(0);
    printf("fuzz: %lu calls: ok %lu, E_PERM %lu, E_FAULT %lu, E_INVAL %lu, E_SRCH/E_DEADEP %lu, "
           "E_NOSYS %lu, grant errors %lu, other %lu\n",
           n, hist[0], hist[1], hist[2], hist[3], hist[4], hist[5], hist[6], hist[7]);
    return 0;
}

static int h_fuzz_ipc(uint64_t n)
{
    fuzz_ipc_targets = 1;
    return h_fuzz(n);
}

#define FUZZ_CALLS 1000000

static void fuzz_with(const char *manifest, const char *helper)
{
    struct sysinfo s0, s1;
    EXPECT(sys_sysinfo(&s0), 0);
    endpoint_t e = spawn_helper(manifest, helper, FUZZ_CALLS);
    expect_clean_exit(e);
    /* alive and consistent: invariants hold, memory is back, IPC works */
    EXPECT(sys_selfcheck(), 0);
    EXPECT(sys_sysinfo(&s1), 0);
    EXPECT(s1.free_frames, s0.free_frames);
    EXPECT(s1.nr_procs, s0.nr_procs);
    endpoint_t echo = spawn_helper("peer", "echo", 1);
    message_t m = {.u.w = {41}};
    EXPECT(ipc_sendrec(echo, &m), 0);
    EXPECT(m.u.w[0], 42);
    expect_clean_exit(echo);
}

/* No IPC targets: the kernel-call surface. */
static void t_fuzz(void)
{
    fuzz_with("fuzz", "fuzz");
}

/* Any target, non-blocking: garbage messages reach root and the tests too. */
static void t_fuzz_ipc(void)
{
    fuzz_with("fuzz_ipc", "fuzz_ipc");
}

static void t_selfcheck(void)
{
    EXPECT(sys_selfcheck(), 0);
}

/* KC_PROC_NAME: the name the kernel reports and logs; truncated, never overrun. */
static void t_proc_name(void)
{
    struct proc_info i;
    EXPECT(sys_proc_name(SELF, "a-very-long-name-indeed"), 0);
    EXPECT(sys_proc_info(SELF, &i), 0);
    CHECK(!memcmp(i.name, "a-very-long-nam", PROC_NAME_LEN));
    EXPECT(sys_proc_name(SELF, (const char *)~0ull), -E_FAULT);
    EXPECT(sys_proc_name(SELF, (const char *)0x0000800000000000ull - 4), -E_FAULT);
    EXPECT(sys_proc_name(ROOT_EP, "x"), -E_PERM); /* only itself, its children, ... */
    EXPECT(sys_proc_info(ROOT_EP, &i), 0);
    CHECK(!memcmp(i.name, "root", 5));
}

/*
 * A refused kernel call is in the trace with the number of the argument
 * refused (1-6; 0: the call itself, outside the caller's mask). `call` must
 * give `err`, and the newest trace entry must be ours and say so.
 */
#define TRACED(call, op_, arg_, err_)                                                              \
    do {                                                                                           \
        struct sysinfo s_;                                                                         \
        struct trace_entry t_;                                                                     \
        EXPECT(call, err_);                                                                        \
        EXPECT(sys_sysinfo(&s_), 0);                                                               \
        EXPECT(sys_trace_read(s_.trace_seq - 1, &t_, 1), 1);                                       \
        EXPECT(t_.ep, self_ep);                                                                    \
        EXPECT(t_.op, op_);                                                                        \
        EXPECT(t_.arg, arg_);                                                                      \
        EXPECT(t_.err, err_);                                                                      \
    } while (0)

static void t_trace_names_argument(void)
{
    message_t m = {0};
    static const char text[] = "x";
    TRACED(sys_alarm(~0ull), KC_ALARM, 1, -E_INVAL);
    TRACED(kcall2(KC_LOG, (uint64_t)text, 4096), KC_LOG, 2, -E_INVAL);
    TRACED(kcall2(KC_LOG, 0x1000, 1), KC_LOG, 1, -E_FAULT);
    TRACED(sys_ioport(9, 0x501, 0), KC_IOPORT, 1, -E_INVAL);
    TRACED(kcall3(KC_IOPORT, IO_OUT8, 0x10000, 0), KC_IOPORT, 2, -E_INVAL);
    TRACED(sys_ioport(IO_IN8, 0x60, 0), KC_IOPORT, 2, -E_PERM); /* a port not ours: a denial */
    TRACED(sys_mem_map(SELF, 0x10000000, 4096, PROT_R), KC_MEM_MAP, 0, -E_PERM); /* not ours */
    TRACED(kcall3(KC_RECEIVE, ANY, (uint64_t)&m, 2), KC_RECEIVE, 3, -E_INVAL);   /* flags */
    TRACED(kcall3(KC_SENDREC, ROOT_EP, (uint64_t)&m, ~0ull), KC_SENDREC, 3, -E_INVAL);
    TRACED(ipc_send(parent_ep, (message_t *)0x1000), KC_SEND, 2, -E_FAULT);
    TRACED(sys_proc_info(EP_MAKE(EP_MAX_GEN, NR_SLOTS - 1), 0), KC_PROC_INFO, 1, -E_SRCH);
    TRACED(sys_proc_kill(ROOT_EP), KC_PROC_KILL, 1, -E_PERM);
    TRACED(sys_safecopy_from(self_ep, 999, 0, &m, 1), KC_SAFECOPY_FROM, 2, -E_BADGRANT);
    TRACED(sys_setgrant(0, GRANT_MAX_ENTRIES + 1), KC_SETGRANT, 2, -E_INVAL);
}

/* The boot time: what was set is what every process reads (plus the whole seconds of stalls
 * the tick count dropped: kernel/irq.c); a value past any date is refused (traced, nothing
 * changed); the value read first is set back. */
static void t_boottime(void)
{
    uint64_t before = sys_boottime();
    EXPECT(sys_set_boottime(1234567890), 0);
    uint64_t dropped = sys_boottime() - 1234567890;
    EXPECT(dropped < 3600, 1);
    TRACED(sys_set_boottime(~0ull), KC_SET_BOOTTIME, 1, -E_INVAL);
    EXPECT(sys_boottime(), 1234567890 + dropped);
    EXPECT(sys_set_boottime(before - dropped), 0);
    EXPECT(sys_boottime(), before);
}

const struct test misc_tests[] = {
    {"boottime_set_checked", t_boottime},
    {"memory_calls", t_memory},
    {"unmap_whole_tables", t_unmap_tables},
    {"fpu_preserved", t_fpu},
    {"fuzz_kernel_calls", t_fuzz},
    {"fuzz_ipc_any_target", t_fuzz_ipc},
    {"kernel_selfcheck", t_selfcheck},
    {"proc_name", t_proc_name},
    {"trace_names_argument", t_trace_names_argument},
    {0, 0},
};

const struct khelper misc_helpers[] = {
    {"memory", h_memory}, {"unmap_tables", h_unmap_tables}, {"fpu", h_fpu},
    {"fuzz", h_fuzz},     {"fuzz_ipc", h_fuzz_ipc},         {0, 0},
};
