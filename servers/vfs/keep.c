/*
 * Descriptors kept across a vfs restart (docs/REINCARNATION.md, "Core
 * servers: vfs and pm"). The process table, the open files, the vnodes and
 * the pipes live in the state region rs keeps (`state` in vfs.conf), in two
 * sets: an instance uses one and leaves the other, its predecessor's, as it
 * found it. The header says which set is live; `busy` is 1 while a message
 * is being handled (2 while the instance starts). The undo log holds the old
 * words of the live set the request in hand stored to: a set left by an
 * instance that died in the middle of a request is read after the log is
 * undone, unless that request had changed something outside the tables
 * (keep_seal); then the new one starts fresh, as when the header is wrong.
 * The log costs a few instructions a store (the one-word case is inline in
 * vfs.h) and only the stores the new instance reads are logged: a file's or
 * vnode's count only where it reaches zero (the old set is read for whether
 * an entry is in use; the new one counts its references again), an offset
 * only where it moves.
 *
 * The new instance reads the old set when pm tells it of a process
 * (VFS_FORK_ADOPT, keep_adopt): that process's descriptors, close-on-exec
 * bits, limit, umask and working directory are rebuilt in the live set from
 * the old entries, each old file and vnode once (a file shared by fork or
 * dup stays shared, with its offset). What is kept: files and directories
 * of the mounted file servers (their endpoints do not change when vfs
 * restarts; a vnode taken over keeps the server's reference the old one
 * held), character devices, vfs's memory devices, pipes and FIFOs with their
 * data, and the advisory locks on files of the file servers (lock.c's table
 * is in the set too): an OFD or flock lock with its file, a POSIX lock with
 * its process, and the POSIX message queues with their messages (named or
 * open; mqueue.c: mq_take). Sockets, signalfds, /proc files, files
 * reached through a bind mount and locks on pipes and sockets are not: those
 * descriptors are closed (EBADF), as every descriptor is after a fresh start;
 * a process waiting to open a FIFO gets EIO.
 */
#include "vfs.h"

#define KEEP_MAGIC 0x316570654b736676ull /* "vfsKeep1" */
#define KEEP_VERSION 3                   /* 3: locks, message queues */
#define KEEP_LEN (12u * 1024 * 1024)     /* vfs.conf: state 12M */

struct keep_state {
    struct keep_header h;
    struct keep_undo undo;
    struct tables set[2];
};
_Static_assert(sizeof(struct keep_state) <= KEEP_LEN, "vfs's tables outgrow its state region");

static struct keep_state *const st = (struct keep_state *)MANIFEST_STATE_VADDR;
_Static_assert(__builtin_offsetof(struct keep_state, undo) == KEEP_UNDO_OFFSET,
               "vfs.h's KEEP_UNDO");
struct tables *tab;                        /* the live set */
static const struct tables *old;           /* the last instance's, 0 after a fresh start */
static struct file *file_map[NR_FILES];    /* old file i's new file, once taken over */
static struct vnode *vnode_map[NR_VNODES]; /* old vnode i's */
static int kept_procs;
static endpoint_t undone_caller; /* its call was rolled back whole: it may run again, any call */

static uint64_t header_check(const struct keep_header *h)
{
    uint64_t x = 0xcbf29ce484222325ull;
    const uint64_t w[3] = {h->magic, (uint64_t)h->version << 32 | h->len, h->live};
    const uint8_t *b = (const uint8_t *)w;
    for (uint64_t n = 0; n < sizeof(w); n++)
        x = (x ^ b[n]) * 0x100000001b3ull; /* FNV-1a */
    return x;
}

/*
 * The undo log of the request the last instance died in, applied to its set (last record
 * first): the number of stores undone, or -1 if a record points outside that set (nothing
 * is undone then).
 */
static int undo_apply(const struct tables *set)
{
    uint64_t n = st->undo.n, lo = (uintptr_t)set, hi = lo + sizeof(*set);
    for (uint64_t i = 0; i < n; i++)
        if (st->undo.e[i].addr < lo || st->undo.e[i].addr > hi - 8 || st->undo.e[i].addr % 8)
            return -1;
    for (uint64_t i = n; i-- > 0;)
        *(uint64_t *)st->undo.e[i].addr = st->undo.e[i].old;
    return (int)n;
}

/*
 * At start, before anything uses a table: the old set if the region's header
 * is right and its instance was between requests, or in a request whose table
 * stores it can undo (the undo log: no effect outside the tables yet), and a
 * zeroed live set.
 */
void keep_start(void)
{
    const struct keep_header *h = &st->h;
    int empty = !h->magic && !h->version && !h->len && !h->check && !h->busy;
    const char *why = empty                                           ? 0
                      : h->check != header_check(h)                   ? "header checksum"
                      : h->magic != KEEP_MAGIC                        ? "magic"
                      : h->version != KEEP_VERSION                    ? "layout version"
                      : h->len != (uint32_t)sizeof(struct keep_state) ? "length"
                      : h->live > 3                                   ? "live set"
                      : h->busy > 1 && h->live < 2                    ? " (its start)"
                      : h->busy && st->undo.n > UNDO_MAX              ? " it cannot undo"
                                                                      : 0;
    /* died starting, after taking a set over: that set again (it only read it); between
     * requests (busy 0), a sealed request was waiting for its answer: as it was */
    int starting = h->busy > 1, from = (int)(h->live & 1) ^ starting;
    int undone = why || empty || starting || st->undo.n > UNDO_MAX ? 0 : undo_apply(&st->set[from]);
    why = undone < 0 ? "undo record" : why;
    undone_caller =
        undone >= 0 && !starting && st->undo.n <= UNDO_MAX ? (endpoint_t)st->undo.caller : 0;
    uint64_t live = 0;
    if (!empty && !why) {
        old = &st->set[from];
        live = (from ? 0u : 1u) | 2u;
        printf("vfs: state region kept: descriptors of the last instance taken over as pm "
               "names its processes\n");
        if (starting)
            printf("vfs: the last instance died starting: the set it took over is taken again\n");
        else if (h->busy || undone)
            printf("vfs: the last instance died in the middle of a request: its %d table stores "
                   "undone\n",
                   undone);
    } else if (why && *why != ' ') {
        printf("vfs: state region unusable (bad %s): every descriptor is closed\n", why);
    } else if (why) {
        printf("vfs: the last instance died in the middle of a request%s: every descriptor is "
               "closed\n",
               why);
    }
    st->h.busy = 2;
    st->undo.n = st->undo.caller = 0;
    /* the arena is not cleared: its blocks are laid out as they are made (4 MiB less to touch) */
    memset(&st->set[live & 1], 0, sizeof(st->set[0]) - sizeof(st->set[0].mq_heap)); /* last */
    tab = &st->set[live & 1];
    mq_take(old); /* the queues, named or open, with their messages */
    struct keep_header want = {
        KEEP_MAGIC, KEEP_VERSION, (uint32_t)sizeof(struct keep_state), live, 0, 2};
    want.check = header_check(&want);
    st->h = want;
}

/*
 * keep_log's slow path (the fast one, inline in vfs.h, logs one word of the live set when the
 * log has room): each 8-byte word of the live set the len bytes at p touch is logged with its
 * value, undone by the next instance if this one dies before keep_commit (stores outside the set
 * are not logged). The record is written first, then counted by one 8-byte store. Full: the
 * request is sealed (not undone: a fresh start).
 */
void keep_log_words(const void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)tab, hi = lo + sizeof(*tab), a = (uintptr_t)p & ~(uintptr_t)7;
    volatile uint64_t *n = &st->undo.n;
    for (; a < (uintptr_t)p + len && a >= lo && a < hi && *n <= UNDO_MAX; a += 8) {
        if (*n == UNDO_MAX) {
            keep_seal();
            return;
        }
        st->undo.e[*n].addr = a;
        st->undo.e[*n].old = *(const uint64_t *)a;
        __asm__ volatile("" ::: "memory"); /* the record before its count */
        *n = *n + 1;
    }
}

/*
 * A Linux call the kernel ran again because the last instance died holding it (LX_AGAIN in its
 * number; kernel/linux.c): 1 if it may run again here, with LX_AGAIN taken off. Only when this
 * instance took the tables over (the dead one was between requests, so they are as before that
 * call), and only calls that change nothing outside vfs's tables: reads (a file server's read
 * again at the offset the table still has, a console or pipe read that returned nothing yet),
 * waits (poll, select, a flock: run again it takes, or waits for, the same lock) and queries.
 * The others (a write, an unlink: they may have happened; a
 * readv, whose earlier parts moved the offset) fail with EIO, as before the kernel held them.
 */
int keep_again(message_t *m)
{
    if (m->source == undone_caller && old) { /* its request was undone whole (keep_start) */
        undone_caller = 0;
        m->u.lx.nr &= ~(uint64_t)LX_AGAIN;
        return 1;
    }
    static const uint16_t safe[] = {
        LX_read,      LX_pread64,    LX_poll,     LX_ppoll,      LX_select,     LX_pselect6,
        LX_stat,      LX_fstat,      LX_lstat,    LX_newfstatat, LX_statx,      LX_access,
        LX_faccessat, LX_faccessat2, LX_readlink, LX_readlinkat, LX_getdents64, LX_getcwd,
        LX_lseek,     LX_statfs,     LX_fstatfs,  LX_flock};
    m->u.lx.nr &= ~(uint64_t)LX_AGAIN;
    for (size_t i = 0; old && i < sizeof(safe) / sizeof(safe[0]); i++)
        if (m->u.lx.nr == safe[i])
            return 1;
    return 0;
}

/* After the device map is made: the terminals' sessions and foreground groups. */
void keep_terminals(void)
{
    if (old)
        terminals_take(old->terminals);
}

/* p, a pointer read from the old set, as an index into an array of n elements at base; -1 if it
 * points elsewhere. */
static int old_index(const void *p, const void *base, size_t size, int n)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    if (!p || a < b || (a - b) % size || (a - b) / size >= (uintptr_t)n)
        return -1;
    return (int)((a - b) / size);
}

/* A new pipe with the data of ov's (a pipe's or a FIFO's), its ends counted as their files are
 * taken over; 0 if ov has none or none is free. */
static struct pipe *pipe_take(const struct vnode *ov)
{
    if (old_index(ov->pipe, old->pipes, sizeof(struct pipe), NR_PIPES) < 0 || !ov->pipe->in_use)
        return 0;
    for (int i = 0; i < NR_PIPES; i++)
        if (!tab->pipes[i].in_use) {
            tab->pipes[i] = (struct pipe){.in_use = 1, .ring = ov->pipe->ring};
            if (tab->pipes[i].ring.head >= PIPE_SIZE || tab->pipes[i].ring.count > PIPE_SIZE)
                tab->pipes[i].ring.head = tab->pipes[i].ring.count = 0;
            return &tab->pipes[i];
        }
    return 0;
}

/* The new vnode of an old one (held once more), or 0 if it is of a kind not kept. */
static struct vnode *vnode_take(const struct vnode *ov)
{
    int i = old_index(ov, old->vnodes, sizeof(*ov), NR_VNODES);
    if (i < 0 || ov->refs <= 0)
        return 0;
    if (vnode_map[i]) {
        vnode_hold(vnode_map[i]);
        return vnode_map[i];
    }
    uint64_t type = ov->mode & S_IFMT;
    struct vnode *v = 0;
    struct pipe *pp = type == S_IFIFO ? pipe_take(ov) : 0; /* a pipe's or a FIFO's, with data */
    if (type == S_IFIFO && !pp)
        return 0;
    struct mqueue *q = ov->fs == NONE && ov->mq ? mq_of_old(old, ov->mq) : 0;
    if (ov->fs == NONE && (pp || q)) {
        if ((v = vnode_get(NONE, 0, ov->mode, 0)))
            v->mq = q;
    } else if (ov->fs > 0 && mount_dev(ov->fs) && !ov->bind && !ov->sock && !ov->mq && !ov->sigfd &&
               (type == S_IFREG || type == S_IFDIR || type == S_IFCHR || type == S_IFLNK ||
                type == S_IFIFO)) {
        v = vnode_get(ov->fs, ov->ino, ov->mode, ov->rdev); /* the server's reference: ov's */
        if (v)
            v->size = ov->size;
    }
    if (pp && v)
        v->pipe = pp;
    else if (pp)
        pp->in_use = 0;
    if (v) {
        v->uid = ov->uid;
        v->gid = ov->gid;
        vnode_map[i] = v;
    }
    return v;
}

/* The new file of an old one (one reference more), or 0 if it is not kept. */
static struct file *file_take(const struct file *of)
{
    int i = old_index(of, old->files, sizeof(*of), NR_FILES);
    if (i < 0 || of->refs <= 0)
        return 0;
    if (file_map[i]) {
        file_map[i]->refs++;
        return file_map[i];
    }
    struct vnode *v = vnode_take(of->vn);
    struct file *f = v ? file_new(v, of->flags) : 0;
    if (!f) {
        vnode_put(v);
        return 0;
    }
    f->pos = of->pos;
    if (!of->dir && of->name[0] == '/') /* an absolute path: still right */
        strncpy_s(f->name, of->name, sizeof(f->name));
    if (v->pipe) {
        v->pipe->readers += (of->flags & O_ACCMODE) != O_WRONLY;
        v->pipe->writers += (of->flags & O_ACCMODE) != 0;
    }
    if (v->mq)
        v->mq->opens++;
    for (int l = 0; l < old->locks_end && l < NR_LOCKS; l++) /* its OFD and flock locks */
        if (old->locks[l].file == of)
            lock_take(&old->locks[l], f);
    file_map[i] = f;
    return f;
}

/*
 * pm names p, a process of the last instance (VFS_FORK_ADOPT): its
 * descriptors, close-on-exec bits, limit, umask and working directory from
 * the old set. 1 if p was found there, else 0 (p keeps a fresh view).
 */
int keep_adopt(struct vproc *p)
{
    if (!old)
        return 0;
    const struct vproc *op = &old->procs[EP_SLOT(p->ep)];
    if (op->ep != p->ep || op->files != op || op->pid != p->pid || op->root)
        return 0;
    int n = 0;
    for (int fd = 0; fd < NR_FDS; fd++)
        n += (p->fd[fd] = file_take(op->fd[fd])) != 0;
    p->cloexec = op->cloexec;
    for (int fd = 0; fd < NR_FDS; fd++)
        if (!p->fd[fd])
            p->cloexec &= ~(1ull << fd);
    if (op->fd_limit <= NR_FDS)
        p->fd_limit = op->fd_limit;
    p->umask = op->umask & 0777;
    if (op->cmdline_len <= sizeof(p->cmdline)) { /* for /proc, until its next exec */
        memcpy(p->cmdline, op->cmdline, sizeof(p->cmdline));
        p->cmdline_len = op->cmdline_len;
    }
    memcpy(p->exe, op->exe, sizeof(p->exe));
    p->exe[sizeof(p->exe) - 1] = '\0';
    struct vnode *cwd = vnode_take(op->cwd);
    if (cwd && (cwd->mode & S_IFMT) == S_IFDIR) {
        vnode_put(p->cwd);
        p->cwd = cwd;
    } else {
        vnode_put(cwd);
    }
    for (int l = 0; l < old->locks_end && l < NR_LOCKS; l++) /* its POSIX locks */
        if (!old->locks[l].file && old->locks[l].pid == p->pid)
            lock_take(&old->locks[l], 0);
    if (++kept_procs == 1 || p->pid == 1)
        printf("vfs: pid %d kept %d descriptors\n", p->pid, n);
    return 1;
}

/*
 * A Linux call from ep, whom pm has not named yet: if the last instance knew
 * ep as a process (not a thread, not chrooted), ep gets its view from the old
 * set now, with the ids, group, session and name the last instance had (pm's
 * adoption, a moment later, sets them again); else 0 (the call is refused).
 */
struct vproc *keep_early(endpoint_t ep)
{
    const struct vproc *op = old && ep > 0 ? &old->procs[EP_SLOT(ep)] : 0;
    if (!op || op->ep != ep || op->files != op || op->root || op->pid <= 0)
        return 0;
    struct vproc *p = vproc_new(ep);
    p->pid = op->pid;
    p->ppid = op->ppid;
    p->pgrp = op->pgrp;
    p->sid = op->sid;
    p->cred = op->cred;
    p->start_tick = op->start_tick;
    memcpy(p->comm, op->comm, sizeof(p->comm));
    p->comm[sizeof(p->comm) - 1] = '\0';
    p->cwd = root_vnode;
    vnode_hold(p->cwd);
    keep_adopt(p);
    return p;
}
