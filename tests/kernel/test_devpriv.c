/*
 * Device privileges changed at run time (KC_PRIV_DEVICE): every edge of
 * its arguments, who may call it and on whom, full tables, and that a grant
 * takes effect at once and a removal too (a port refused again, a mapping
 * of removed memory gone, an IRQ share released). And DMA quarantine: a
 * dead driver's DMA frames are not reused until KC_DMA_RELEASE frees them.
 */
#include "ktest.h"

#define MAP_VA 0x20000000ull
#define APIC 0xfee00000ull

/* Helper (devdrv, no device in its manifest): wait for the parent's word, then exit. */
static int h_dev_wait(uint64_t n)
{
    (void)n;
    message_t m;
    return ipc_receive(parent_ep, &m) < 0;
}

/*
 * Helper (devdrv): each round reports what the RTC's port, the local APIC's
 * page and IRQ 8 give it now, then waits while the parent changes its
 * privileges. w[0] the port read, w[1] whether its mapping of the APIC page
 * from round 1 is still there, w[2] KC_MAPPHYS of that page, w[3]
 * IRQ_ENABLE (round 1) or IRQ_ACK on IRQ 8.
 */
static int h_dev_user(uint64_t n)
{
    (void)n;
    for (int round = 0; round < 4; round++) {
        message_t m = {0};
        m.u.w[0] = (uint64_t)sys_ioport(IO_IN8, 0x71, 0);
        int free = sys_mem_map(SELF, MAP_VA, 4096, PROT_R) == 0;
        if (free && sys_mem_unmap(SELF, MAP_VA, 4096) != 0)
            return 20;
        m.u.w[1] = !free;
        m.u.w[2] = (uint64_t)sys_mapphys(APIC, 4096, MAP_VA);
        if (!m.u.w[2] && !(((volatile uint32_t *)MAP_VA)[0x30 / 4] & 0xff)) /* its version */
            return 21;
        m.u.w[3] = (uint64_t)sys_irqctl(round == 1 ? IRQ_ENABLE : IRQ_ACK, 8);
        if (ipc_sendrec(parent_ep, &m) < 0)
            return 10 + round;
    }
    return 0;
}

/* Receive the helper's report for a round, check it, and let it go on. */
static void dev_round(endpoint_t e, int port_ok, int64_t mapped, int64_t map, int64_t irq)
{
    message_t m;
    EXPECT(ipc_receive(e, &m), 0);
    if (port_ok)
        CHECK((int64_t)m.u.w[0] >= 0);
    else
        EXPECT(m.u.w[0], -E_PERM);
    EXPECT(m.u.w[1], mapped);
    EXPECT(m.u.w[2], map);
    EXPECT(m.u.w[3], irq);
    m = (message_t){0};
    EXPECT(ipc_send(e, &m), 0);
}

/* A port, a memory range and an IRQ line work only between their grant and their removal. */
static void t_devpriv_grant_remove(void)
{
    endpoint_t e = spawn_helper("devdrv", "dev_user", 0);
    dev_round(e, 0, 0, -E_PERM, -E_PERM); /* nothing yet */
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x70, 2), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, APIC, 4096), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 8, 1), 0);
    dev_round(e, 1, 0, 0, 0); /* all three work; it owns a share of IRQ 8 */
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_REMOVE, 0x70, 2), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_REMOVE, APIC, 4096), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_REMOVE, 8, 1), 0);
    dev_round(e, 0, 0, -E_PERM, -E_PERM); /* its mapping went with the range */
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 8, 1), 0);
    dev_round(e, 0, 0, -E_PERM, -E_PERM); /* may own IRQ 8 again, but its share was released */
    expect_clean_exit(e);
}

/* Who may call it, on whom, and every argument at its edges. */
static void t_devpriv_edges(void)
{
    endpoint_t e = spawn_helper("devdrv", "dev_wait", 0);
    const uint64_t top = ~0ull, phys_top = 1ull << 52;
    /* targets: never root or the caller; garbage and the dead are errors */
    EXPECT(sys_priv_device(ROOT_EP, PRIV_DEV_IO_ADD, 0x70, 2), -E_PERM);
    EXPECT(sys_priv_device(self_ep, PRIV_DEV_IO_ADD, 0x70, 2), -E_PERM);
    EXPECT(sys_priv_device(ROOT_EP + NR_SLOTS * 7, PRIV_DEV_IO_ADD, 0x70, 2), -E_SRCH);
    EXPECT(sys_priv_device(e, 9, 0x70, 2), -E_INVAL);
    /* a PCI function for the IOMMU: one, below 0x10000 (no IOMMU here: nothing else happens) */
    EXPECT(sys_priv_device(e, PRIV_DEV_PCI_ADD, 0x10, 2), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_PCI_ADD, 0x10000, 1), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_PCI_ADD, 0x10, 1), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_PCI_REMOVE, 0x10, 1), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_TRACE, 2, 0), -E_INVAL); /* on 1 or off 0 */
    EXPECT(sys_priv_device(e, -1, 0x70, 2), -E_INVAL);
    /* ports: never empty, below 0x10000, no wrap */
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x70, 0), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0xffff, 2), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x10000, 1), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 1, top), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, top, 1), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0xffff, 1), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_REMOVE, 0xffff, 1), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_REMOVE, 0xffff, 1), -E_RANGE);
    /* memory: page aligned, never empty, below 2^52, no wrap at 2^64 */
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, APIC, 0), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, APIC + 1, 4096), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, APIC, 4095), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, top - 4095, 4096), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 4096, top - 4095), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, phys_top, 4096), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, phys_top - 4096, 8192), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, phys_top - 4096, 4096), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_REMOVE, phys_top - 4096, 4096), 0);
    /* never RAM the kernel hands out (a BAR a lying device reports there): kernel, page tables,
     * every process's pages; below 1 MiB (the VGA window) and above the last frame are not */
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0x100000, 4096), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0xff000, 8192), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0x1000000, 1ull << 32), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0xb8000, 4096), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_REMOVE, 0xb8000, 4096), 0);
    /* IRQ lines: never 0 (the clock) or 2 (the cascade), below 16 */
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 0, 1), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 2, 1), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 1, 2), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 16, 1), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 15, 2), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 3, 0), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 3, top), -E_INVAL);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_REMOVE, 15, 1), -E_RANGE);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 14, 2), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_REMOVE, 13, 2), -E_RANGE); /* 13 is not its */
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_REMOVE, 14, 2), 0);
    /* full tables: the ninth range is refused; one already there is no new entry */
    for (uint64_t i = 0; i < PRIV_MAX_IO; i++) {
        EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x100 + i * 4, 4), 0);
        EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0x100000000ull + i * 4096, 4096), 0);
    }
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x200, 4), -E_NOSPC);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0x200000000ull, 4096), -E_NOSPC);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x100, 4), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_REMOVE, 0x100, 2), -E_RANGE); /* exact ranges only */
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_REMOVE, 0x100, 4), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x200, 4), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_REMOVE, 0x100000000ull, 4096), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, 0x200000000ull, 4096), 0);
    message_t m = {0};
    EXPECT(ipc_send(e, &m), 0);
    expect_clean_exit(e);
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x70, 2), -E_DEADEP);
}

/* Helper (devdrv): the call is not in its manifest; the refusal is a counted denial. */
static int h_dev_unauthorised(uint64_t n)
{
    (void)n;
    struct proc_info i;
    return sys_priv_device(parent_ep, PRIV_DEV_IO_ADD, 0x70, 2) != -E_PERM ||
           sys_proc_info(SELF, &i) != 0 || i.denied != 1;
}

static void t_devpriv_unauthorised(void)
{
    run_helper("devdrv", "dev_unauthorised", 0);
}

/*
 * Helper (devdrv): n pages of DMA memory in one run, written to, unmapped
 * (which does not free them), and n more; sends the parent both physical
 * addresses, then waits to be killed.
 */
static int h_dma_owner(uint64_t n)
{
    message_t m = {0};
    uint64_t first, second;
    if (sys_dmaalloc(n * 4096, 0x30000000, &first) != 0 ||
        sys_dmaalloc(n * 4096, 0x31000000, &second) != 0)
        return 1;
    memset((void *)0x30000000, 0xa5, n * 4096);
    if (sys_mem_unmap(SELF, 0x30000000, n * 4096) != 0)
        return 2;
    m.u.w[0] = first;
    m.u.w[1] = second;
    if (ipc_send(parent_ep, &m) < 0)
        return 3;
    for (;;)
        ipc_receive(parent_ep, &m);
}

/* Spawn a DMA owner of 2 runs of n pages; their physical addresses into pa[0], pa[1]. */
static endpoint_t dma_owner(uint64_t n, uint64_t pa[2])
{
    endpoint_t e = spawn_helper("devdrv", "dma_owner", n);
    message_t m;
    EXPECT(ipc_receive(e, &m), 0);
    memcpy(pa, m.u.w, 2 * sizeof(uint64_t));
    return e;
}

static int overlaps(uint64_t a, uint64_t b, uint64_t len)
{
    return a < b + len && b < a + len;
}

/* Kill a child; its death report must say so. */
static void kill_child(endpoint_t e)
{
    struct death_info d = {0};
    if (sys_proc_kill(e) == 0)
        wait_child(e, &d);
    EXPECT(d.cause, DEATH_KILLED);
}

/*
 * A dead owner's DMA frames stay allocated until they are released: no
 * other allocation gets them, the free count stays down by exactly their
 * number, and the release (only of the dead; once) brings it back.
 */
static void t_dma_quarantine(void)
{
    const uint64_t n = 16;
    struct sysinfo s0, s1;
    uint64_t old[2], new[2];
    EXPECT(sys_sysinfo(&s0), 0);
    endpoint_t e = dma_owner(n, old);
    EXPECT(sys_dma_release(e), -E_BUSY); /* alive: its device may be using it */
    kill_child(e);
    EXPECT(sys_sysinfo(&s1), 0);
    EXPECT(s0.free_frames - s1.free_frames, 2 * n); /* the rest of its memory came back */
    endpoint_t f = dma_owner(n, new);               /* a new driver's DMA is elsewhere */
    for (int i = 0; i < 4; i++)
        CHECK(!overlaps(old[i / 2], new[i % 2], n * 4096));
    EXPECT(sys_dma_release(e), 2 * n);
    EXPECT(sys_dma_release(e), 0);
    kill_child(f);
    EXPECT(sys_dma_release(f), 2 * n);
    EXPECT(sys_dma_release(ROOT_EP), -E_BUSY);
    EXPECT(sys_dma_release(0), -E_SRCH);
    EXPECT(sys_sysinfo(&s1), 0);
    EXPECT(s1.free_frames, s0.free_frames);
    EXPECT(sys_selfcheck(), 0);
}

/* Helper (devdrv): DMA runs until the kernel refuses one; exit with how many it got. */
static int h_dma_many(uint64_t n)
{
    uint64_t pa;
    int runs = 0;
    (void)n;
    while (runs < 100 && sys_dmaalloc(4096, 0x30000000 + (uint64_t)runs * 4096, &pa) == 0)
        runs++;
    return sys_dmaalloc(4096, 0x40000000, &pa) == -E_NOSPC ? runs : 200;
}

/* One driver may hold only so many DMA runs (the kernel's table is shared). */
static void t_dma_runs_limit(void)
{
    struct death_info d;
    endpoint_t e = spawn_helper("devdrv", "dma_many", 0);
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_EXIT);
    EXPECT(d.code, 32);
    EXPECT(sys_dma_release(e), 32);
}

/*
 * Helper (devdrv): on the parent's word, one of each device operation (the
 * RTC's port, the APIC's page, IRQ 8, a DMA page); reports the port's value
 * and the DMA page's address, then does them again (untraced by then).
 */
static int h_dev_traced(uint64_t n)
{
    (void)n;
    for (int round = 0; round < 2; round++) {
        message_t m = {0};
        uint64_t pa;
        if (ipc_receive(parent_ep, &m) < 0)
            return 1;
        m.u.w[0] = (uint64_t)sys_ioport(IO_IN8, 0x71, 0);
        if (sys_ioport(IO_OUT8, 0x70, 0x8f) != 0 ||
            sys_mapphys(APIC, 4096, MAP_VA + (uint64_t)round * 4096) != 0 ||
            sys_irqctl(round ? IRQ_ACK : IRQ_ENABLE, 8) != 0 ||
            sys_dmaalloc(4096, 0x30000000 + (uint64_t)round * 4096, &pa) != 0)
            return 2;
        m.u.w[1] = pa;
        if (ipc_send(parent_ep, &m) < 0)
            return 3;
    }
    return 0;
}

/* e's trace entries from seq on: into t (at most 16); how many. */
static int entries_of(endpoint_t e, uint64_t seq, struct trace_entry *t)
{
    static struct trace_entry all[64];
    int64_t got = sys_trace_read(seq, all, 64);
    int n = 0;
    for (int64_t i = 0; i < got; i++)
        if (all[i].ep == e && n < 16)
            t[n++] = all[i];
    return n;
}

/*
 * PRIV_DEV_TRACE: a traced driver's device operations are in the trace
 * ring (call, first two arguments, then the value read or written, the
 * mapping's address, the DMA page's physical address), err 0; untraced,
 * none are, but its denials still are.
 */
static void t_devpriv_trace(void)
{
    endpoint_t e = spawn_helper("devdrv", "dev_traced", 0);
    struct sysinfo s;
    struct trace_entry t[16];
    message_t m = {0};
    EXPECT(sys_priv_device(e, PRIV_DEV_IO_ADD, 0x70, 2), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, APIC, 4096), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_IRQ_ADD, 8, 1), 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_TRACE, 1, 0), 0);
    EXPECT(sys_sysinfo(&s), 0);
    EXPECT(ipc_send(e, &m), 0);
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(entries_of(e, s.trace_seq, t), 5);
    const uint64_t want[5][4] = {{KC_IOPORT, IO_IN8, 0x71, m.u.w[0]},
                                 {KC_IOPORT, IO_OUT8, 0x70, 0x8f},
                                 {KC_MAPPHYS, APIC, 4096, MAP_VA},
                                 {KC_IRQCTL, IRQ_ENABLE, 8, 0},
                                 {KC_DMAALLOC, 4096, 0x30000000, m.u.w[1]}};
    for (int i = 0; i < 5; i++) {
        EXPECT(t[i].op, want[i][0]);
        EXPECT(t[i].args[0], want[i][1]);
        EXPECT(t[i].args[1], want[i][2]);
        EXPECT(t[i].args[2], want[i][3]);
        EXPECT(t[i].err, 0);
    }
    EXPECT(sys_priv_device(e, PRIV_DEV_TRACE, 0, 0), 0);
    EXPECT(sys_sysinfo(&s), 0);
    EXPECT(ipc_send(e, &m), 0);
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(entries_of(e, s.trace_seq, t), 0);
    expect_clean_exit(e);
    EXPECT(sys_dma_release(e), 2);
}

/*
 * With an IOMMU (part iommu boots this test alone behind QEMU's intel-iommu), its register page
 * is never a device range: a driver mapping it could turn DMA remapping off. Whether there is one
 * shows in the binding table (32 functions): without, every binding succeeds and does nothing.
 */
static void t_devpriv_iommu_regs(void)
{
    endpoint_t e = spawn_helper("devdrv", "dev_wait", 0);
    const uint64_t regs = 0xfed90000; /* QEMU's intel-iommu (the ACPI DMAR table says) */
    int full = 0;
    for (uint64_t bdf = 0x100; bdf < 0x100 + 33; bdf++)
        full |= sys_priv_device(e, PRIV_DEV_PCI_ADD, bdf, 1) == -E_NOSPC;
    for (uint64_t bdf = 0x100; bdf < 0x100 + 32; bdf++)
        EXPECT(sys_priv_device(e, PRIV_DEV_PCI_REMOVE, bdf, 1), 0);
    printf("devpriv_iommu_regs: %s\n", full ? "an IOMMU" : "no IOMMU");
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, regs, 4096), full ? -E_INVAL : 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, regs - 4096, 8192), full ? -E_INVAL : 0);
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, regs - 4096, 4096), 0); /* its neighbours */
    EXPECT(sys_priv_device(e, PRIV_DEV_MEM_ADD, regs + 4096, 4096), 0);
    message_t m = {0};
    EXPECT(ipc_send(e, &m), 0);
    expect_clean_exit(e);
}

const struct test devpriv_tests[] = {
    {"devpriv_grant_remove", t_devpriv_grant_remove},
    {"devpriv_edges", t_devpriv_edges},
    {"devpriv_unauthorised", t_devpriv_unauthorised},
    {"dma_quarantine", t_dma_quarantine},
    {"dma_runs_limit", t_dma_runs_limit},
    {"devpriv_trace", t_devpriv_trace},
    {"devpriv_iommu_regs", t_devpriv_iommu_regs},
    {0, 0},
};

const struct khelper devpriv_helpers[] = {
    {"dev_wait", h_dev_wait},
    {"dev_user", h_dev_user},
    {"dev_unauthorised", h_dev_unauthorised},
    {"dma_owner", h_dma_owner},
    {"dma_many", h_dma_many},
    {"dev_traced", h_dev_traced},
    {0, 0},
};
