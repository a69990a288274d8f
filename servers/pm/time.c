/*
 * Clocks and timers. The clocks come from the TSC (clock.c: now_ns,
 * realtime_ns, the page the vDSO reads); here are the system calls for
 * them, for the processes that make them (the CPU-time clocks, a program
 * without the vDSO), and the timers. Every deadline (nanosleep, ITIMER_REAL:
 * alarm, setitimer; futex and sigtimedwait timeouts) is a CLOCK_MONOTONIC
 * time in ns, and one kernel alarm is set for the earliest of them, in
 * ticks rounded up and one more (the tick under way): ticks lost while the
 * kernel ran with interrupts off make it late, never early, and timers_run,
 * which compares with the TSC's time, arms again what is not yet due. Time
 * arithmetic saturates: a sleep or timer too long for 64 bits of ns ends at
 * the end of time (UINT64_MAX), never early.
 */
#include "pm.h"

#define ALARM_MAX (1ull << 36) /* ticks (2 years): a longer wait is re-armed when this ends */
#define NS_PER_S 1000000000ull
#define NS_PER_TICK 1000000ull

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > ~0ull - b ? ~0ull : a + b;
}

/* sec seconds and sub units of 1/per second (per divides 10^9) in ns, saturated. */
static uint64_t to_ns(uint64_t sec, uint64_t sub, uint64_t per)
{
    uint64_t ns = sec > ~0ull / NS_PER_S ? ~0ull : sec * NS_PER_S;
    return add_sat(ns, sub * (NS_PER_S / per));
}

/* The CLOCK_MONOTONIC deadline ns from now. */
uint64_t deadline_after(uint64_t ns)
{
    return add_sat(now_ns(), ns);
}

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

/* The CMOS RTC's time, in seconds since 1970 (read once, at pm's start: clock_init). */
uint64_t realtime_base(void)
{
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
        ; /* wait while the RTC updates */
    uint8_t r[6] = {cmos(0), cmos(2), cmos(4), cmos(7), cmos(8), cmos(9)}, b = cmos(0x0b);
    if (!(b & 4)) /* BCD */
        for (int i = 0; i < 6; i++)
            r[i] = (uint8_t)((r[i] & 0x0f) + (r[i] >> 4) * 10);
    int64_t days = days_from_civil(2000 + r[5], r[4], r[3]);
    return (uint64_t)(days * 86400 + r[2] * 3600 + r[1] * 60 + r[0]);
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

/* The clocks the vDSO tells too (lib/vdso: the same page, the same answers). */
int64_t do_clock_gettime(struct mproc *mp, const uint64_t *a)
{
    switch (a[0]) {
    case 0:
    case 5:
        return put_timespec(mp, a[1], realtime_ns(), 0); /* REALTIME, REALTIME_COARSE */
    case 1:
    case 4:
    case 6:
    case 7:
        return put_timespec(mp, a[1], now_ns(), 0); /* MONOTONIC, RAW, COARSE, BOOTTIME */
    case 2:
    case 3:
        return put_timespec(mp, a[1], (a[0] == 2 ? process_cpu_ms(mp) : cpu_ms(mp)) * 1000000,
                            0); /* CPU time */
    default:
        return -LX_EINVAL;
    }
}

/* The TSC clocks read to the ns; the coarse ones claim a tick, CPU time counts ticks. */
int64_t do_clock_getres(struct mproc *mp, const uint64_t *a)
{
    if (a[0] > 7)
        return -LX_EINVAL;
    uint64_t ns = a[0] == 0 || a[0] == 1 || a[0] == 4 || a[0] == 7 ? 1 : NS_PER_TICK;
    return a[1] ? put_timespec(mp, a[1], ns, 0) : 0;
}

int64_t do_gettimeofday(struct mproc *mp, const uint64_t *a)
{
    uint64_t tz[1] = {0}; /* struct timezone: minutes west 0, no DST */
    if (a[1] && sys_vcopy(SELF, (uint64_t)tz, mp->ep, a[1], 8) < 0)
        return -LX_EFAULT;
    return a[0] ? put_timespec(mp, a[0], realtime_ns(), 1) : 0;
}

int64_t do_time(struct mproc *mp, const uint64_t *a)
{
    uint64_t t = realtime_ns() / NS_PER_S;
    if (a[0] && sys_vcopy(SELF, (uint64_t)&t, mp->ep, a[0], 8) < 0)
        return -LX_EFAULT;
    return (int64_t)t;
}

/*
 * Setting the real-time clock (Linux: CAP_SYS_TIME; here euid 0), which the
 * clock page and so every process's vDSO tell at once. A time before 1970
 * or past 2^40 s is EINVAL, as a timespec with nsec outside [0, 10^9).
 */
static int64_t set_realtime(struct mproc *mp, int64_t sec, int64_t sub, int64_t per)
{
    if (sec < 0 || sec > (1ll << 40) || sub < 0 || sub >= per)
        return -LX_EINVAL;
    if (mp->cred.euid != 0)
        return -LX_EPERM;
    clock_set_realtime(to_ns((uint64_t)sec, (uint64_t)sub, (uint64_t)per));
    return 0;
}

int64_t do_clock_settime(struct mproc *mp, const uint64_t *a)
{
    int64_t t[2];
    if (a[0] != 0) /* only CLOCK_REALTIME can be set (Linux: EINVAL for the others) */
        return -LX_EINVAL;
    if (sys_vcopy(mp->ep, a[1], SELF, (uint64_t)t, sizeof(t)) < 0)
        return -LX_EFAULT;
    return set_realtime(mp, t[0], t[1], NS_PER_S);
}

/* settimeofday(tv, tz): a time zone is not kept (only its absence is usual). */
int64_t do_settimeofday(struct mproc *mp, const uint64_t *a)
{
    int64_t t[2];
    if (!a[0])
        return mp->cred.euid != 0 ? -LX_EPERM : 0;
    if (sys_vcopy(mp->ep, a[0], SELF, (uint64_t)t, sizeof(t)) < 0)
        return -LX_EFAULT;
    return set_realtime(mp, t[0], t[1], 1000000);
}

/* Sleep until the CLOCK_MONOTONIC deadline; a signal writes the time left to rem (signal.c). */
static int64_t sleep_until(struct mproc *mp, uint64_t deadline)
{
    if (deadline <= now_ns())
        return 0;
    mp->wake_at = deadline;
    mp->wait = W_SLEEP;
    timers_arm();
    return SUSPEND;
}

/* A struct timespec from the process, in ns: 0, -EFAULT, or -EINVAL unless 0 <= nsec < 10^9. */
int64_t timespec_ns(struct mproc *mp, uint64_t uaddr, uint64_t *ns)
{
    int64_t t[2];
    if (sys_vcopy(mp->ep, uaddr, SELF, (uint64_t)t, sizeof(t)) < 0)
        return -LX_EFAULT;
    if (t[0] < 0 || t[1] < 0 || t[1] >= (int64_t)NS_PER_S)
        return -LX_EINVAL;
    *ns = to_ns((uint64_t)t[0], (uint64_t)t[1], NS_PER_S);
    return 0;
}

int64_t do_nanosleep(struct mproc *mp, const uint64_t *a)
{
    uint64_t ns;
    int64_t r = timespec_ns(mp, a[0], &ns);
    return r < 0 ? r : sleep_until(mp, deadline_after(ns));
}

/* TIMER_ABSTIME on CLOCK_REALTIME: the real time's deadline as the monotonic clock's then. */
int64_t do_clock_nanosleep(struct mproc *mp, const uint64_t *a)
{
    uint64_t ns;
    if (a[0] > 7)
        return -LX_EINVAL;
    int64_t r = timespec_ns(mp, a[2], &ns);
    if (r < 0)
        return r;
    if (a[1] & 1) { /* TIMER_ABSTIME */
        uint64_t offset = a[0] == 0 || a[0] == 5 ? realtime_ns() - now_ns() : 0;
        return sleep_until(mp, ns > offset ? ns - offset : 0);
    }
    return sleep_until(mp, deadline_after(ns));
}

/* ITIMER_REAL: value and interval in ns, as a struct itimerval in user memory. */
static uint64_t timer_left(const struct mproc *mp, uint64_t now)
{
    return mp->alarm_at > now ? mp->alarm_at - now : mp->alarm_at ? 1 : 0;
}

static int64_t itimer_out(struct mproc *mp, uint64_t uaddr)
{
    uint64_t left = (timer_left(mp, now_ns()) + 999) / 1000; /* us, at least 1 while armed */
    uint64_t iv = mp->alarm_interval / 1000;
    uint64_t v[4] = {iv / 1000000, iv % 1000000, left / 1000000, left % 1000000};
    return sys_vcopy(SELF, (uint64_t)v, mp->ep, uaddr, sizeof(v)) < 0 ? -LX_EFAULT : 0;
}

int64_t do_getitimer(struct mproc *mp, const uint64_t *a)
{
    return a[0] != 0 ? -LX_EINVAL : itimer_out(mp, a[1]);
}

/* A struct timeval pair (interval, value) as ns; -EINVAL unless 0 <= usec < 10^6, sec >= 0. */
static int64_t itimerval_ns(const int64_t v[4], uint64_t *interval, uint64_t *value)
{
    for (int i = 0; i < 4; i += 2)
        if (v[i] < 0 || v[i + 1] < 0 || v[i + 1] >= 1000000)
            return -LX_EINVAL;
    *interval = to_ns((uint64_t)v[0], (uint64_t)v[1], 1000000);
    *value = to_ns((uint64_t)v[2], (uint64_t)v[3], 1000000);
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
    if (itimerval_ns(v, &interval, &value) < 0)
        return -LX_EINVAL;
    if (a[2] && itimer_out(mp, a[2]) < 0)
        return -LX_EFAULT;
    mp->alarm_interval = interval;
    mp->alarm_at = value ? deadline_after(value) : 0;
    timers_arm();
    return 0;
}

/* alarm(unsigned int seconds): the register's upper half is not part of it. */
int64_t do_alarm(struct mproc *mp, const uint64_t *a)
{
    uint64_t now = now_ns(), secs = (uint32_t)a[0];
    int64_t left = (int64_t)((timer_left(mp, now) + NS_PER_S - 1) / NS_PER_S);
    mp->alarm_interval = 0;
    mp->alarm_at = secs ? now + secs * NS_PER_S : 0;
    timers_arm();
    return left;
}

/* Does mp wait for a deadline (wake_at)? */
static int waits_for_time(const struct mproc *mp)
{
    return mp->wait == W_SLEEP || ((mp->wait == W_SIGWAIT || mp->wait == W_FUTEX) && mp->wake_at);
}

void timers_arm(void)
{
    uint64_t next = 0, now = now_ns();
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *mp = &mprocs[i];
        if (mp->state != M_ALIVE)
            continue;
        if (mp->alarm_at && (!next || mp->alarm_at < next))
            next = mp->alarm_at;
        if (waits_for_time(mp) && (!next || mp->wake_at < next))
            next = mp->wake_at;
    }
    /* ticks to wait: rounded up, and one more for the tick under way */
    uint64_t left = next > now ? next - now : 0, wait = (left + NS_PER_TICK - 1) / NS_PER_TICK + 1;
    sys_alarm(next ? (wait < ALARM_MAX ? wait : ALARM_MAX) : 0);
}

void timers_run(void)
{
    uint64_t now = now_ns();
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *mp = &mprocs[i];
        if (mp->state != M_ALIVE)
            continue;
        if (waits_for_time(mp) && mp->wake_at <= now) {
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
    return (int64_t)(now_ns() / (NS_PER_S / 100)); /* clock ticks of 1/100 s since boot */
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
