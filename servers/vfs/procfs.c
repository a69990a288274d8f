/*
 * /proc, served inside vfs: a file system reached through the same FS_*
 * requests as any other (fs_call sends requests for PROCFS_EP here, and
 * the data moves through vfs's own grants). It shows what vfs knows of
 * each process (pid, parent, group, session, command line, program path,
 * all kept up to date by pm) and asks the kernel for CPU time and memory.
 *
 *   /proc/mounts (mount.c) /proc/uptime /proc/meminfo /proc/self -> <pid>
 *   /proc/stat /proc/loadavg  for top: CPU time of the Linux processes (their sum is
 *             "user", the rest of the uptime "idle"), process counts; no load averages
 *   /proc/refusals   vfs's count of refused messages, by kind (refuse.c)
 *   /proc/namecache  the name cache's size and counters (namecache.c; Samsara's own)
 *   /proc/devices    the device map, as Linux shows it (dmap.c)
 *   /proc/net/dev route tcp udp raw  from inet, in Linux's layout (netinfo.c);
 *             tcp6 udp6 raw6 unix    headers only (no IPv6; AF_UNIX not listed yet)
 *   /proc/<pid>/stat  cmdline  status  comm  maps  exe -> program  cwd  root
 *   /proc/<pid>/fd/N  -> what descriptor N names (the path it was opened by,
 *             pipe:[ino], socket:[ino]); the fd folder is its owner's only (0500)
 *
 * stat, status and maps need pm's part (the state pm sees, the memory and
 * its regions): procinfo.c asks pm for it, the read waiting meanwhile.
 *
 * ino = pid << 8 | kind; the root is FS_ROOT_INO. A process's entries
 * belong to its effective uid and gid (as Linux's do), the rest to root.
 */
#include "socket.h"

enum {
    K_ROOT = 1,
    K_PIDDIR,
    K_STAT,
    K_CMDLINE,
    K_STATUS,
    K_EXE,
    K_COMM,
    K_MOUNTS,
    K_UPTIME,
    K_MEMINFO,
    K_SELF,
    K_REFUSALS,
    K_DEVICES,
    K_NET,
    K_MAPS,
    K_FD,
    K_STATS, /* /proc/stat */
    K_LOADAVG,
    K_CWD,
    K_ROOTLINK,
    K_NAMECACHE,
    K_NET_FILE,     /* + the index in net_files (netinfo.c's numbering) */
    K_FD_LINK = 128 /* + the descriptor (below NR_FDS) */
};
_Static_assert(K_FD_LINK + NR_FDS <= 256, "a kind fits the inode's low byte");

static const struct {
    const char *name;
    int kind;
    uint64_t mode;
} root_files[] = {
    {"self", K_SELF, S_IFLNK | 0777},         {"mounts", K_MOUNTS, S_IFREG | 0444},
    {"uptime", K_UPTIME, S_IFREG | 0444},     {"meminfo", K_MEMINFO, S_IFREG | 0444},
    {"refusals", K_REFUSALS, S_IFREG | 0444}, {"devices", K_DEVICES, S_IFREG | 0444},
    {"net", K_NET, S_IFDIR | 0555},           {"stat", K_STATS, S_IFREG | 0444},
    {"loadavg", K_LOADAVG, S_IFREG | 0444},   {"namecache", K_NAMECACHE, S_IFREG | 0444},
};
static const char *const net_files[] = {"dev",  "route", "tcp",  "udp", "raw",
                                        "tcp6", "udp6",  "raw6", "unix"};
static const struct {
    const char *name;
    int kind;
    uint64_t mode;
} pid_files[] = {
    {"stat", K_STAT, S_IFREG | 0444},     {"cmdline", K_CMDLINE, S_IFREG | 0444},
    {"status", K_STATUS, S_IFREG | 0444}, {"exe", K_EXE, S_IFLNK | 0777},
    {"comm", K_COMM, S_IFREG | 0444},     {"maps", K_MAPS, S_IFREG | 0444},
    {"fd", K_FD, S_IFDIR | 0500},         {"cwd", K_CWD, S_IFLNK | 0777},
    {"root", K_ROOTLINK, S_IFLNK | 0777},
};
#define NROOT (sizeof(root_files) / sizeof(root_files[0]))
#define NPID (sizeof(pid_files) / sizeof(pid_files[0]))
#define NNET (sizeof(net_files) / sizeof(net_files[0]))

struct vproc *procfs_caller; /* the process whose call vfs is serving */
static char text[32768];     /* /proc/net/tcp: about 110 bytes a connection */

static uint64_t ino_of(int pid, int kind)
{
    return ((uint64_t)pid << 8) | (uint64_t)kind;
}

/* What /proc shows of a zombie: from its exit (VFS_PM_EXIT) until pm reaps it (VFS_PM_RELEASE). */
static struct dead {
    int pid, ppid, pgrp, sid; /* pid 0: a free entry */
    uint64_t start_tick;
    struct cred cred;
    char comm[16];
} dead[NR_SLOTS];

void procfs_died(const struct vproc *p)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if (!dead[i].pid) {
            dead[i] = (struct dead){.pid = p->pid,
                                    .ppid = p->ppid,
                                    .pgrp = p->pgrp,
                                    .sid = p->sid,
                                    .start_tick = p->start_tick,
                                    .cred = p->cred};
            memcpy(dead[i].comm, p->comm, sizeof(dead[i].comm));
            return;
        }
}

void procfs_reaped(int pid)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if ((dead[i].pid == pid || pid < 0) && pid)
            dead[i].pid = 0;
}

/* The process pid, live or a zombie (a view of it with no endpoint, descriptors or paths). */
static struct vproc *by_pid(int pid)
{
    static struct vproc zombie;
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        if (p && p->pid == pid && p->files == p) /* a process, not one of its other threads */
            return p;
    }
    for (int i = 0; i < NR_SLOTS; i++)
        if (dead[i].pid == pid && pid > 0) {
            const struct dead *d = &dead[i];
            memset(&zombie, 0, sizeof(zombie));
            zombie.files = &zombie; /* its own (empty) table */
            zombie.pid = d->pid, zombie.ppid = d->ppid, zombie.pgrp = d->pgrp, zombie.sid = d->sid;
            zombie.start_tick = d->start_tick;
            zombie.cred = d->cred;
            memcpy(zombie.comm, d->comm, sizeof(zombie.comm));
            return &zombie;
        }
    return 0;
}

/* The owner of an inode: for /proc/<pid>/..., that process's effective ids. */
static void owner_of(uint64_t ino, uint64_t *uid, uint64_t *gid)
{
    struct vproc *p = (ino >> 8) ? by_pid((int)(ino >> 8)) : 0;
    *uid = p ? p->cred.euid : 0;
    *gid = p ? p->cred.egid : 0;
}

static uint64_t mode_of(int kind)
{
    if (kind == K_ROOT || kind == K_PIDDIR)
        return S_IFDIR | 0555;
    if (kind >= K_NET_FILE && kind < K_NET_FILE + (int)NNET)
        return S_IFREG | 0444;
    if (kind >= K_FD_LINK && kind < K_FD_LINK + NR_FDS)
        return S_IFLNK | 0700;
    for (size_t i = 0; i < NROOT; i++)
        if (root_files[i].kind == kind)
            return root_files[i].mode;
    for (size_t i = 0; i < NPID; i++)
        if (pid_files[i].kind == kind)
            return pid_files[i].mode;
    return 0;
}

static int64_t lookup(uint64_t dir, const char *name, uint64_t *ino)
{
    int kind = (int)(dir & 0xff), pid = (int)(dir >> 8);
    if (!strcmp(name, "."))
        return *ino = dir, 0;
    if (!strcmp(name, ".."))
        return *ino = kind == K_FD ? ino_of(pid, K_PIDDIR) : FS_ROOT_INO, 0;
    if (kind == K_ROOT) {
        for (size_t i = 0; i < NROOT; i++)
            if (!strcmp(name, root_files[i].name))
                return *ino = ino_of(0, root_files[i].kind), 0;
        int n = 0;
        for (const char *c = name; *c; c++) {
            if (*c < '0' || *c > '9' || n > 10000000)
                return -LX_ENOENT;
            n = n * 10 + (*c - '0');
        }
        return by_pid(n) ? (*ino = ino_of(n, K_PIDDIR), 0) : -LX_ENOENT;
    }
    if (kind == K_PIDDIR)
        for (size_t i = 0; i < NPID; i++)
            if (!strcmp(name, pid_files[i].name))
                return *ino = ino_of(pid, pid_files[i].kind), 0;
    if (kind == K_NET)
        for (size_t i = 0; i < NNET; i++)
            if (!strcmp(name, net_files[i]))
                return *ino = ino_of(0, K_NET_FILE + (int)i), 0;
    if (kind == K_FD) {
        struct vproc *p = by_pid(pid);
        int fd = 0;
        for (const char *c = name; *c && fd < NR_FDS; c++)
            fd = *c >= '0' && *c <= '9' ? fd * 10 + (*c - '0') : NR_FDS;
        if (!p || !name[0] || fd >= NR_FDS || (name[0] == '0' && name[1]) || !p->files->fd[fd])
            return -LX_ENOENT;
        return *ino = ino_of(pid, K_FD_LINK + fd), 0;
    }
    return kind == K_ROOT || kind == K_PIDDIR || kind == K_NET || kind == K_FD ? -LX_ENOENT
                                                                               : -LX_ENOTDIR;
}

/* ---- the files' text */

#define TICKS_PER_CLOCK 10 /* vfs's ticks are ms; Linux's clock ticks (USER_HZ) are 1/100 s */

static char state_of(const struct vproc *p, const struct proc_info *info, const struct pm_part *a)
{
    char pm = a->info.state;
    if (pm == 'Z' || pm == 'T' || pm == 'S')
        return pm;
    if (p == procfs_caller)
        return 'R'; /* it is reading this: running, as Linux shows itself */
    return p->wait != WAIT_NONE && p->wait != WAIT_PROCINFO ? 'S' : info->state ? 'S' : 'R';
}

static const char *state_name(char c)
{
    return c == 'R'   ? "R (running)"
           : c == 'Z' ? "Z (zombie)"
           : c == 'T' ? "T (stopped)"
                      : "S (sleeping)";
}

/* /proc/PID/stat: Linux's 52 fields (proc(5)); what Samsara does not keep is 0. */
static int64_t stat_text(const struct vproc *p, const struct proc_info *info,
                         const struct pm_part *a)
{
    const struct pm_procinfo *m = &a->info;
    int tpgid;
    uint64_t tty = terminal_of(p->sid, &tpgid);
    uint64_t code_start = 0, code_end = 0, stack_start = 0, data_start = 0, data_end = 0;
    for (uint64_t i = 0; i < a->nregions; i++) {
        const struct pm_procinfo_region *r = &m->region[i];
        if (r->kind == PM_REGION_IMAGE && (r->prot & 4) && !code_start)
            code_start = r->start, code_end = r->end;
        if (r->kind == PM_REGION_IMAGE && (r->prot & 2))
            data_start = data_start ? data_start : r->start, data_end = r->end;
        if (r->kind == PM_REGION_STACK)
            stack_start = r->end;
    }
    return snprintf_s(
        text, sizeof(text),
        "%d (%s) %c %d %d %d %lu %d 4194304 0 0 0 0 %lu 0 0 0 20 0 %u 0 %lu %lu %lu "
        "18446744073709551615 %lu %lu %lu 0 0 %lu %lu %lu %lu 0 0 0 17 0 0 0 0 0 0 %lu %lu %lu "
        "0 0 0 0 0\n",
        p->pid, p->comm, state_of(p, info, a), p->ppid, p->pgrp, p->sid, tty, tpgid,
        info->ticks / TICKS_PER_CLOCK, m->threads ? m->threads : 1, p->start_tick / TICKS_PER_CLOCK,
        m->vm_pages * 4096, info->pages, code_start, code_end, stack_start, m->sig_pending,
        m->sig_blocked, m->sig_ignored, m->sig_caught, data_start, data_end, m->brk_start);
}

/* /proc/PID/status, in Linux's order, with the fields Samsara keeps. */
static int64_t status_text(const struct vproc *p, const struct proc_info *info,
                           const struct pm_part *a)
{
    const struct pm_procinfo *m = &a->info;
    const struct cred *c = &p->cred;
    int64_t n = snprintf_s(
        text, sizeof(text),
        "Name:\t%s\nUmask:\t0%u%u%u\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
        "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%u\nGroups:\t",
        p->comm, (p->files->umask >> 6) & 7, (p->files->umask >> 3) & 7, p->files->umask & 7,
        state_name(state_of(p, info, a)), p->pid, p->pid, p->ppid, c->ruid, c->euid, c->suid,
        c->fsuid, c->rgid, c->egid, c->sgid, c->fsgid, NR_FDS);
    for (uint32_t i = 0; i < c->ngroups && i < CRED_NGROUPS; i++)
        n += snprintf_s(text + n, sizeof(text) - (uint64_t)n, i ? " %u" : "%u", c->groups[i]);
    return n + snprintf_s(text + n, sizeof(text) - (uint64_t)n,
                          " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nVmPeak:\t%8lu kB\n"
                          "VmSize:\t%8lu kB\nVmLck:\t%8u kB\nVmPin:\t%8u kB\nVmHWM:\t%8lu kB\n"
                          "VmRSS:\t%8lu kB\nVmData:\t%8lu kB\nVmStk:\t%8lu kB\nVmExe:\t%8lu kB\n"
                          "VmLib:\t%8u kB\nVmPTE:\t%8u kB\nVmSwap:\t%8u kB\nThreads:\t%u\n"
                          "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\nSigIgn:\t%016lx\n"
                          "SigCgt:\t%016lx\n",
                          p->pid, p->pid, p->pgrp, p->sid, m->vm_pages * 4, m->vm_pages * 4, 0, 0,
                          info->pages * 4, info->pages * 4, m->data_pages * 4, m->stack_pages * 4,
                          m->image_pages * 4, 0, 0, 0, m->threads ? m->threads : 1, m->sig_pending,
                          0ul, m->sig_blocked, m->sig_ignored, m->sig_caught);
}

/* /proc/PID/maps: a line a region, as Linux prints them (the name from column 74). */
static int64_t maps_text(const struct vproc *p, const struct pm_part *a)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < a->nregions; i++) {
        const struct pm_procinfo_region *r = &a->info.region[i];
        const char *name = r->ino                       ? map_name(r->dev, r->ino)
                           : r->kind == PM_REGION_HEAP  ? "[heap]"
                           : r->kind == PM_REGION_STACK ? "[stack]"
                           : r->kind == PM_REGION_IMAGE ? p->exe
                                                        : "";
        int line =
            snprintf_s(text + n, sizeof(text) - n, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
                       r->start, r->end, r->prot & 1 ? 'r' : '-', r->prot & 2 ? 'w' : '-',
                       r->prot & 4 ? 'x' : '-', r->kind == PM_REGION_SHARED ? 's' : 'p', r->off,
                       DEV_MAJOR(r->dev), DEV_MINOR(r->dev), r->ino);
        if (n + (uint64_t)line + 1 >= sizeof(text))
            break; /* full: the rest is not shown */
        for (; name[0] && line < 73 && n + (uint64_t)line < sizeof(text); line++)
            text[n + (uint64_t)line] = ' '; /* Linux pads the name to column 74 */
        if (name[0])
            line += snprintf_s(text + n + (uint64_t)line, sizeof(text) - n - (uint64_t)line, "%s",
                               name);
        if (n + (uint64_t)line + 1 >= sizeof(text))
            break; /* full: the rest is not shown */
        n += (uint64_t)line;
        text[n++] = '\n';
    }
    return (int64_t)n;
}

/* The path of directory dir, from the file system's root. */
static int64_t dir_text(struct vnode *dir)
{
    const char *path;
    int64_t n = dir_path(dir, 0, &path);
    return n < 0 ? n : snprintf_s(text, sizeof(text), "%s", path);
}

/* What descriptor fd of p names: the path it was opened by, pipe:[ino], socket:[ino]. */
static int64_t fd_text(struct vproc *p, int fd)
{
    struct file *f = fd_file(p, fd);
    if (!f)
        return -LX_ENOENT;
    uint64_t type = f->vn->mode & S_IFMT;
    if (type == S_IFIFO && f->vn->fs == NONE)
        return snprintf_s(text, sizeof(text), "pipe:[%lu]", f->vn->ino);
    if (type == S_IFSOCK)
        return snprintf_s(text, sizeof(text), "socket:[%lu]", f->vn->ino);
    if (!f->name[0] && type == S_IFDIR)
        return dir_text(f->vn);
    if (!f->name[0])
        return snprintf_s(text, sizeof(text), "anon_inode:[%lu]", f->vn->ino);
    int64_t n = f->dir ? dir_text(f->dir) : 0;
    if (n < 0)
        return n;
    return n + snprintf_s(text + n, sizeof(text) - (uint64_t)n, "%s%s", n > 1 ? "/" : "", f->name);
}

/* /proc/stat and /proc/loadavg: the Linux processes' CPU time (the rest of the uptime counts
 * as idle), how many there are and how many run (the reader), the newest pid. */
static int64_t system_text(int kind, const struct sysinfo *s)
{
    uint64_t busy = 0, idle, uptime = s->ticks / TICKS_PER_CLOCK;
    int procs = 0, newest = 0;
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        struct proc_info info = {0};
        if (!p)
            continue;
        procs++;
        newest = p->pid > newest ? p->pid : newest;
        if (kind == K_STATS && sys_proc_info(p->ep, &info) == 0)
            busy += info.ticks / TICKS_PER_CLOCK;
    }
    if (kind == K_LOADAVG)
        return snprintf_s(text, sizeof(text), "0.00 0.00 0.00 1/%d %d\n", procs, newest);
    idle = uptime > busy ? uptime - busy : 0;
    return snprintf_s(text, sizeof(text),
                      "cpu  %lu 0 0 %lu 0 0 0 0 0 0\ncpu0 %lu 0 0 %lu 0 0 0 0 0 0\nintr 0\nctxt 0\n"
                      "processes %d\nprocs_running 1\nprocs_blocked 0\n",
                      busy, idle, busy, idle, newest); /* forks since boot: the newest pid */
}

/* The text of a file (or a link's target) into text[]; its length. */
static int64_t render(uint64_t ino)
{
    int kind = (int)(ino & 0xff), pid = (int)(ino >> 8);
    struct vproc *p = pid ? by_pid(pid) : 0;
    struct sysinfo s;
    struct proc_info info = {0};
    const struct pm_part *a = 0;
    sys_sysinfo(&s);
    if (pid && !p)
        return -LX_ENOENT;
    if (p)
        sys_proc_info(p->ep, &info);
    if (p && (kind == K_STAT || kind == K_STATUS || kind == K_MAPS)) {
        int64_t r = pm_part(pid, &a);
        if (r < 0)
            return r;
    }
    switch (kind) {
    case K_MOUNTS:
        return mounts_text(text, sizeof(text));
    case K_STATS:
    case K_LOADAVG:
        return system_text(kind, &s);
    case K_UPTIME:
        return snprintf_s(text, sizeof(text), "%lu.%02lu 0.00\n", s.ticks / 1000,
                          s.ticks % 1000 / 10);
    case K_MEMINFO:
        return snprintf_s(text, sizeof(text),
                          "MemTotal: %lu kB\nMemFree: %lu kB\nMemAvailable: %lu kB\n",
                          s.total_frames * 4, s.free_frames * 4, s.free_frames * 4);
    case K_REFUSALS:
        return refusals_text(text, sizeof(text));
    case K_NAMECACHE:
        return namecache_text(text, sizeof(text));
    case K_DEVICES:
        return dmap_text(text, sizeof(text));
    case K_NET_FILE ... K_NET_FILE + NNET - 1:
        return net_text(kind - K_NET_FILE, text, sizeof(text));
    case K_SELF:
        return snprintf_s(text, sizeof(text), "%d", procfs_caller ? procfs_caller->pid : 0);
    case K_EXE:
        return p->ep ? snprintf_s(text, sizeof(text), "%s", p->exe) : -LX_ENOENT;
    case K_COMM: /* the name: exec's, or prctl(PR_SET_NAME)'s */
        return snprintf_s(text, sizeof(text), "%s\n", p->comm);
    case K_CMDLINE:
        memcpy(text, p->cmdline, p->cmdline_len);
        return p->cmdline_len;
    case K_STAT:
        return stat_text(p, &info, a);
    case K_STATUS:
        return status_text(p, &info, a);
    case K_MAPS:
        return maps_text(p, a);
    case K_CWD:
        return p->ep ? dir_text(p->files->cwd) : -LX_ENOENT; /* a zombie has none */
    case K_ROOTLINK:
        return !p->ep           ? -LX_ENOENT
               : p->files->root ? dir_text(p->files->root)
                                : snprintf_s(text, sizeof(text), "/");
    case K_FD_LINK ... K_FD_LINK + NR_FDS - 1:
        return fd_text(p, kind - K_FD_LINK);
    default:
        return -LX_EISDIR;
    }
}

/* One linux_dirent64 record at buf+at if it fits; its length, or 0. */
static uint64_t dirent(uint8_t *buf, uint64_t at, uint64_t len, uint64_t ino, uint64_t next,
                       uint8_t type, const char *name)
{
    uint64_t n = strlen(name), rec = (19 + n + 1 + 7) & ~7ull;
    if (at + rec > len)
        return 0;
    memset(buf + at, 0, rec);
    memcpy(buf + at, &ino, 8);
    memcpy(buf + at + 8, &next, 8);
    buf[at + 16] = (uint8_t)rec;
    buf[at + 17] = (uint8_t)(rec >> 8);
    buf[at + 18] = type;
    memcpy(buf + at + 19, name, n);
    return rec;
}

static int64_t getdents(uint64_t dir, uint64_t *cookie, uint8_t *buf, uint64_t len)
{
    int kind = (int)(dir & 0xff), pid = (int)(dir >> 8);
    uint64_t at = 0;
    for (;; (*cookie)++) {
        char name[24];
        uint64_t ino;
        uint8_t type = 8; /* DT_REG */
        uint64_t c = *cookie;
        if (c < 2) {
            strncpy_s(name, c ? ".." : ".", sizeof(name));
            ino = c ? (kind == K_FD ? ino_of(pid, K_PIDDIR) : FS_ROOT_INO) : dir;
            type = 4;
        } else if (kind == K_NET) {
            if (c - 2 >= NNET)
                break;
            strncpy_s(name, net_files[c - 2], sizeof(name));
            ino = ino_of(0, K_NET_FILE + (int)(c - 2));
        } else if (kind == K_FD) {
            struct vproc *p = by_pid(pid);
            if (!p || c - 2 >= NR_FDS)
                break;
            if (!p->files->fd[c - 2])
                continue;
            snprintf_s(name, sizeof(name), "%lu", c - 2);
            ino = ino_of(pid, K_FD_LINK + (int)(c - 2));
            type = 10;
        } else if (kind == K_PIDDIR) {
            if (c - 2 >= NPID)
                break;
            strncpy_s(name, pid_files[c - 2].name, sizeof(name));
            ino = ino_of(pid, pid_files[c - 2].kind);
            uint64_t fmt = pid_files[c - 2].mode & S_IFMT;
            type = fmt == S_IFLNK ? 10 : fmt == S_IFDIR ? 4 : 8;
        } else if (c - 2 < NROOT) {
            strncpy_s(name, root_files[c - 2].name, sizeof(name));
            ino = ino_of(0, root_files[c - 2].kind);
            uint64_t fmt = root_files[c - 2].mode & S_IFMT;
            type = fmt == S_IFLNK ? 10 : fmt == S_IFDIR ? 4 : 8;
        } else { /* the live processes by slot, then the zombies */
            uint64_t slot = c - 2 - NROOT;
            if (slot >= 2 * NR_SLOTS)
                break;
            struct vproc *p = slot < NR_SLOTS ? vproc_by_index((int)slot) : 0;
            if (p && p->files != p) /* threads have no directory of their own */
                continue;
            int pid = p ? p->pid : slot >= NR_SLOTS ? dead[slot - NR_SLOTS].pid : 0;
            if (!pid)
                continue;
            snprintf_s(name, sizeof(name), "%d", pid);
            ino = ino_of(pid, K_PIDDIR);
            type = 4;
        }
        uint64_t rec = dirent(buf, at, len, ino, c + 1, type, name);
        if (!rec)
            return at ? (int64_t)at : -LX_EINVAL;
        at += rec;
    }
    return (int64_t)at;
}

/* The memory behind one of vfs's own grants, if it holds at least need bytes. */
static uint8_t *granted(uint64_t grant, uint64_t need, uint64_t *len)
{
    uint8_t *mem = grant > 0x7fffffff ? 0 : grant_memory((grant_id_t)grant, len);
    return mem && *len >= need ? mem : 0;
}

/* Text of ino (a file or a symlink) from offset on: at most want bytes into the grant. */
static int64_t read_text(uint64_t ino, uint64_t off, uint64_t grant, uint64_t want)
{
    uint64_t glen;
    int64_t n = render(ino);
    uint8_t *mem = granted(grant, 0, &glen);
    if (n < 0 || !mem)
        return n < 0 ? n : -LX_EINVAL;
    if (off >= (uint64_t)n)
        return 0;
    uint64_t k = (uint64_t)n - off < want ? (uint64_t)n - off : want;
    k = k < glen ? k : glen;
    memcpy(mem, text + off, k);
    return (int64_t)k;
}

int64_t procfs_request(message_t *m)
{
    uint64_t glen = 0;
    uint8_t *mem;
    switch (m->type) {
    case FS_LOOKUP: {
        const struct msg_fs_name *q = &m->u.fs.lookup;
        char name[FS_NAME_MAX + 1];
        if (q->name_len > FS_NAME_MAX || !(mem = granted(q->name_grant, q->name_len, &glen)))
            return -LX_EINVAL;
        memcpy(name, mem, q->name_len);
        name[q->name_len] = '\0';
        uint64_t found = 0;
        int64_t r = lookup(q->dir, name, &found);
        struct msg_fs_node_reply *n = &m->u.fs.node;
        *n = (struct msg_fs_node_reply){.ino = found, .mode = mode_of((int)(found & 0xff))};
        owner_of(found, &n->uid, &n->gid);
        return r;
    }
    case FS_STAT: {
        uint64_t ino = m->u.fs.stat.ino;
        struct fs_stat st = {.ino = ino, .mode = mode_of((int)(ino & 0xff)), .nlink = 1};
        owner_of(ino, &st.uid, &st.gid);
        int64_t n = (st.mode & S_IFMT) == S_IFLNK ? render(ino) : 0; /* files: size 0 */
        if (n == SUSPEND)
            return SUSPEND;
        st.size = n > 0 && (st.mode & S_IFMT) == S_IFLNK ? (uint64_t)n : 0;
        if (!(mem = granted(m->u.fs.stat.grant, sizeof(st), &glen)))
            return -LX_EINVAL;
        memcpy(mem, &st, sizeof(st));
        return 0;
    }
    case FS_READ:
        return read_text(m->u.fs.read.ino, m->u.fs.read.offset, m->u.fs.read.grant,
                         m->u.fs.read.len);
    case FS_READLINK:
        return read_text(m->u.fs.readlink.ino, 0, m->u.fs.readlink.grant, m->u.fs.readlink.len);
    case FS_GETDENTS: {
        const struct msg_fs_getdents *q = &m->u.fs.getdents;
        uint64_t cookie = q->cookie;
        if (!(mem = granted(q->grant, 0, &glen)))
            return -LX_EINVAL;
        int64_t r = getdents(q->ino, &cookie, mem, q->len < glen ? q->len : glen);
        m->u.fs.dents.cookie = cookie;
        return r;
    }
    case FS_PUTNODE:
        return 0;
    case FS_STATFS:
        return -LX_ENOSYS;
    default:
        return -LX_EACCES; /* nothing here can be created, changed or removed */
    }
}
