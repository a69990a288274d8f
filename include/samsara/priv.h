/*
 * Privilege structure: what one process may do. Installed by the root
 * server with KC_PRIV_SET before a process runs, and changed one device
 * range at a time with KC_PRIV_DEVICE; the kernel checks every operation
 * against it, and counts and traces each denial.
 */
#ifndef SAMSARA_PRIV_H
#define SAMSARA_PRIV_H

#include <stdint.h>
#include <samsara/ipc.h>

#define PRIV_MAX_IO 8
#define PRIV_MAX_MEM 8

#define PRIV_ROOT (1u << 0)    /* may call KC_PRIV_SET */
#define PRIV_IPC_ALL (1u << 1) /* may send to any slot */
#define PRIV_USERS (1u << 2)   /* may control Linux processes (pm, vfs) */

struct priv_range {
    uint64_t base, len; /* [base, base+len) */
};

struct priv {
    uint32_t flags;
    uint32_t irqs;                  /* bit n: may own IRQ n */
    uint64_t kcalls;                /* bit n: may make kernel call n */
    uint64_t ipc_to[NR_SLOTS / 64]; /* bit n: may send/notify slot n */
    uint32_t nr_io, nr_mem;
    struct priv_range io[PRIV_MAX_IO];   /* I/O ports */
    struct priv_range mem[PRIV_MAX_MEM]; /* physical ranges */
    uint64_t max_pages;                  /* memory limit, 0 = none */
};

#endif
