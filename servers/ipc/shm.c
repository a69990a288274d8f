/*
 * Shared memory: shmget, shmat, shmdt, shmctl. A segment's pages are in this
 * server's state region (ST_SEGS + off, zeroed, all at shmget: no demand
 * paging; rs keeps them across a restart, so a process that attached a
 * segment keeps the same frames and a new instance shares those again),
 * and shmat maps the same frames into the caller (KC_MEM_SHARE). A segment
 * outlives IPC_RMID until its last detach; its pages then go back to the
 * region's free space (never to the system: the region only grows, up to
 * ST_SEGS_SIZE for all segments together). Attachments are kept per process: fork copies
 * them (the kernel's fork shares the pages), exec and exit drop them.
 *
 * Addresses: shmat places segments in a window of the caller's address
 * space that pm never uses for mmap, [WIN_BASE, WIN_END); a caller's own
 * address must lie there too (EINVAL elsewhere, where Linux would accept
 * any free range). Limits: SHMMNI 128 segments here; SHMMIN 1 and SHMMAX
 * as Linux; the region bounds the total (ST_SEGS_SIZE, 117 MiB).
 */
#include "ipc.h"

#define SHMMNI 128
#define SHMMAX (UINT64_MAX - (1ull << 24)) /* Linux's default */
#define SHM_RDONLY 010000
#define SHM_RND 020000
#define SHM_REMAP 040000
#define SHM_EXEC 0100000
#define SHM_LOCK 11
#define SHM_UNLOCK 12
#define SHM_DEST 01000
#define SHM_LOCKED 02000
#define SHMLBA 4096ull
#define WIN_BASE 0x7f0000000000ull
#define WIN_END 0x7f8000000000ull
#define NR_ATTACH 1024

/* Linux's struct shmid64_ds (x86-64) */
struct lx_shmid_ds {
    struct lx_ipc_perm perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch, unused[2];
};
_Static_assert(sizeof(struct lx_shmid_ds) == 112, "struct shmid64_ds is 112 bytes");

struct segment {
    struct ipc_obj o;
    uint64_t size, len; /* asked for; in whole pages */
    uint64_t off;       /* its pages: at ST_SEGS + off in the state region */
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch;
};

struct attach {
    int pid; /* the process's (every thread's: pm gives them its pid); 0: free */
    int seg;
    uint64_t addr, len;
};

/* In the state region (ipc.h): kept across a restart, and the segments' pages after it. */
struct shm_state {
    struct ipc_kind kind;
    struct segment segs[SHMMNI];
    struct attach attaches[NR_ATTACH];
    int attached;   /* entries of attaches[] in use: none, no scan at every fork, exec, exit */
    uint64_t floor; /* segments' pages start here: below, a last life's may still be mapped */
};
_Static_assert(ST_SHM + sizeof(struct shm_state) <= ST_TABLES_END,
               "shm.c's tables outgrew their part");
#define SH ((struct shm_state *)ST_SHM)
#define kind (SH->kind)
#define segs (SH->segs)
#define attaches (SH->attaches)
#define attached (SH->attached)
static uint64_t want_size;
static int want_pid;

/*
 * Fresh (the region unusable): pages a last life handed out may still be
 * mapped in processes, which must not see a new segment's bytes: new
 * segments go past everything mapped so far.
 */
int shm_start(int kept)
{
    kind = (struct ipc_kind){segs, sizeof(struct segment), SHMMNI, kept ? kind.seq : 0};
    if (!kept && state_mapped() > ST_SEGS - ST_BASE)
        SH->floor = state_mapped() - (ST_SEGS - ST_BASE);
    int n = 0;
    for (int i = 0; i < SHMMNI; i++)
        n += segs[i].o.used;
    return n;
}

static uint64_t seg_base(const struct segment *s)
{
    return ST_SEGS + s->off;
}

/* The lowest free place for len bytes of pages among the segments in use (not s), or -1. */
static uint64_t seg_place(const struct segment *s, uint64_t len)
{
    uint64_t at = SH->floor;
    for (int moved = 1; moved && at <= ST_SEGS_SIZE && len <= ST_SEGS_SIZE - at;) {
        moved = 0;
        for (int i = 0; i < SHMMNI; i++) {
            const struct segment *t = &segs[i];
            if (t != s && t->o.used && t->off < at + len && at < t->off + t->len) {
                at = t->off + t->len;
                moved = 1;
            }
        }
    }
    return at <= ST_SEGS_SIZE && len <= ST_SEGS_SIZE - at ? at : (uint64_t)-1;
}

static int64_t seg_fits(void *obj)
{
    return want_size > ((struct segment *)obj)->size ? -LX_EINVAL : 0;
}

static int64_t seg_create(void *obj)
{
    struct segment *s = obj;
    if (want_size < 1 || want_size > SHMMAX)
        return -LX_EINVAL;
    uint64_t len = (want_size + 4095) & ~4095ull, off = seg_place(s, len);
    if (off == (uint64_t)-1 || state_grow(ST_SEGS + off + len) < 0)
        return -LX_ENOMEM;
    memset((void *)(ST_SEGS + off), 0, len); /* free pages: no undo record needed */
    s->off = off;
    s->size = want_size;
    s->len = len;
    s->cpid = want_pid;
    s->ctime = (int64_t)now_seconds();
    return 0;
}

int64_t do_shmget(struct sproc *p, const uint64_t *a)
{
    want_size = a[1];
    want_pid = p->pid;
    return ipc_get(&kind, p, (int32_t)a[0], (int)a[2], seg_fits, seg_create);
}

/* Its pages stay in the region, free for a later segment (nothing maps them: nattch is 0). */
static void destroy(struct segment *s)
{
    state_old(&s->o.used, sizeof(s->o.used));
    s->o.used = 0;
}

static void drop(struct attach *t, int pid)
{
    struct segment *s = &segs[t->seg];
    state_old(t, sizeof(*t));
    state_old(&attached, sizeof(attached));
    state_old(s, sizeof(*s));
    *t = (struct attach){0};
    attached--;
    s->nattch--;
    s->dtime = (int64_t)now_seconds();
    s->lpid = pid;
    if ((s->o.perm.mode & SHM_DEST) && s->nattch == 0)
        destroy(s);
}

/* The lowest free place for len bytes in process pid's window, or 0. */
static uint64_t place(int pid, uint64_t len)
{
    uint64_t at = WIN_BASE;
    for (int moved = 1; moved && len <= WIN_END - at;) {
        moved = 0;
        for (int i = 0; i < NR_ATTACH; i++) {
            const struct attach *t = &attaches[i];
            if (t->pid == pid && t->addr < at + len && at < t->addr + t->len) {
                at = t->addr + t->len;
                moved = 1;
            }
        }
    }
    return len <= WIN_END - at ? at : 0;
}

int64_t do_shmat(struct sproc *p, const uint64_t *a)
{
    int32_t id = (int32_t)a[0];
    uint64_t addr = a[1];
    int flg = (int)a[2], prot = PROT_R, want = S_IRUGO;
    if (id < 0)
        return -LX_EINVAL;
    if (addr & (SHMLBA - 1)) {
        if (!(flg & SHM_RND))
            return -LX_EINVAL;
        addr &= ~(SHMLBA - 1);
    }
    if ((flg & SHM_REMAP) && !addr)
        return -LX_EINVAL;
    if (!(flg & SHM_RDONLY))
        prot |= PROT_W, want |= S_IWUGO;
    if (flg & SHM_EXEC)
        prot |= PROT_X, want |= 0111;
    struct segment *s = ipc_lookup(&kind, id);
    if (!s)
        return -LX_EINVAL;
    if (ipc_perms(p, &s->o, want) < 0)
        return -LX_EACCES;
    if (addr && (addr < WIN_BASE || addr >= WIN_END || s->len > WIN_END - addr))
        return -LX_EINVAL; /* outside the window this server places segments in */
    if (!addr && !(addr = place(p->pid, s->len)))
        return -LX_ENOMEM;
    struct attach *t = 0;
    for (int i = 0; i < NR_ATTACH && !t; i++)
        t = attaches[i].pid ? 0 : &attaches[i];
    if (!t)
        return -LX_ENOMEM;
    /* The record first, committed: a death before the mapping is made leaves a record without a
     * mapping (nattch one too high until the process exits), never a mapping nattch does not
     * count, whose pages a later segment could get (docs/IPC-SYSV.md, section 8). */
    struct segment was = *s;
    state_old(t, sizeof(*t));
    state_old(&attached, sizeof(attached));
    state_old(s, sizeof(*s));
    *t = (struct attach){p->pid, ipc_index(&kind, s), addr, s->len};
    attached++;
    s->nattch++;
    s->atime = (int64_t)now_seconds();
    s->lpid = p->pid;
    state_commit(); /* nothing else changed in this request: no answer waits for it */
    int r = sys_mem_share(p->ep, addr, s->len, prot, seg_base(s));
    if (r < 0) {
        state_old(t, sizeof(*t));
        state_old(&attached, sizeof(attached));
        state_old(s, sizeof(*s));
        *t = (struct attach){0};
        attached--;
        *s = was;
        return r == -E_BUSY ? -LX_EINVAL : -LX_ENOMEM; /* E_BUSY: something is mapped there */
    }
    return (int64_t)addr;
}

int64_t do_shmdt(struct sproc *p, const uint64_t *a)
{
    for (int i = 0; i < NR_ATTACH && !(a[0] & 4095); i++) {
        struct attach *t = &attaches[i];
        if (t->pid == p->pid && t->addr == a[0]) {
            sys_mem_unmap(p->ep, t->addr, t->len);
            drop(t, p->pid);
            return 0;
        }
    }
    return -LX_EINVAL;
}

int64_t do_shmctl(struct sproc *p, const uint64_t *a)
{
    int32_t id = (int32_t)a[0];
    int cmd = (int)a[1];
    struct lx_shmid_ds ds;
    if (id < 0 || (cmd != IPC_STAT && cmd != IPC_SET && cmd != IPC_RMID && cmd != SHM_LOCK &&
                   cmd != SHM_UNLOCK))
        return -LX_EINVAL;
    if (cmd == IPC_SET && copy_in(p, a[2], &ds, sizeof(ds)) < 0)
        return -LX_EFAULT;
    struct segment *s = ipc_lookup(&kind, id);
    if (!s)
        return -LX_EINVAL;
    if (cmd == IPC_STAT) {
        if (ipc_perms(p, &s->o, S_IRUGO) < 0)
            return -LX_EACCES;
        ds = (struct lx_shmid_ds){s->o.perm, s->size, s->atime,  s->dtime, s->ctime,
                                  s->cpid,   s->lpid, s->nattch, {0, 0}};
        return copy_out(p, a[2], &ds, sizeof(ds));
    }
    if (ipc_owner(p, &s->o) < 0)
        return -LX_EPERM;
    state_old(s, sizeof(*s));
    if (cmd == IPC_SET) {
        ipc_set_perm(&s->o, &ds.perm);
        s->ctime = (int64_t)now_seconds();
    } else if (cmd == IPC_RMID) {
        s->o.perm.mode |= SHM_DEST;
        s->o.perm.key = IPC_PRIVATE; /* no longer found by its key */
        if (s->nattch == 0)
            destroy(s);
    } else if (cmd == SHM_LOCK) { /* the pages are always resident: a flag only */
        s->o.perm.mode |= SHM_LOCKED;
    } else {
        s->o.perm.mode &= ~(uint32_t)SHM_LOCKED;
    }
    return 0;
}

/* child is parent's fork: the kernel's fork shared the pages; it holds the same attachments. */
int shm_fork(const struct sproc *parent, const struct sproc *child)
{
    for (int i = 0; i < NR_ATTACH && attached; i++) {
        if (attaches[i].pid != parent->pid)
            continue;
        struct attach *t = 0;
        for (int j = 0; j < NR_ATTACH && !t; j++)
            t = attaches[j].pid ? 0 : &attaches[j];
        if (!t) /* its mapping stays valid (the kernel counts it); only nattch is short */
            return -LX_ENOMEM;
        state_old(t, sizeof(*t));
        state_old(&attached, sizeof(attached));
        state_old(&segs[attaches[i].seg].nattch, sizeof(uint64_t));
        *t = attaches[i];
        t->pid = child->pid;
        attached++;
        segs[t->seg].nattch++;
    }
    return 0;
}

/* p's process's memory is gone (exit) or replaced (exec): its attachments go. */
void shm_detach_all(struct sproc *p)
{
    for (int i = 0; i < NR_ATTACH && attached; i++)
        if (attaches[i].pid == p->pid)
            drop(&attaches[i], p->pid);
}
