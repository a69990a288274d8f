/*
 * The small calls: uname, sysinfo, arch_prctl (the FS base musl keeps its
 * thread pointer in), set_tid_address, resource limits, getrandom, prctl
 * names, sched_yield and the CPU affinity calls.
 */
#include "pm.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static int put(struct mproc *mp, uint64_t uaddr, const void *buf, uint64_t len)
{
    return sys_vcopy(SELF, (uint64_t)buf, mp->ep, uaddr, len) < 0 ? -LX_EFAULT : 0;
}

int64_t do_uname(struct mproc *mp, const uint64_t *a)
{
    static char u[6][65];
    static const char *const f[6] = {"Samsara",        "samsara", "0.1",
                                     "#1 multiserver", "x86_64",  "(none)"};
    for (int i = 0; i < 6; i++)
        strncpy_s(u[i], f[i], 65);
    return put(mp, a[0], u, sizeof(u));
}

int64_t do_sysinfo(struct mproc *mp, const uint64_t *a)
{
    struct sysinfo s;
    struct {
        int64_t uptime;
        uint64_t loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
        uint16_t procs, pad;
        uint32_t pad2;
        uint64_t totalhigh, freehigh;
        uint32_t mem_unit;
        char rest[4];
    } l = {0};
    if (sys_sysinfo(&s) < 0)
        return -LX_EIO;
    l.uptime = (int64_t)(now_ns() / 1000000000); /* the TSC's, as CLOCK_BOOTTIME */
    l.totalram = s.total_frames * 4096;
    l.freeram = s.free_frames * 4096;
    for (int i = 0; i < NR_MPROCS; i++)
        l.procs += mprocs[i].state != M_FREE;
    l.mem_unit = 1;
    return put(mp, a[0], &l, sizeof(l));
}

int64_t do_arch_prctl(struct mproc *mp, const uint64_t *a)
{
    struct user_regs u;
    if (sys_proc_regs(mp->ep, REGS_GET, &u) < 0)
        return -LX_EIO;
    if (a[0] == ARCH_GET_FS)
        return put(mp, a[1], &u.fs_base, 8);
    if (a[0] != ARCH_SET_FS)
        return -LX_EINVAL;
    if (a[1] >= 0x0000800000000000ull)
        return -LX_EPERM;
    u.fs_base = a[1];
    return sys_proc_regs(mp->ep, REGS_SET, &u) < 0 ? -LX_EIO : 0;
}

/* The robust-futex list only matters when threads die; there are none. */
int64_t do_set_robust_list(struct mproc *mp, const uint64_t *a)
{
    (void)mp;
    return a[1] == 24 ? 0 : -LX_EINVAL;
}

int64_t do_sched_yield(struct mproc *mp, const uint64_t *a)
{
    (void)mp, (void)a;
    return 0;
}

/*
 * CPU affinity, as Linux answers on a machine with one CPU: the mask has
 * bit 0 only, and its size is one unsigned long (Linux's cpumask_size()
 * with nr_cpu_ids 1). pid 0 is the caller, an unknown pid ESRCH.
 */
static struct mproc *affinity_target(struct mproc *mp, uint64_t pid)
{
    return pid == 0 ? mp : (int32_t)pid > 0 && pid <= INT32_MAX ? mproc_by_pid((int)pid) : 0;
}

/* Getting: a length that is not a whole number of longs, or is 0, is EINVAL; the size copied. */
int64_t do_sched_getaffinity(struct mproc *mp, const uint64_t *a)
{
    uint64_t mask = 1;
    if (a[1] < sizeof(mask) || (a[1] & (sizeof(mask) - 1)))
        return -LX_EINVAL;
    if (!affinity_target(mp, a[0]))
        return -LX_ESRCH;
    return put(mp, a[2], &mask, sizeof(mask)) < 0 ? -LX_EFAULT : (int64_t)sizeof(mask);
}

/* Setting (the first len bytes, at most a long): the mask must name CPU 0; the owner or root. */
int64_t do_sched_setaffinity(struct mproc *mp, const uint64_t *a)
{
    uint64_t mask = 0, len = a[1] < sizeof(mask) ? a[1] : sizeof(mask);
    if (len && sys_vcopy(mp->ep, a[2], SELF, (uint64_t)&mask, len) < 0)
        return -LX_EFAULT;
    struct mproc *t = affinity_target(mp, a[0]);
    if (!t)
        return -LX_ESRCH;
    if (mp->cred.euid != 0 && mp->cred.euid != t->cred.euid && mp->cred.euid != t->cred.ruid)
        return -LX_EPERM;
    return (mask & 1) ? 0 : -LX_EINVAL;
}

#define RLIMIT_DATA 2
#define RLIMIT_STACK 3
#define RLIMIT_AS 9

/* A new process's limits other than the memory ones (mem_limits_init; fork copies them). */
void limits_init(struct mproc *mp)
{
    for (int i = 0; i < RLIM_COUNT; i++)
        mp->rlim[i][0] = mp->rlim[i][1] = RLIM_INFINITY;
    mp->rlim[RLIMIT_NOFILE][0] = mp->rlim[RLIMIT_NOFILE][1] = VFS_NR_FDS;
    mp->rlim[RLIMIT_NPROC][0] = mp->rlim[RLIMIT_NPROC][1] = NR_MPROCS;
    mp->rlim[RLIMIT_CORE][0] = 0; /* no core files are written (Linux's usual soft limit) */
}

/* Where mp keeps limit res (the memory limits are mem.c's), and the highest hard limit the
 * system gives in *most. */
static uint64_t *limit_of(struct mproc *mp, int res, uint64_t lim[2], uint64_t *most)
{
    uint64_t *own = res == RLIMIT_AS      ? mp->rlim_as
                    : res == RLIMIT_DATA  ? mp->rlim_data
                    : res == RLIMIT_STACK ? mp->rlim_stack
                                          : mp->rlim[res];
    *most = res == RLIMIT_NOFILE ? VFS_NR_FDS : RLIM_INFINITY; /* vfs's table (Linux: nr_open) */
    lim[0] = own[0], lim[1] = own[1];
    return own;
}

/*
 * Get and set resource limits (of the caller only). A new soft limit may
 * not exceed the new hard one (EINVAL); a hard limit may not go above what
 * the system gives, and only root (Linux's CAP_SYS_RESOURCE) may raise its
 * own (EPERM). Every new limit is kept, across fork and exec, and getrlimit
 * reports it. The memory limits are mem.c's: RLIMIT_AS bounds the pages in
 * the process's regions, RLIMIT_DATA the private writable ones,
 * RLIMIT_STACK the stack of the next exec; RLIMIT_NOFILE bounds its
 * descriptors (vfs, told with VFS_PM_SETLIMIT), RLIMIT_NPROC the processes
 * of its real uid (fork); the others change nothing.
 */
int64_t do_prlimit64(struct mproc *mp, const uint64_t *a)
{
    uint64_t lim[2], want[2], most;
    if (a[0] && (int)a[0] != mp->pid)
        return -LX_ESRCH;
    if (a[1] >= RLIM_COUNT)
        return -LX_EINVAL;
    uint64_t *own = limit_of(mp, (int)a[1], lim, &most);
    if (a[2] && sys_vcopy(mp->ep, a[2], SELF, (uint64_t)want, sizeof(want)) < 0)
        return -LX_EFAULT;
    if (a[2] && want[0] > want[1])
        return -LX_EINVAL;
    if (a[2] && (want[1] > most || (want[1] > lim[1] && mp->cred.euid != 0)))
        return -LX_EPERM;
    if (a[3] && put(mp, a[3], lim, sizeof(lim)) < 0)
        return -LX_EFAULT;
    if (a[2] && a[1] == RLIMIT_NOFILE) { /* vfs enforces it: told first, as for the ids */
        int64_t r;
        message_t m = {.type = VFS_PM_SETLIMIT, .u.vfs_pm.setlimit = {mp->ep, (uint32_t)want[0]}};
        if (vfs_request(&m, &r) < 0 || r < 0)
            return -LX_EIO;
    }
    if (a[2])
        own[0] = want[0], own[1] = want[1];
    return 0;
}

int64_t do_getrlimit(struct mproc *mp, const uint64_t *a)
{
    uint64_t b[4] = {0, a[0], 0, a[1]};
    return do_prlimit64(mp, b);
}

int64_t do_setrlimit(struct mproc *mp, const uint64_t *a)
{
    uint64_t b[4] = {0, a[0], a[1], 0};
    return do_prlimit64(mp, b);
}

/* Not a cryptographic source: xorshift over the TSC. Good enough to seed hashes. */
int64_t do_getrandom(struct mproc *mp, const uint64_t *a)
{
    static uint64_t state;
    uint8_t buf[256];
    uint64_t len = a[1] < sizeof(buf) ? a[1] : sizeof(buf);
    state ^= sys_tsc();
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t r = rand64(&state);
        memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
    }
    return put(mp, a[0], buf, len) < 0 ? -LX_EFAULT : (int64_t)len;
}

int64_t do_prctl(struct mproc *mp, const uint64_t *a)
{
    if (a[0] == 15) { /* PR_SET_NAME */
        char name[16];
        if (sys_vcopy(mp->ep, a[1], SELF, (uint64_t)name, sizeof(name)) < 0)
            return -LX_EFAULT;
        name[15] = '\0';
        memcpy(mp->name, name, sizeof(name));
        sys_proc_name(mp->ep, mp->name);
        message_t m = {.type = VFS_PM_SETNAME, .u.vfs_pm.setname.ep = mp->ep};
        memcpy(m.u.vfs_pm.setname.name, name, sizeof(name));
        vfs_request(&m, 0); /* /proc/PID/comm, stat, status */
        return 0;
    }
    if (a[0] == 16) /* PR_GET_NAME */
        return put(mp, a[1], mp->name, sizeof(mp->name));
    return -LX_EINVAL;
}
