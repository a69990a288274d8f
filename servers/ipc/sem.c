/*
 * Semaphore sets: semget, semop, semtimedop, semctl, with Linux's limits
 * and errors (SEMMSL 32000 a set, SEMOPM 500 operations a call, SEMVMX
 * 32767; SEMMNI is 128 here). A semop is all or nothing: its operations are
 * applied in order and rolled back if one would block or overflow; a caller
 * that must wait is suspended with a copy of its operations and retried,
 * first come first served, whenever the set changes. SEM_UNDO adjustments
 * live in one undo entry per process and set (its threads share it, as with
 * Linux's CLONE_SYSVSEM) and are applied when pm reports the process's exit
 * (sem_exit); SETVAL and SETALL clear them, as Linux does.
 */
#include "ipc.h"

#define SEMMNI 128
#define SEMMSL 32000
#define SEMVMX 32767
#define SEMAEM SEMVMX
#define SEM_UNDO 0x1000
#define NR_UNDO 512
enum { GETPID = 11, GETVAL, GETALL, GETNCNT, GETZCNT, SETVAL, SETALL };

/* Linux's struct semid64_ds (x86-64) */
struct lx_semid_ds {
    struct lx_ipc_perm perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2, nsems, unused3, unused4;
};
_Static_assert(sizeof(struct lx_semid_ds) == 104, "struct semid64_ds is 104 bytes");

struct sem {
    uint16_t val;
    int32_t pid; /* the last to change it */
};

struct semset {
    struct ipc_obj o;
    uint32_t nsems;
    struct sem *sems; /* in the arena */
    int64_t otime, ctime;
};

struct undo {
    int pid; /* its process's (every thread's: pm gives them its pid); 0: free */
    int set;
    int16_t *adj; /* one per semaphore of the set, in the arena */
};

/* In the state region (ipc.h): kept across a restart. */
struct sem_state {
    struct ipc_kind kind;
    struct semset sets[SEMMNI];
    struct undo undos[NR_UNDO];
    int undos_used; /* entries of undos[] in use: none, no scan at every exit */
};
_Static_assert(ST_SEM + sizeof(struct sem_state) <= ST_SHM, "sem.c's tables outgrew their part");
#define SS ((struct sem_state *)ST_SEM)
#define kind (SS->kind)
#define sets (SS->sets)
#define undos (SS->undos)
#define undos_used (SS->undos_used)
static uint32_t want_nsems; /* semget's request, for the two callbacks */

int sem_start(int kept)
{
    kind = (struct ipc_kind){sets, sizeof(struct semset), SEMMNI, kept ? kind.seq : 0};
    int n = 0;
    for (int i = 0; i < SEMMNI; i++)
        n += sets[i].o.used;
    return n;
}

/* Semaphore num of s is about to change. */
static void old_sem(const struct semset *s, uint32_t num)
{
    state_old(&s->sems[num], sizeof(s->sems[num]));
}

static int64_t set_fits(void *obj)
{
    return want_nsems > ((struct semset *)obj)->nsems ? -LX_EINVAL : 0;
}

static int64_t set_create(void *obj)
{
    struct semset *s = obj;
    if (want_nsems == 0)
        return -LX_EINVAL;
    if (!(s->sems = arena_alloc(&ipc_arena, want_nsems * sizeof(struct sem))))
        return -LX_ENOMEM;
    memset(s->sems, 0, want_nsems * sizeof(struct sem));
    s->nsems = want_nsems;
    s->ctime = (int64_t)now_seconds();
    return 0;
}

int64_t do_semget(struct sproc *p, const uint64_t *a)
{
    int nsems = (int)a[1];
    if (nsems < 0 || nsems > SEMMSL)
        return -LX_EINVAL;
    want_nsems = (uint32_t)nsems;
    return ipc_get(&kind, p, (int32_t)a[0], (int)a[2], set_fits, set_create);
}

static struct undo *undo_of(int pid, int set, int make)
{
    struct undo *free = 0;
    for (int i = 0; i < NR_UNDO; i++) {
        if (undos[i].pid == pid && undos[i].set == set)
            return &undos[i];
        if (!undos[i].pid && !free)
            free = &undos[i];
    }
    if (!make || !free || !(free->adj = arena_alloc(&ipc_arena, sets[set].nsems * sizeof(int16_t))))
        return 0;
    memset(free->adj, 0, sets[set].nsems * sizeof(int16_t));
    state_old(free, sizeof(*free));
    state_old(&undos_used, sizeof(undos_used));
    free->pid = pid;
    free->set = set;
    undos_used++;
    return free;
}

/* The adjustments of semaphore num (all of them if num < 0) of set go, in every process. */
static void undo_clear(int set, int num)
{
    for (int i = 0; i < NR_UNDO; i++)
        if (undos[i].pid && undos[i].set == set) {
            if (num >= 0)
                state_old(&undos[i].adj[num], sizeof(int16_t));
            else
                state_old(undos[i].adj, sets[set].nsems * sizeof(int16_t));
            if (num >= 0)
                undos[i].adj[num] = 0;
            else
                memset(undos[i].adj, 0, sets[set].nsems * sizeof(int16_t));
        }
}

static void undo_free(struct undo *u)
{
    arena_release(u->adj);
    state_old(u, sizeof(*u));
    state_old(&undos_used, sizeof(undos_used));
    *u = (struct undo){0};
    undos_used--;
}

/*
 * The operations p->sops on the set p->a[0], all or none: 0, -errno, or
 * SUSPEND (p->blocking names the operation that must wait).
 */
static int64_t semop_try(struct sproc *p)
{
    struct semset *s = ipc_lookup(&kind, (int32_t)p->a[0]);
    if (!s)
        return -LX_EINVAL;
    int si = ipc_index(&kind, s), alter = 0, undoing = 0;
    uint32_t max = 0;
    for (uint32_t i = 0; i < p->nsops; i++) {
        max = p->sops[i].num > max ? p->sops[i].num : max;
        alter |= p->sops[i].op != 0;
        undoing |= p->sops[i].flg & SEM_UNDO;
    }
    if (max >= s->nsems)
        return -LX_EFBIG;
    if (ipc_perms(p, &s->o, alter ? S_IWUGO : S_IRUGO) < 0)
        return -LX_EACCES;
    /* only now an undo entry: a caller refused above made one in the table all share */
    struct undo *u = undoing ? undo_of(p->pid, si, 1) : 0;
    if (undoing && !u)
        return -LX_ENOMEM;
    int64_t r = 0;
    uint32_t done = 0;
    for (; done < p->nsops && r == 0; done++) {
        const struct lx_sembuf *op = &p->sops[done];
        int32_t v = s->sems[op->num].val, adj = u ? u->adj[op->num] - op->op : 0;
        if ((op->op == 0 && v != 0) || v + op->op < 0)
            r = op->flg & IPC_NOWAIT ? -LX_EAGAIN : SUSPEND;
        else if (v + op->op > SEMVMX ||
                 ((op->flg & SEM_UNDO) && (adj < -SEMAEM - 1 || adj > SEMAEM)))
            r = -LX_ERANGE;
        if (r)
            break;
        old_sem(s, op->num);
        s->sems[op->num].val = (uint16_t)(v + op->op);
        if (op->flg & SEM_UNDO)
            state_old(&u->adj[op->num], sizeof(int16_t));
        if (op->flg & SEM_UNDO)
            u->adj[op->num] = (int16_t)adj;
    }
    if (r) { /* put back what the earlier operations did */
        p->blocking = done;
        while (done--) {
            const struct lx_sembuf *op = &p->sops[done];
            s->sems[op->num].val = (uint16_t)(s->sems[op->num].val - op->op);
            if (op->flg & SEM_UNDO)
                u->adj[op->num] = (int16_t)(u->adj[op->num] + op->op);
        }
        return r;
    }
    for (uint32_t i = 0; i < p->nsops; i++) {
        old_sem(s, p->sops[i].num);
        s->sems[p->sops[i].num].pid = p->pid;
    }
    state_old(&s->otime, sizeof(s->otime));
    s->otime = (int64_t)now_seconds();
    return 0;
}

static void settle(int si)
{
    wake_waiters(S_SEMOP, si, semop_try);
}

/* semtimedop(id, sops, nsops, timeout): timeout 0 for semop. */
int64_t do_semtimedop(struct sproc *p, const uint64_t *a)
{
    int32_t id = (int32_t)a[0];
    uint64_t nsops = (uint32_t)a[2], ticks = 0; /* an unsigned int (Linux) */
    int64_t ts[2];
    if (nsops < 1 || id < 0)
        return -LX_EINVAL;
    if (nsops > SEMOPM)
        return -LX_E2BIG;
    if (copy_in(p, a[1], p->sops, nsops * sizeof(struct lx_sembuf)) < 0)
        return -LX_EFAULT;
    if (a[3]) {
        if (copy_in(p, a[3], ts, sizeof(ts)) < 0)
            return -LX_EFAULT;
        if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
            return -LX_EINVAL;
        uint64_t limit = 100ull * 365 * 86400; /* the kernel's alarms reach 100 years */
        ticks = (uint64_t)(ts[0] < (int64_t)limit ? ts[0] : (int64_t)limit) * 1000 +
                ((uint64_t)ts[1] + 999999) / 1000000;
    }
    p->nsops = (uint32_t)nsops;
    memcpy(p->a, a, sizeof(p->a));
    int64_t r = semop_try(p);
    if (r == SUSPEND && a[3] && ticks == 0)
        return -LX_EAGAIN; /* a zero timeout: no wait at all */
    struct semset *s = ipc_lookup(&kind, id);
    if (r == SUSPEND) {
        suspend(p, S_SEMOP, ipc_index(&kind, s), a);
        p->deadline = a[3] ? sys_uptime() + ticks : 0;
    } else if (r == 0) {
        settle(ipc_index(&kind, s));
    }
    return r;
}

int64_t do_semop(struct sproc *p, const uint64_t *a)
{
    return do_semtimedop(p, (const uint64_t[6]){a[0], a[1], a[2], 0, 0, 0});
}

/* GETNCNT (zero 0) or GETZCNT (zero 1): the callers waiting to decrease, or for zero. */
static int64_t count_waiters(int si, uint32_t num, int zero)
{
    int64_t n = 0;
    for (int i = 0; i < NR_SPROCS; i++) {
        const struct sproc *w = &sprocs[i];
        if (w->ep && w->wait == S_SEMOP && w->obj == si && w->blocking < w->nsops &&
            w->sops[w->blocking].num == num && (w->sops[w->blocking].op == 0) == zero)
            n++;
    }
    return n;
}

static int64_t set_values(struct sproc *p, struct semset *s, uint64_t arg)
{
    static uint16_t vals[SEMMSL];
    if (ipc_perms(p, &s->o, S_IWUGO) < 0)
        return -LX_EACCES;
    if (copy_in(p, arg, vals, s->nsems * sizeof(uint16_t)) < 0)
        return -LX_EFAULT;
    for (uint32_t i = 0; i < s->nsems; i++)
        if (vals[i] > SEMVMX)
            return -LX_ERANGE;
    state_old(s->sems, s->nsems * sizeof(struct sem));
    for (uint32_t i = 0; i < s->nsems; i++)
        s->sems[i] = (struct sem){vals[i], p->pid};
    undo_clear(ipc_index(&kind, s), -1);
    state_old(&s->ctime, sizeof(s->ctime));
    s->ctime = (int64_t)now_seconds();
    settle(ipc_index(&kind, s));
    return 0;
}

static int64_t remove_set(struct semset *s)
{
    int si = ipc_index(&kind, s);
    for (int i = 0; i < NR_UNDO; i++)
        if (undos[i].pid && undos[i].set == si)
            undo_free(&undos[i]);
    arena_release(s->sems);
    state_old(&s->o.used, sizeof(s->o.used));
    s->o.used = 0;
    fail_waiters(S_SEMOP, si, -LX_EIDRM);
    return 0;
}

/* semctl(id, num, cmd, arg): arg is a value (SETVAL) or a pointer, as musl passes it. */
int64_t do_semctl(struct sproc *p, const uint64_t *a)
{
    int32_t id = (int32_t)a[0];
    int num = (int)a[1], cmd = (int)a[2];
    struct lx_semid_ds ds;
    if (id < 0 || cmd < 0 || cmd > SETALL || (cmd > IPC_STAT && cmd < GETPID))
        return -LX_EINVAL;
    if (cmd == SETVAL && ((int)a[3] < 0 || (int)a[3] > SEMVMX))
        return -LX_ERANGE;
    if (cmd == IPC_SET && copy_in(p, a[3], &ds, sizeof(ds)) < 0)
        return -LX_EFAULT;
    struct semset *s = ipc_lookup(&kind, id);
    if (!s)
        return -LX_EINVAL;
    int si = ipc_index(&kind, s);
    if (cmd == IPC_SET || cmd == IPC_RMID) {
        if (ipc_owner(p, &s->o) < 0)
            return -LX_EPERM;
        if (cmd == IPC_RMID)
            return remove_set(s);
        ipc_set_perm(&s->o, &ds.perm);
        state_old(&s->ctime, sizeof(s->ctime));
        s->ctime = (int64_t)now_seconds();
        return 0;
    }
    if (cmd == SETALL)
        return set_values(p, s, a[3]);
    if (ipc_perms(p, &s->o, cmd == SETVAL ? S_IWUGO : S_IRUGO) < 0)
        return -LX_EACCES;
    if (cmd == IPC_STAT) {
        ds = (struct lx_semid_ds){
            .perm = s->o.perm, .otime = s->otime, .ctime = s->ctime, .nsems = s->nsems};
        return copy_out(p, a[3], &ds, sizeof(ds));
    }
    if (cmd == GETALL) {
        static uint16_t vals[SEMMSL];
        for (uint32_t i = 0; i < s->nsems; i++)
            vals[i] = s->sems[i].val;
        return copy_out(p, a[3], vals, s->nsems * sizeof(uint16_t));
    }
    if (num < 0 || (uint32_t)num >= s->nsems)
        return -LX_EINVAL;
    switch (cmd) {
    case GETVAL:
        return s->sems[num].val;
    case GETPID:
        return s->sems[num].pid;
    case GETNCNT:
    case GETZCNT:
        return count_waiters(si, (uint32_t)num, cmd == GETZCNT);
    }
    old_sem(s, (uint32_t)num);
    s->sems[num] = (struct sem){(uint16_t)a[3], p->pid}; /* SETVAL */
    undo_clear(si, num);
    state_old(&s->ctime, sizeof(s->ctime));
    s->ctime = (int64_t)now_seconds();
    settle(si);
    return 0;
}

/* p's process is gone: its SEM_UNDO adjustments are applied (clamped to 0..SEMVMX, as Linux). */
void sem_exit(struct sproc *p)
{
    for (int i = 0; i < NR_UNDO && undos_used; i++) {
        struct undo *u = &undos[i];
        if (u->pid != p->pid)
            continue;
        struct semset *s = &sets[u->set];
        state_old(s->sems, s->nsems * sizeof(struct sem));
        for (uint32_t n = 0; n < s->nsems; n++) {
            if (!u->adj[n])
                continue;
            int32_t v = s->sems[n].val + u->adj[n];
            s->sems[n] = (struct sem){(uint16_t)(v < 0 ? 0 : v > SEMVMX ? SEMVMX : v), p->pid};
        }
        int si = u->set;
        undo_free(u);
        settle(si);
    }
}
