/*
 * Structures the kernel fills in for processes: process information,
 * death reports, boot information, the denial trace and system counters.
 */
#ifndef SAMSARA_PROC_H
#define SAMSARA_PROC_H

#include <stdint.h>
#include <samsara/ipc.h>

#define PROC_NAME_LEN 16

/* proc_info.state bits */
#define PS_RUNNABLE 0
#define PS_SENDING (1u << 0)
#define PS_RECEIVING (1u << 1)
#define PS_STOPPED (1u << 2) /* created, not yet started */
#define PS_ZOMBIE (1u << 3)  /* dead, waiting to be reaped */
#define PS_HELD (1u << 4)    /* held off the CPU (KC_PROC_HOLD; a Linux process at a fault) */

struct proc_info {
    endpoint_t ep, parent;
    uint32_t state, priority;
    char name[PROC_NAME_LEN];
    uint64_t denied; /* operations refused for lack of privilege */
    uint64_t pages;  /* user pages owned */
    uint64_t ticks;  /* CPU time in clock ticks */
    /* The endpoint it is blocked sending to, or waiting for a sendrec's reply from; NONE if
     * neither (rs: a silent service waiting for a live one is not hung). */
    endpoint_t waits_for;
};

/* death_info.cause */
#define DEATH_EXIT 1   /* code = exit status */
#define DEATH_FAULT 2  /* code = vector, addr = CR2 for page faults (else 0), err, rip */
#define DEATH_KILLED 3 /* code = killer's endpoint */
#define DEATH_DMA 5    /* the IOMMU blocked its device: code = reason, addr, err = source id */
#define DEATH_NOMEM 4  /* a demand-zero page found no free frame (the OOM kill): addr, err, rip */
/* Not a death: a Linux process faulted (code, addr, err, rip as DEATH_FAULT) and is held
 * (PS_HELD), alive, until its parent resumes it (KC_PROC_HOLD off) or kills it. */
#define FAULT_HELD 5

/* Frames kept for the system servers: a Linux process's pages never take them (pm admits
 * mappings against them; the kernel's demand-zero faults stop short of them). */
#define USER_RESERVE_FRAMES(total) ((total) / 32 > 2048 ? (total) / 32 : 2048)

struct death_info {
    endpoint_t ep;
    int32_t cause;
    int64_t code;
    uint64_t addr;
    uint64_t rip;
    uint64_t err;
};

#define BOOT_MAX_MODULES 16
#define BOOTINFO_VADDR 0x0000100000000000ull /* root: this struct */
#define MODULES_VADDR 0x0000100000001000ull  /* root: module images, read-only */

struct boot_module {
    char name[32];  /* first word of the module's command line, basename */
    char args[64];  /* rest of the command line */
    uint64_t vaddr; /* where root sees the image */
    uint64_t size;
};

struct bootinfo {
    uint32_t nr_modules;
    uint32_t hz;
    uint64_t mem_bytes;
    struct boot_module mod[BOOT_MAX_MODULES];
};

struct trace_entry {
    uint64_t seq;
    uint64_t tsc;
    uint64_t ticks;
    endpoint_t ep;
    int32_t err;
    uint32_t op;  /* kernel call number */
    uint32_t arg; /* the argument refused, 1-6 (rdi, rsi, rdx, r10, r8, r9); 0: the call */
    uint64_t args[3];
};

struct sysinfo {
    uint64_t ticks, hz;
    uint64_t free_frames, total_frames;
    uint32_t nr_procs;
    uint32_t pad;
    uint64_t trace_seq; /* sequence number of the next trace entry */
    uint64_t tsc_hz;    /* the TSC's rate, measured against the PIT at boot */
    uint64_t tsc_boot;  /* the TSC at time 0: CLOCK_MONOTONIC is (tsc - tsc_boot) / tsc_hz s */
};

#endif
