/*
 * Privilege profiles: what each boot program and each test helper may do.
 * A stand-in for per-service manifests (the reincarnation issue replaces
 * this table with manifest files); one entry a line, least privilege.
 */
#include "root.h"

#define K(n) KC_BIT(n)
#define BASIC (K(KC_EXIT) | K(KC_UPTIME) | K(KC_TSC) | K(KC_LOG))
#define PROCS (K(KC_PROC_INFO) | K(KC_PROC_REAP) | K(KC_PROC_KILL))

#define GRANTS (K(KC_SETGRANT) | K(KC_SAFECOPY_FROM) | K(KC_SAFECOPY_TO))

const struct profile profiles[] = {
    /* pm: Linux processes, their memory, registers and signals. */
    /* (ports 0x70-0x71: the RTC, read once for the time of day) */
    {"pm", BASIC | PROCS | GRANTS | K(KC_PROC_CREATE) | K(KC_PROC_START) | K(KC_PROC_FORK) |
               K(KC_PROC_REGS) | K(KC_MEM_MAP) | K(KC_MEM_UNMAP) | K(KC_MEM_PROTECT) |
               K(KC_VCOPY) | K(KC_ALARM) | K(KC_SYSINFO) | K(KC_IOPORT),
     PRIV_IPC_ALL | PRIV_USERS, 1, {{0x70, 2}}, 0, 0, 0, 0, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* vfs: descriptors and paths; copies to and from Linux processes. */
    {"vfs", BASIC | GRANTS | K(KC_VCOPY) | K(KC_PROC_INFO) | K(KC_ALARM) | K(KC_SYSINFO),
     PRIV_IPC_ALL | PRIV_USERS, 0, {{0, 0}}, 0, 0, 0, 0, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* ramfs: the in-memory root file system, filled from the initramfs. */
    {"ramfs", BASIC | GRANTS | K(KC_MEM_MAP), PRIV_IPC_ALL, 0, {{0, 0}}, 0, 0, 0, 0, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* tty: the 16550 on COM1, its ports and IRQ 4 only. */
    {"tty", BASIC | GRANTS | K(KC_IOPORT) | K(KC_IRQCTL) | K(KC_ALARM), PRIV_IPC_ALL, 1,
     {{0x3f8, 8}}, 1u << 4, 0, 0, 0, 1, RESTART_IMMEDIATE, 1000, 0, 0, 0},
    /* demo: a character device with state, to show restarts (restarted at once). */
    {"demo", BASIC | GRANTS, PRIV_IPC_ALL, 0, {{0, 0}}, 0, 0, 0, 0, 2, RESTART_IMMEDIATE, 100, 64, 0,
     "/etc/rs/demo.policy"},
    /* crashy: the same program, dying at start-up: restarted with back-off, then left down. */
    {"crashy", BASIC | GRANTS, PRIV_IPC_ALL, 0, {{0, 0}}, 0, 0, 0, 0, 2, RESTART_BACKOFF, 0, 0, 6, 0},
    /* rstest: rs's failure detection and policies, through demo and crashy. */
    {"rstest", BASIC | GRANTS | K(KC_IOPORT) | K(KC_ALARM), PRIV_IPC_ALL, 1, {{0x501, 1}}, 0, 0, 0,
     1, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* demotest: kills demo again and again and checks it comes back, state and all. */
    {"demotest", BASIC | GRANTS | K(KC_IOPORT) | K(KC_TSC) | K(KC_ALARM), PRIV_IPC_ALL, 1,
     {{0x501, 1}}, 0, 0, 0, 1, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* The kernel test runner: spawns helpers, reads the trace, exits QEMU. */
    {"ktest", BASIC | PROCS | K(KC_SYSINFO) | K(KC_SELFCHECK) | K(KC_TRACE_READ) |
                  K(KC_ALARM) | K(KC_SETGRANT) | K(KC_SAFECOPY_FROM) | K(KC_SAFECOPY_TO) |
                  K(KC_IOPORT),
     PRIV_IPC_ALL, 1, {{0x501, 1}}, 0, 0, 0, 1, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* A test helper that talks to anyone and uses grants and alarms. */
    {"peer", BASIC | PROCS | K(KC_ALARM) | K(KC_SETGRANT) | K(KC_SAFECOPY_FROM) |
                 K(KC_SAFECOPY_TO) | K(KC_SYSINFO) | K(KC_SELFCHECK),
     PRIV_IPC_ALL, 0, {{0, 0}}, 0, 0, 0, 1, 3, RESTART_NEVER, 0, 0, 0, 0},
    /* A test driver: the RTC's ports and IRQ 8, nothing else. */
    {"rtcdrv", BASIC | K(KC_IOPORT) | K(KC_IRQCTL) | K(KC_ALARM), PRIV_IPC_ALL, 1,
     {{0x70, 2}}, 1u << 8, 0, 0, 0, 3, RESTART_NEVER, 0, 0, 0, 0},
    /* A test driver for memory calls: its own memory, DMA, the local APIC page. */
    {"memdrv", BASIC | K(KC_MEM_MAP) | K(KC_MEM_UNMAP) | K(KC_DMAALLOC) | K(KC_MAPPHYS), 0, 0,
     {{0, 0}}, 0, 0xfee00000, 4096, 0, 3, RESTART_NEVER, 0, 0, 0, 0},
    /* The tty driver's tests: CDEV_* requests with grants, alarms, exits QEMU. */
    /* fstest: talks to ramfs through grants, exits QEMU. */
    {"fstest", BASIC | GRANTS | K(KC_IOPORT), PRIV_IPC_ALL, 1, {{0x501, 1}}, 0, 0, 0, 0, 3, RESTART_NEVER, 0, 0, 0, 0},
    {"ttytest", BASIC | GRANTS | K(KC_ALARM) | K(KC_IOPORT), PRIV_IPC_ALL, 1, {{0x501, 1}}, 0, 0, 0, 0, 2, RESTART_NEVER, 0, 0, 0, 0},
    /* Default privileges plus the log: every other operation is denied. */
    {"unpriv", BASIC, 0, 0, {{0, 0}}, 0, 0, 0, 0, 3, RESTART_NEVER, 0, 0, 0, 0},
    /* The fuzzer: no IPC targets, a few harmless kernel calls. */
    {"fuzz", BASIC | K(KC_ALARM) | K(KC_SETGRANT) | K(KC_SAFECOPY_FROM) |
                 K(KC_SAFECOPY_TO) | K(KC_PROC_INFO),
     0, 0, {{0, 0}}, 0, 0, 0, 0, 4, RESTART_NEVER, 0, 0, 0, 0},
    /* The IPC fuzzer: the same, and it may message anyone (non-blocking only). */
    {"fuzz_ipc", BASIC | K(KC_ALARM) | K(KC_SETGRANT) | K(KC_SAFECOPY_FROM) |
                     K(KC_SAFECOPY_TO) | K(KC_PROC_INFO),
     PRIV_IPC_ALL, 0, {{0, 0}}, 0, 0, 0, 0, 4, RESTART_NEVER, 0, 0, 0, 0},
    /* Benchmarks: IPC to anyone, spawn a partner, exit QEMU. */
    {"kbench", BASIC | PROCS | K(KC_IOPORT) | K(KC_SYSINFO) | K(KC_ALARM), PRIV_IPC_ALL, 1, {{0x501, 1}}, 0,
     0, 0, 1, 2, RESTART_NEVER, 0, 0, 0, 0},
    {"", 0, 0, 0, {{0, 0}}, 0, 0, 0, 0, 0, RESTART_NEVER, 0, 0, 0, 0},
};

static const struct profile *profile_find(const char *name)
{
    for (const struct profile *p = profiles; p->name[0]; p++)
        if (!strcmp(p->name, name))
            return p;
    return 0;
}

/* The manifest of a label (from the profile table until manifest files are read). */
const struct manifest *manifest_for(const char *label)
{
    static struct manifest cache[32];
    static int cached;
    for (int i = 0; i < cached; i++)
        if (!strcmp(cache[i].label, label))
            return &cache[i];
    const struct profile *p = profile_find(label);
    if (!p || cached == 32)
        return 0;
    struct manifest *m = &cache[cached++];
    memset(m, 0, sizeof(*m));
    strncpy_s(m->label, p->name, sizeof(m->label));
    strncpy_s(m->program, p->name, sizeof(m->program));
    m->priority = p->priority;
    m->kcalls = p->kcalls;
    m->flags = p->flags;
    m->irqs = p->irqs;
    m->nr_io = (uint32_t)p->nr_io;
    for (int i = 0; i < p->nr_io; i++) {
        m->io[i].base = p->io[i].base;
        m->io[i].len = p->io[i].len;
    }
    if (p->mem_len) {
        m->nr_mem = 1;
        m->mem[0].base = p->mem_base;
        m->mem[0].len = p->mem_len;
    }
    m->max_pages = 16384; /* 64 MiB */
    m->restart = (enum manifest_restart)p->restart;
    m->heartbeat_ms = p->heartbeat_ms;
    m->denial_limit = p->denial_limit;
    m->restart_limit = p->restart_limit;
    m->may_manage = p->may_spawn;
    if (p->policy)
        strncpy_s(m->policy, p->policy, sizeof(m->policy));
    return m;
}

void manifest_to_priv(const struct manifest *m, struct priv *v)
{
    memset(v, 0, sizeof(*v));
    v->flags = m->flags & (PRIV_IPC_ALL | PRIV_USERS);
    v->kcalls = m->kcalls;
    v->irqs = m->irqs;
    v->nr_io = m->nr_io;
    memcpy(v->io, m->io, sizeof(v->io));
    v->nr_mem = m->nr_mem;
    memcpy(v->mem, m->mem, sizeof(v->mem));
    v->max_pages = m->max_pages;
    for (int i = 0; i < m->nr_ipc; i++) { /* named targets: the slots they run in now */
        endpoint_t ep = service_lookup(m->ipc[i]);
        if (ep > 0)
            v->ipc_to[EP_SLOT(ep) / 64] |= 1ull << (EP_SLOT(ep) % 64);
    }
}
