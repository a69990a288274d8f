/*
 * The vDSO: a small ELF shared object pm maps into every Linux process
 * (servers/pm/clock.c) and names in the auxiliary vector (AT_SYSINFO_EHDR),
 * so that musl's clock_gettime, gettimeofday and time read the clock page
 * (samsara/clock.h), mapped read-only just below it, instead of making a
 * system call. Its symbols carry version LINUX_2.6 as Linux's do, in a
 * DT_HASH table, which is what musl's lookup (src/internal/vdso.c) reads.
 * Clocks the page cannot tell (CPU time) and unknown ones go to the system
 * call, which answers or says EINVAL. Built -fPIC with no library and no
 * relocation (lib/vdso/vdso.lds, servers/pm/build.mk).
 */
#include <samsara/clock.h>

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define NR_clock_getres 229
#define NS 1000000000ull

struct timespec_v {
    int64_t sec, nsec;
};

/* The page before the image (vdso.lds): the same page at every exec's address pair. */
extern const volatile struct clock_page vdso_clock_page __attribute__((visibility("hidden")));

static long syscall2(long nr, long a, long b)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}

/* Clock id's time in ns, or -1 for a clock the page cannot tell. */
static int64_t clock_ns(long id)
{
    const volatile struct clock_page *c = &vdso_clock_page;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE: {
        int64_t off = clock_realtime_offset(c);
        return (int64_t)clock_monotonic_ns(c, clock_tsc()) + off;
    }
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        return (int64_t)clock_monotonic_ns(c, clock_tsc());
    default:
        return -1;
    }
}

long __vdso_clock_gettime(long id, struct timespec_v *ts)
{
    int64_t ns = clock_ns(id);
    if (ns < 0)
        return syscall2(NR_clock_gettime, id, (long)ts);
    ts->sec = ns / (int64_t)NS;
    ts->nsec = ns % (int64_t)NS;
    return 0;
}

long __vdso_gettimeofday(struct timespec_v *tv, void *tz)
{
    if (tz) /* the kernel's answer for a time zone (none: zeros) */
        return syscall2(NR_gettimeofday, (long)tv, (long)tz);
    if (tv) {
        int64_t ns = clock_ns(CLOCK_REALTIME);
        tv->sec = ns / (int64_t)NS;
        tv->nsec = ns % (int64_t)NS / 1000;
    }
    return 0;
}

long __vdso_time(int64_t *t)
{
    int64_t s = clock_ns(CLOCK_REALTIME) / (int64_t)NS;
    if (t)
        *t = s;
    return s;
}

long __vdso_clock_getres(long id, struct timespec_v *res)
{
    if (clock_ns(id) < 0)
        return syscall2(NR_clock_getres, id, (long)res);
    if (res)
        *res = (struct timespec_v){
            0, id == CLOCK_REALTIME_COARSE || id == CLOCK_MONOTONIC_COARSE ? 1000000 : 1};
    return 0;
}

/* Linux's vDSO also exports the names without the prefix. */
long clock_gettime(long, struct timespec_v *) __attribute__((weak, alias("__vdso_clock_gettime")));
long gettimeofday(struct timespec_v *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(int64_t *) __attribute__((weak, alias("__vdso_time")));
long clock_getres(long, struct timespec_v *) __attribute__((weak, alias("__vdso_clock_getres")));
