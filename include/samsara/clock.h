/*
 * The clock page: what a Linux process needs to tell the time without a
 * system call. pm fills one page (servers/pm/time.c: clock_init) and maps
 * it read-only into every Linux process just below the vDSO (lib/vdso),
 * which reads it; pm reads the same fields for the system calls, so the
 * two agree to the nanosecond.
 *
 * CLOCK_MONOTONIC (and CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW) in ns is
 * ((tsc - tsc_boot) * mult) >> shift, a 128-bit product: tsc_boot is the
 * TSC at time 0 and mult / 2^shift the ns per cycle, both from the
 * kernel's measurement of the TSC against the PIT at boot (struct sysinfo).
 * CLOCK_REALTIME is that plus realtime_ns (the RTC at pm's start, moved by
 * settimeofday and clock_settime). Only realtime_ns changes after start:
 * pm makes seq odd, writes it, and makes seq even again; a reader that
 * saw an odd seq, or a seq that changed while it read, reads again.
 */
#ifndef SAMSARA_CLOCK_H
#define SAMSARA_CLOCK_H

#include <stdint.h>

struct clock_page {
    uint32_t seq;      /* odd while pm writes realtime_ns */
    uint32_t shift;    /* ns = ((tsc - tsc_boot) * mult) >> shift */
    uint64_t tsc_boot; /* the TSC at CLOCK_MONOTONIC 0 */
    uint64_t mult;
    uint64_t tsc_hz;     /* the TSC's rate (for the record: /proc, tests) */
    int64_t realtime_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
};

/* Where exec maps the page, and the vDSO's image the page after it. */
#define CLOCK_PAGE_ADDR 0x00007ff000000000ull
#define VDSO_ADDR (CLOCK_PAGE_ADDR + 4096)

static inline uint64_t clock_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* CLOCK_MONOTONIC in ns at TSC value tsc (a reading from before time 0 is 0). */
static inline uint64_t clock_monotonic_ns(const volatile struct clock_page *c, uint64_t tsc)
{
    uint64_t cycles = tsc > c->tsc_boot ? tsc - c->tsc_boot : 0;
    return (uint64_t)(((unsigned __int128)cycles * c->mult) >> c->shift);
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, read consistently with pm's updates. */
static inline int64_t clock_realtime_offset(const volatile struct clock_page *c)
{
    for (;;) {
        uint32_t seq = c->seq;
        __asm__ volatile("" ::: "memory");
        int64_t off = c->realtime_ns;
        __asm__ volatile("" ::: "memory");
        if (!(seq & 1) && seq == c->seq)
            return off;
    }
}

#endif
