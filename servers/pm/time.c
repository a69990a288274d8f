/*
 * Clocks and timers. The monotonic clock is the kernel's tick count
 * (1 ms) plus, within a tick, the TSC cycles since pm first saw that tick
 * (now_ns: sub-millisecond readings, as Tcl's cmdMZ-6.6 and any busy-wait on
 * the clock need); the coarse clocks are the tick count alone; the real-time
 * clock is the CMOS RTC read once at start plus the monotonic one. The boot time read there goes to
 * the kernel (KC_SET_BOOTTIME), where the file servers read it for their times (lib/fsdriver:
 * fsdriver_now). nanosleep and ITIMER_REAL (alarm, setitimer) are deadlines in ticks, served by one
 * kernel alarm set for the earliest of them. Time arithmetic saturates: a sleep or timer too long
 * for 64 bits of milliseconds ends at the end of time (UINT64_MAX), never early.
 */
#include "pm.h"

#define ALARM_MAX (1ull << 36) /* ticks (2 years): a longer wait is re-armed when this ends */

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > ~0ull - b ? ~0ull : a + b;
}

/* sec seconds and sub units of 1/per second, rounded up to ms, saturated. */
static uint64_t to_ms(uint64_t sec, uint64_t sub, uint64_t per)
{
    uint64_t ms = sec > ~0ull / 1000 ? ~0ull : sec * 1000;
    return add_sat(ms, (sub * 1000 + per - 1) / per);
}

static uint64_t boot_epoch; /* seconds since 1970 when the tick count was 0 */

uint64_t now_ticks(void)
{
    return sys_uptime();
}

static uint8_t cmos(uint8_t reg)
{
    sys_ioport(IO_OUT8, 0x70, reg);
    return (uint8_t)sys_ioport(IO_IN8, 0x71, 0);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

uint64_t realtime_base(void)
{
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
        ; /* wait while the RTC updates */
    uint8_t r[6] = {cmos(0), cmos(2), cmos(4), cmos(7), cmos(8), cmos(9)}, b = cmos(0x0b);
    if (!(b & 4)) /* BCD */
        for (int i = 0; i < 6; i++)
            r[i] = (uint8_t)((r[i] & 0x0f) + (r[i] >> 4) * 10);
    int64_t days = days_from_civil(2000 + r[5], r[4], r[3]);
    boot_epoch = (uint64_t)(days * 86400 + r[2] * 3600 + r[1] * 60 + r[0]) - now_ticks() / 1000;
    if (sys_set_boottime(boot_epoch) < 0) /* for the file servers' times (KC_BOOTTIME) */
        printf("pm: the kernel refused the boot time %lu\n", (unsigned long)boot_epoch);
    return boot_epoch;
}

/* Nanoseconds since tick 0: the tick's milliseconds plus the cycles since pm first saw this
 * tick, at the TSC rate measured since pm's first reading (cycles per tick), never reaching
 * the next tick and never going back. Until a tick has passed there is no rate: whole ms. */
static uint64_t now_ns(void)
{
    static uint64_t first_tick, first_tsc, seen_tick, seen_tsc, last;
    uint64_t tick = now_ticks(), tsc = sys_tsc();
    if (!first_tsc)
        first_tick = tick, first_tsc = tsc;
    if (tick != seen_tick)
        seen_tick = tick, seen_tsc = tsc;
    uint64_t ns = tick * 1000000,
             per_tick = tick > first_tick ? (tsc - first_tsc) / (tick - first_tick) : 0;
    if (per_tick && tsc >= seen_tsc)
        ns += tsc - seen_tsc >= per_tick ? 999999 : (tsc - seen_tsc) * 1000000 / per_tick;
    last = ns > last ? ns : last;
    return last;
}

static int put_timespec(struct mproc *mp, uint64_t uaddr, uint64_t ns, int micro)
{
    uint64_t t[2] = {ns / 1000000000, ns % 1000000000 / (micro ? 1000 : 1)};
    return sys_vcopy(SELF, (uint64_t)t, mp->ep, uaddr, sizeof(t)) < 0 ? -LX_EFAULT : 0;
}

/* Thread mp's CPU time in ms (the kernel's ticks of its kernel process). */
uint64_t cpu_ms(const struct mproc *mp)
{
    struct proc_info i;
    return sys_proc_info(mp->ep, &i) == 0 ? i.ticks : 0;
}

/* mp's process's: every thread's, those that ended too. */
uint64_t process_cpu_ms(struct mproc *mp)
{
    struct mproc *g = leader_of(mp);
    uint64_t ms = g->gone_ms;
    for (struct mproc *t = group_next(g, 0); t; t = group_next(g, t))
        ms += cpu_ms(t);
    return ms;
}

int64_t do_clock_gettime(struct mproc *mp, const uint64_t *a)
{
    switch (a[0]) {
    case 0:
        return put_timespec(mp, a[1], boot_epoch * 1000000000 + now_ns(), 0); /* REALTIME */
    case 5:
        return put_timespec(mp, a[1], (boot_epoch * 1000 + now_ticks()) * 1000000, 0); /* coarse */
    case 1:
    case 4:
    case 7:
        return put_timespec(mp, a[1], now_ns(), 0); /* MONOTONIC, RAW, BOOTTIME */
    case 6:
        return put_timespec(mp, a[1], now_ticks() * 1000000, 0); /* MONOTONIC_COARSE */
    case 2:
    case 3:
        return put_timespec(mp, a[1], (a[0] == 2 ? process_cpu_ms(mp) : cpu_ms(mp)) * 1000000,
                            0); /* CPU time */
    default:
        return -LX_EINVAL;
    }
}

int64_t do_clock_getres(struct mproc *mp, const uint64_t *a)
{
    if (a[0] > 7)
        return -LX_EINVAL;
    uint64_t ns = a[0] == 0 || a[0] == 1 || a[0] == 4 || a[0] == 7 ? 1000 : 1000000;
    return a[1] ? put_timespec(mp, a[1], ns, 0) : 0; /* 1 us (now_ns), else a tick */
}

int64_t do_gettimeofday(struct mproc *mp, const uint64_t *a)
{
    return a[0] ? put_timespec(mp, a[0], boot_epoch * 1000000000 + now_ns(), 1) : 0;
}

int64_t do_time(struct mproc *mp, const uint64_t *a)
{
    uint64_t t = boot_epoch + now_ticks() / 1000;
    if (a[0] && sys_vcopy(SELF, (uint64_t)&t, mp->ep, a[0], 8) < 0)
        return -LX_EFAULT;
    return (int64_t)t;
}

/* Sleep until the deadline (in ticks); a signal writes the time left to rem (signal.c). */
static int64_t sleep_until(struct mproc *mp, uint64_t deadline)
{
    if (deadline <= now_ticks())
        return 0;
    mp->wake_at = deadline;
    mp->wait = W_SLEEP;
    timers_arm();
    return SUSPEND;
}

int64_t timespec_ms(struct mproc *mp, uint64_t uaddr, uint64_t *ms)
{
    int64_t t[2];
    if (sys_vcopy(mp->ep, uaddr, SELF, (uint64_t)t, sizeof(t)) < 0)
        return -LX_EFAULT;
    if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000000)
        return -LX_EINVAL;
    *ms = to_ms((uint64_t)t[0], (uint64_t)t[1], 1000000000);
    return 0;
}

/* A relative sleep of ms: one tick more, so that at least ms pass. */
static int64_t sleep_for(struct mproc *mp, uint64_t ms)
{
    return sleep_until(mp, add_sat(now_ticks(), add_sat(ms, ms ? 1 : 0)));
}

int64_t do_nanosleep(struct mproc *mp, const uint64_t *a)
{
    uint64_t ms;
    int64_t r = timespec_ms(mp, a[0], &ms);
    return r < 0 ? r : sleep_for(mp, ms);
}

int64_t do_clock_nanosleep(struct mproc *mp, const uint64_t *a)
{
    uint64_t ms;
    if (a[0] > 7)
        return -LX_EINVAL;
    int64_t r = timespec_ms(mp, a[2], &ms);
    if (r < 0)
        return r;
    if (a[1] & 1) { /* TIMER_ABSTIME */
        uint64_t base = a[0] == 0 || a[0] == 5 ? boot_epoch * 1000 : 0;
        return sleep_until(mp, ms > base ? ms - base : 0);
    }
    return sleep_for(mp, ms);
}

/* ITIMER_REAL: value and interval in ticks, as a struct itimerval in user memory. */
/*
 * A timer armed at a tick's fraction would fire up to a tick early by the
 * clocks, which read finer than the tick (now_ns): arming adds one tick
 * (ARM_SLACK), as a sleep does, and what is left is told without it (at
 * least 1 ms while it is armed).
 */
#define ARM_SLACK 1
static uint64_t timer_left(const struct mproc *mp, uint64_t now)
{
    if (mp->alarm_at <= now)
        return 0;
    return mp->alarm_at - now > ARM_SLACK ? mp->alarm_at - now - ARM_SLACK : 1;
}

static int64_t itimer_out(struct mproc *mp, uint64_t uaddr)
{
    uint64_t now = now_ticks(), left = timer_left(mp, now);
    uint64_t v[4] = {mp->alarm_interval / 1000, (mp->alarm_interval % 1000) * 1000, left / 1000,
                     (left % 1000) * 1000};
    return sys_vcopy(SELF, (uint64_t)v, mp->ep, uaddr, sizeof(v)) < 0 ? -LX_EFAULT : 0;
}

int64_t do_getitimer(struct mproc *mp, const uint64_t *a)
{
    return a[0] != 0 ? -LX_EINVAL : itimer_out(mp, a[1]);
}

/* A struct timeval pair (interval, value) as ms; -EINVAL unless 0 <= usec < 10^6, sec >= 0. */
static int64_t itimerval_ms(const int64_t v[4], uint64_t *interval, uint64_t *value)
{
    for (int i = 0; i < 4; i += 2)
        if (v[i] < 0 || v[i + 1] < 0 || v[i + 1] >= 1000000)
            return -LX_EINVAL;
    *interval = to_ms((uint64_t)v[0], (uint64_t)v[1], 1000000);
    *value = to_ms((uint64_t)v[2], (uint64_t)v[3], 1000000);
    return 0;
}

/* As Linux: the new value is read and checked first; no new value (NULL) disarms. */
int64_t do_setitimer(struct mproc *mp, const uint64_t *a)
{
    int64_t v[4] = {0};
    uint64_t interval, value;
    if (a[0] != 0)
        return -LX_EINVAL; /* only ITIMER_REAL */
    if (a[1] && sys_vcopy(mp->ep, a[1], SELF, (uint64_t)v, sizeof(v)) < 0)
        return -LX_EFAULT;
    if (itimerval_ms(v, &interval, &value) < 0)
        return -LX_EINVAL;
    if (a[2] && itimer_out(mp, a[2]) < 0)
        return -LX_EFAULT;
    mp->alarm_interval = interval;
    mp->alarm_at = value ? add_sat(now_ticks(), add_sat(value, ARM_SLACK)) : 0;
    timers_arm();
    return 0;
}

/* alarm(unsigned int seconds): the register's upper half is not part of it. */
int64_t do_alarm(struct mproc *mp, const uint64_t *a)
{
    uint64_t now = now_ticks(), secs = (uint32_t)a[0];
    int64_t left = (int64_t)((timer_left(mp, now) + 999) / 1000);
    mp->alarm_interval = 0;
    mp->alarm_at = secs ? now + secs * 1000 + ARM_SLACK : 0;
    timers_arm();
    return left;
}

void timers_arm(void)
{
    uint64_t next = 0, now = now_ticks();
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *mp = &mprocs[i];
        if (mp->state != M_ALIVE)
            continue;
        if (mp->alarm_at && (!next || mp->alarm_at < next))
            next = mp->alarm_at;
        if ((mp->wait == W_SLEEP ||
             ((mp->wait == W_SIGWAIT || mp->wait == W_FUTEX) && mp->wake_at)) &&
            (!next || mp->wake_at < next))
            next = mp->wake_at;
    }
    uint64_t wait = next > now ? next - now : 1;
    sys_alarm(next ? (wait < ALARM_MAX ? wait : ALARM_MAX) : 0);
}

void timers_run(void)
{
    uint64_t now = now_ticks();
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *mp = &mprocs[i];
        if (mp->state != M_ALIVE)
            continue;
        if ((mp->wait == W_SLEEP ||
             ((mp->wait == W_SIGWAIT || mp->wait == W_FUTEX) && mp->wake_at)) &&
            mp->wake_at <= now) {
            int64_t r = mp->wait == W_SLEEP   ? 0
                        : mp->wait == W_FUTEX ? -LX_ETIMEDOUT
                                              : -LX_EAGAIN; /* rt_sigtimedwait's timeout */
            mp->wait = W_NONE;
            reply_to(mp, r);
        }
        if (mp->alarm_at && mp->alarm_at <= now) {
            mp->alarm_at = mp->alarm_interval ? add_sat(now, mp->alarm_interval) : 0;
            signal_send(mp, SIGALRM);
        }
    }
    timers_arm();
}

int64_t do_times(struct mproc *mp, const uint64_t *a)
{
    uint64_t t[4] = {process_cpu_ms(mp) / 10, 0, leader_of(mp)->child_ticks / 10,
                     0}; /* in 1/100 s (AT_CLKTCK) */
    if (a[0] && sys_vcopy(SELF, (uint64_t)t, mp->ep, a[0], sizeof(t)) < 0)
        return -LX_EFAULT;
    return (int64_t)(now_ticks() / 10);
}

int64_t do_getrusage(struct mproc *mp, const uint64_t *a)
{
    uint64_t ru[18] = {0};
    int64_t who = (int64_t)a[0]; /* RUSAGE_SELF 0, RUSAGE_CHILDREN -1, RUSAGE_THREAD 1 */
    if (who != 0 && who != -1 && who != 1)
        return -LX_EINVAL;
    uint64_t ms = who == -1  ? leader_of(mp)->child_ticks
                  : who == 1 ? cpu_ms(mp)
                             : process_cpu_ms(mp);
    ru[0] = ms / 1000;
    ru[1] = (ms % 1000) * 1000;
    return sys_vcopy(SELF, (uint64_t)ru, mp->ep, a[1], sizeof(ru)) < 0 ? -LX_EFAULT : 0;
}
