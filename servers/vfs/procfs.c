/*
 * /proc, served inside vfs: a file system reached through the same FS_*
 * requests as any other (fs_call sends requests for PROCFS_EP here, and
 * the data moves through vfs's own grants). It shows what vfs knows of
 * each process (pid, parent, group, session, command line, program path,
 * all kept up to date by pm) and asks the kernel for CPU time and memory.
 *
 *   /proc/mounts (mount.c) /proc/uptime /proc/meminfo /proc/self -> <pid>
 *   /proc/refusals   vfs's count of refused messages, by kind (refuse.c)
 *   /proc/devices    the device map, as Linux shows it (dmap.c)
 *   /proc/net/dev route tcp udp raw  from inet, in Linux's layout (netinfo.c);
 *             tcp6 udp6 raw6 unix    headers only (no IPv6; AF_UNIX not listed yet)
 *   /proc/<pid>/stat  cmdline  status  comm  exe -> program
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
    K_NET_FILE /* + the index in net_files (netinfo.c's numbering) */
};

static const struct {
    const char *name;
    int kind;
    uint64_t mode;
} root_files[] = {
    {"self", K_SELF, S_IFLNK | 0777},         {"mounts", K_MOUNTS, S_IFREG | 0444},
    {"uptime", K_UPTIME, S_IFREG | 0444},     {"meminfo", K_MEMINFO, S_IFREG | 0444},
    {"refusals", K_REFUSALS, S_IFREG | 0444}, {"devices", K_DEVICES, S_IFREG | 0444},
    {"net", K_NET, S_IFDIR | 0555},
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
    {"comm", K_COMM, S_IFREG | 0444},
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

static struct vproc *by_pid(int pid)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        if (p && p->pid == pid && p->files == p) /* a process, not one of its other threads */
            return p;
    }
    return 0;
}

/* Process p's threads (theirs use its table; its main thread counts while pm keeps it). */
static int threads_of(const struct vproc *p)
{
    int n = 0;
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *t = vproc_by_index(i);
        n += t && t->files == p;
    }
    return n;
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
        return *ino = FS_ROOT_INO, 0;
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
    return kind == K_ROOT || kind == K_PIDDIR || kind == K_NET ? -LX_ENOENT : -LX_ENOTDIR;
}

/* The text of a file (or a link's target) into text[]; its length. */
static int64_t render(uint64_t ino)
{
    int kind = (int)(ino & 0xff), pid = (int)(ino >> 8);
    struct vproc *p = pid ? by_pid(pid) : 0;
    struct sysinfo s;
    struct proc_info info = {0};
    sys_sysinfo(&s);
    if (pid && !p)
        return -LX_ENOENT;
    if (p)
        sys_proc_info(p->ep, &info);
    switch (kind) {
    case K_MOUNTS:
        return mounts_text(text, sizeof(text));
    case K_UPTIME:
        return snprintf_s(text, sizeof(text), "%lu.%02lu 0.00\n", s.ticks / 1000,
                          s.ticks % 1000 / 10);
    case K_MEMINFO:
        return snprintf_s(text, sizeof(text),
                          "MemTotal: %lu kB\nMemFree: %lu kB\nMemAvailable: %lu kB\n",
                          s.total_frames * 4, s.free_frames * 4, s.free_frames * 4);
    case K_REFUSALS:
        return refusals_text(text, sizeof(text));
    case K_DEVICES:
        return dmap_text(text, sizeof(text));
    case K_NET_FILE ... K_NET_FILE + NNET - 1:
        return net_text(kind - K_NET_FILE, text, sizeof(text));
    case K_SELF:
        return snprintf_s(text, sizeof(text), "%d", procfs_caller ? procfs_caller->pid : 0);
    case K_EXE:
        return snprintf_s(text, sizeof(text), "%s", p->exe);
    case K_COMM: /* the name: exec's, or prctl(PR_SET_NAME)'s */
        return snprintf_s(text, sizeof(text), "%s\n", p->comm);
    case K_CMDLINE:
        memcpy(text, p->cmdline, p->cmdline_len);
        return p->cmdline_len;
    case K_STAT:
        return snprintf_s(
            text, sizeof(text),
            "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 %lu 0 0 0 20 0 %d 0 %lu %lu %lu "
            "18446744073709551615 4194304 4194304 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
            p->pid, p->comm, p->wait != WAIT_NONE || info.state ? 'S' : 'R', p->ppid, p->pgrp,
            p->sid, info.ticks / 10, threads_of(p), p->start_tick / 10, info.pages * 4096,
            info.pages);
    case K_STATUS: {
        const struct cred *c = &p->cred;
        int64_t n =
            snprintf_s(text, sizeof(text),
                       "Name:\t%s\nState:\t%c\nPid:\t%d\nPPid:\t%d\nUid:\t%u\t%u\t%u\t%u\n"
                       "Gid:\t%u\t%u\t%u\t%u\nGroups:\t",
                       p->comm, p->wait != WAIT_NONE || info.state ? 'S' : 'R', p->pid, p->ppid,
                       c->ruid, c->euid, c->suid, c->fsuid, c->rgid, c->egid, c->sgid, c->fsgid);
        for (uint32_t i = 0; i < c->ngroups && i < CRED_NGROUPS; i++)
            n += snprintf_s(text + n, sizeof(text) - (uint64_t)n, "%u ", c->groups[i]);
        return n + snprintf_s(text + n, sizeof(text) - (uint64_t)n,
                              "\nVmRSS:\t%lu kB\nThreads:\t%d\n", info.pages * 4, threads_of(p));
    }
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
            ino = c ? FS_ROOT_INO : dir;
            type = 4;
        } else if (kind == K_NET) {
            if (c - 2 >= NNET)
                break;
            strncpy_s(name, net_files[c - 2], sizeof(name));
            ino = ino_of(0, K_NET_FILE + (int)(c - 2));
        } else if (kind == K_PIDDIR) {
            if (c - 2 >= NPID)
                break;
            strncpy_s(name, pid_files[c - 2].name, sizeof(name));
            ino = ino_of(pid, pid_files[c - 2].kind);
            type = (pid_files[c - 2].mode & S_IFMT) == S_IFLNK ? 10 : 8;
        } else if (c - 2 < NROOT) {
            strncpy_s(name, root_files[c - 2].name, sizeof(name));
            ino = ino_of(0, root_files[c - 2].kind);
            uint64_t fmt = root_files[c - 2].mode & S_IFMT;
            type = fmt == S_IFLNK ? 10 : fmt == S_IFDIR ? 4 : 8;
        } else {
            uint64_t slot = c - 2 - NROOT;
            if (slot >= NR_SLOTS)
                break;
            struct vproc *p = vproc_by_index((int)slot);
            if (!p || p->files != p) /* threads have no directory of their own */
                continue;
            snprintf_s(name, sizeof(name), "%d", p->pid);
            ino = ino_of(p->pid, K_PIDDIR);
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
        int64_t n = (st.mode & S_IFMT) == S_IFDIR ? 0 : render(ino);
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
