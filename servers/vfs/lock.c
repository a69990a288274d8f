/*
 * Advisory file locks, as Linux keeps them: fcntl's record locks
 * (F_GETLK, F_SETLK, F_SETLKW and the open-file-description forms
 * F_OFD_*) and flock(2)'s whole-file locks, in one table inside vfs.
 *
 * A lock is on a file, named by (server, inode) so that the same file
 * reached through two mounts (a bind mount) is one file; a pipe or socket
 * is named by its vnode. Its owner is a process (a POSIX record lock:
 * pid), or an open file description (an OFD record lock or a flock lock:
 * the struct file, shared by dup and fork). Record locks of both kinds
 * conflict with each other; flock locks only with flock locks (Linux keeps
 * two lists). An owner's record locks on a file never overlap: a new one
 * replaces what it covers, splitting or trimming the owner's others, and
 * joins those of its type that it touches.
 *
 * A process's POSIX locks on a file go when it closes any descriptor of
 * the file (fd_close), so also at exec (close-on-exec) and exit; a fork's
 * child holds none. OFD and flock locks go when their file description's
 * last descriptor is closed (file_put), or by an explicit unlock.
 *
 * A request that must wait (F_SETLKW, flock without LOCK_NB) suspends the
 * caller (WAIT_LOCK) and runs again whenever a lock goes (wakeup_pipes);
 * vfs itself never waits. A signal ends the wait with EINTR (cancel_call),
 * restarted under SA_RESTART as Linux. F_SETLKW of a POSIX lock whose
 * holder waits, through at most LOCK_CHAIN_MAX waiting holders, for a
 * lock of the caller's fails with EDEADLK (Linux's posix_locks_deadlock).
 */
#include "vfs.h"

#define LOCK_CHAIN_MAX 10    /* Linux's MAX_DEADLK_ITERATIONS */
#define OFFSET_MAX INT64_MAX /* a lock "to the end of the file" ends here */

/* fcntl commands and lock types (Linux values) */
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8

/* struct flock as x86-64 Linux lays it out (32 bytes) */
struct flock_l {
    int16_t type, whence;
    int32_t pad0;
    int64_t start, len;
    int32_t pid, pad1;
};

/* The table is in the state region (keep.c), every store to it logged first (lock_store).
 * Every lock in use is below tab->locks_end (lock_slot, which makes every lock, raises it; a close
 * lowers it past the free entries at the end): the scans, one at every close, stop there, and
 * with no lock in the system they cost nothing. */

/* Before a store to l: its old words in the undo log (keep.c). */
static struct lock *lock_store(struct lock *l)
{
    keep_log(l, sizeof(*l));
    return l;
}
static int waiters_for[NR_SLOTS]; /* WAIT_LOCK on a POSIX lock: the pid holding it, else 0 */

static void lock_key(const struct vnode *v, endpoint_t *fs, uint64_t *ino)
{
    *fs = v->fs;
    *ino = v->fs == NONE ? (uint64_t)(uintptr_t)v : v->ino;
}

static int same_owner(const struct lock *a, const struct lock *b)
{
    return a->pid == b->pid && a->file == b->file;
}

static int on_file(const struct lock *l, const struct lock *req)
{
    return l->in_use && l->fs == req->fs && l->ino == req->ino && l->flock == req->flock;
}

/* Does l, another owner's lock, keep req from being taken? */
static int conflicts(const struct lock *l, const struct lock *req)
{
    return on_file(l, req) && !same_owner(l, req) && l->start <= req->end && req->start <= l->end &&
           (l->type == F_WRLCK || req->type == F_WRLCK);
}

static struct lock *first_conflict(const struct lock *req)
{
    for (int i = 0; i < tab->locks_end; i++)
        if (conflicts(&tab->locks[i], req))
            return &tab->locks[i];
    return 0;
}

static struct lock *lock_slot(void)
{
    for (int i = 0; i < NR_LOCKS; i++)
        if (!tab->locks[i].in_use) {
            keep_log(&tab->locks_end, sizeof(tab->locks_end));
            tab->locks_end = i + 1 > tab->locks_end ? i + 1 : tab->locks_end;
            return lock_store(&tab->locks[i]);
        }
    return 0;
}

static int free_slots(void)
{
    int n = 0;
    for (int i = 0; i < NR_LOCKS; i++)
        n += !tab->locks[i].in_use;
    return n;
}

/* Locks went: the waiting requests try again once this message is done. */
static void locks_released(void)
{
    keep_log(&tab->locks_end, sizeof(tab->locks_end));
    while (tab->locks_end > 0 && !tab->locks[tab->locks_end - 1].in_use)
        tab->locks_end--;
    wakeup_pipes();
}

/*
 * Set (or with F_UNLCK clear) the owner's record lock req over its range:
 * what the owner held there is replaced, its other locks split or trimmed,
 * and the new lock joins the owner's locks of its type that it overlaps or
 * touches. The caller checked conflicts. 0, or -ENOLCK with nothing changed.
 */
static int64_t posix_apply(const struct lock *req)
{
    int64_t start = req->start, end = req->end;
    int split = 0;
    for (int i = 0; i < tab->locks_end;
         i++) { /* the new range, joined with its kind's neighbours */
        struct lock *l = &tab->locks[i];
        if (req->type != F_UNLCK && on_file(l, req) && same_owner(l, req) && l->type == req->type &&
            l->start - 1 <= end && start - 1 <= l->end) {
            start = l->start < start ? l->start : start;
            end = l->end > end ? l->end : end;
        }
    }
    for (int i = 0; i < tab->locks_end; i++) {
        const struct lock *l = &tab->locks[i];
        split |= on_file(l, req) && same_owner(l, req) && l->start < start && l->end > end;
    }
    if (free_slots() < split + (req->type != F_UNLCK))
        return -LX_ENOLCK;
    int changed = 0;
    for (int i = 0; i < tab->locks_end; i++) {
        struct lock *l = &tab->locks[i];
        if (!on_file(l, req) || !same_owner(l, req) || l->end < start || l->start > end)
            continue;
        changed = 1;
        lock_store(l);
        if (l->start < start && l->end > end) { /* the new range is inside: two pieces stay */
            struct lock *right = lock_slot();
            *right = *l;
            right->start = end + 1;
            l->end = start - 1;
        } else if (l->start < start) {
            l->end = start - 1;
        } else if (l->end > end) {
            l->start = end + 1;
        } else {
            l->in_use = 0;
        }
    }
    if (req->type != F_UNLCK) {
        struct lock *l = lock_slot();
        *l = *req;
        l->in_use = 1;
        l->start = start;
        l->end = end;
    }
    if (changed)
        locks_released(); /* a range went, or a write lock became a read lock */
    return 0;
}

/* Does the holder of blocker wait, through a chain of waiting holders, for pid? */
static int would_deadlock(int pid, const struct lock *blocker)
{
    int holder = blocker->pid;
    for (int n = 0; holder && n < LOCK_CHAIN_MAX; n++) {
        if (holder == pid)
            return 1;
        int next = 0;
        for (int i = 0; i < NR_SLOTS && !next; i++) {
            struct vproc *w = vproc_by_index(i);
            if (w && w->pid == holder && w->wait == WAIT_LOCK)
                next = waiters_for[i];
        }
        holder = next;
    }
    return 0;
}

/*
 * The range of a struct flock as bytes start..end (Linux's
 * flock_to_posix_lock): l_whence from the start, the position or the end;
 * a negative length reaches back before l_start; 0 reaches to the end.
 */
static int64_t lock_range(struct file *f, const struct flock_l *fl, struct lock *req)
{
    int64_t base = 0;
    if (fl->whence == 1) {
        base = (int64_t)f->pos;
    } else if (fl->whence == 2) {
        struct fs_stat st = {0};
        int64_t r = f->vn->fs == NONE ? 0 : fs_stat(f->vn, &st);
        if (r < 0)
            return r;
        base = (int64_t)st.size;
    } else if (fl->whence != 0) {
        return -LX_EINVAL;
    }
    if (fl->start > 0 && base > OFFSET_MAX - fl->start)
        return -LX_EOVERFLOW;
    int64_t start = base + fl->start, end = OFFSET_MAX;
    if (start < 0)
        return -LX_EINVAL;
    if (fl->len > 0) {
        if (fl->len - 1 > OFFSET_MAX - start)
            return -LX_EOVERFLOW;
        end = start + fl->len - 1;
    } else if (fl->len < 0) {
        if (start + fl->len < 0)
            return -LX_EINVAL;
        end = start - 1;
        start += fl->len;
    }
    req->start = start;
    req->end = end;
    return 0;
}

/* fcntl's lock commands on f (the descriptor's file); arg: the user's struct flock. */
int64_t lock_fcntl(struct vproc *p, struct file *f, uint64_t cmd, uint64_t arg)
{
    struct flock_l fl;
    int ofd = cmd >= F_OFD_GETLK;
    if (copy_in(p, arg, &fl, sizeof(fl)) < 0)
        return -LX_EFAULT;
    struct lock req = {.in_use = 1, .type = fl.type};
    lock_key(f->vn, &req.fs, &req.ino);
    if (ofd)
        req.file = f;
    else
        req.pid = p->pid;
    if (ofd && fl.pid)
        return -LX_EINVAL; /* OFD requests must say l_pid 0 */
    int getlk = cmd == F_GETLK || cmd == F_OFD_GETLK;
    if (fl.type != F_RDLCK && fl.type != F_WRLCK && (fl.type != F_UNLCK || getlk))
        return -LX_EINVAL; /* F_GETLK asks about a lock, not an unlock */
    int64_t r = lock_range(f, &fl, &req);
    if (r < 0)
        return r;
    if (getlk) {
        const struct lock *c = first_conflict(&req);
        if (!c) {
            fl.type = F_UNLCK;
        } else {
            fl = (struct flock_l){.type = (int16_t)c->type, .whence = 0, .start = c->start};
            fl.len = c->end == OFFSET_MAX ? 0 : c->end - c->start + 1;
            fl.pid = c->file ? -1 : c->pid;
        }
        return copy_out(p, arg, &fl, sizeof(fl)) < 0 ? -LX_EFAULT : 0;
    }
    uint32_t mode = f->flags & O_ACCMODE;
    if ((fl.type == F_RDLCK && mode == O_WRONLY) || (fl.type == F_WRLCK && mode == 0))
        return -LX_EBADF; /* the descriptor's access mode does not allow the lock */
    const struct lock *c = fl.type == F_UNLCK ? 0 : first_conflict(&req);
    if (!c)
        return posix_apply(&req);
    if (cmd == F_SETLK || cmd == F_OFD_SETLK)
        return -LX_EAGAIN;
    if (!ofd && would_deadlock(p->pid, c))
        return -LX_EDEADLK;
    waiters_for[EP_SLOT(p->ep)] = ofd ? 0 : c->pid;
    suspend(p, WAIT_LOCK);
    return SUSPEND;
}

/* flock(fd, op): a whole-file lock of the file description; converting drops the old lock
 * first, so a conversion that cannot be had at once leaves none (Linux). */
int64_t do_flock(struct vproc *p, const uint64_t *a)
{
    struct file *f = fd_file(p, (int)a[0]);
    uint64_t op = a[1] & ~(uint64_t)LOCK_NB;
    if (!f)
        return -LX_EBADF;
    if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN)
        return -LX_EINVAL;
    struct lock req = {.in_use = 1, .flock = 1, .file = f, .start = 0, .end = OFFSET_MAX};
    req.type = op == LOCK_SH ? F_RDLCK : op == LOCK_EX ? F_WRLCK : F_UNLCK;
    lock_key(f->vn, &req.fs, &req.ino);
    for (int i = 0; i < tab->locks_end; i++) {
        struct lock *l = &tab->locks[i];
        if (on_file(l, &req) && l->file == f) {
            if (l->type == req.type)
                return 0;
            lock_store(l)->in_use = 0;
            locks_released();
        }
    }
    if (req.type == F_UNLCK)
        return 0;
    if (first_conflict(&req)) {
        if (a[1] & LOCK_NB)
            return -LX_EAGAIN; /* EWOULDBLOCK */
        waiters_for[EP_SLOT(p->ep)] = 0;
        suspend(p, WAIT_LOCK);
        return SUSPEND;
    }
    struct lock *l = lock_slot();
    if (!l)
        return -LX_ENOLCK;
    *l = req;
    return 0;
}

/* p closes a descriptor of f: its POSIX locks on the file go (also at exec and exit). */
void lock_close(struct vproc *p, struct file *f)
{
    endpoint_t fs;
    uint64_t ino;
    int gone = 0;
    lock_key(f->vn, &fs, &ino);
    for (int i = 0; i < tab->locks_end; i++) {
        struct lock *l = &tab->locks[i];
        if (l->in_use && !l->flock && !l->file && l->pid == p->pid && l->fs == fs &&
            l->ino == ino) {
            lock_store(l)->in_use = 0;
            gone = 1;
        }
    }
    if (gone)
        locks_released();
}

/* f's last descriptor went: its OFD and flock locks go. */
void lock_file_gone(struct file *f)
{
    int gone = 0;
    for (int i = 0; i < tab->locks_end; i++)
        if (tab->locks[i].in_use && tab->locks[i].file == f) {
            lock_store(&tab->locks[i])->in_use = 0;
            gone = 1;
        }
    if (gone)
        locks_released();
}

/* A file server restarted (vnode_rebind): its files' locks follow it. */
void lock_rebind(endpoint_t old, endpoint_t now)
{
    for (int i = 0; i < tab->locks_end; i++)
        if (tab->locks[i].in_use && tab->locks[i].fs == old)
            lock_store(&tab->locks[i])->fs = now;
}

/*
 * After a vfs restart (keep.c): the last instance's lock from, on a file of a file server, now
 * f's (an OFD or flock lock of a file taken over), or with f 0 its POSIX owner's (a process
 * taken over), if a slot is free.
 */
void lock_take(const struct lock *from, struct file *f)
{
    struct lock *l = from->in_use && from->fs > 0 ? lock_slot() : 0;
    if (!l)
        return;
    *l = *from;
    l->in_use = 1;
    l->file = f;
}
