/*
 * The ipc server's loop, its view of the Linux processes, and what the three
 * kinds of object share: keys and ids, permissions, suspended callers.
 *
 * Who may send what: a Linux process its System V calls (MSG_LINUX_CALL,
 * routed by the kernel; the source endpoint is the kernel's, and a process
 * pm has not announced is refused with -ENOSYS); pm the SYSV_* requests
 * (checked against the endpoint root names "pm"); the kernel its alarm
 * (semtimedop's timeouts). Anything else is refused and counted.
 */
#include <samsara/root.h>
#include <samsara/sysv.h>
#include "ipc.h"

_Static_assert(ST_MAIN + 0x1000 + sizeof(struct sproc) * NR_SPROCS <= ST_MSG,
               "the Linux processes' table is larger than its part of the state region");
#define pm_ep (MAIN->pm_ep)

/* Answers wait here until the request's changes are committed (state_commit), then go. */
static struct {
    endpoint_t ep;
    int64_t result;
} outbox[NR_SPROCS + 1];
static int outgoing;

uint64_t now_seconds(void)
{
    return sys_boottime() + sys_uptime() / 1000; /* the kernel's clock runs at 1000 Hz */
}

static struct sproc *sproc_of(endpoint_t ep)
{
    for (int i = 0; i < NR_SPROCS; i++)
        if (ep > 0 && sprocs[i].ep == ep)
            return &sprocs[i];
    return 0;
}

void answer(struct sproc *p, int64_t result)
{
    if (outgoing < (int)(sizeof(outbox) / sizeof(outbox[0]))) /* one each at most: it fits */
        outbox[outgoing++] = (typeof(outbox[0])){p->ep, result};
}

/* The request is done: its changes stay, and only then its answers go out. */
static void finish(void)
{
    state_commit();
    for (int i = 0; i < outgoing; i++) {
        message_t m = {.type = MSG_LINUX_REPLY, .u.w = {(uint64_t)outbox[i].result}};
        reply_hold(outbox[i].ep, &m);
    }
    outgoing = 0;
}

/* A waiting call's fields are not logged: after a death no call waits (main). */
void suspend(struct sproc *p, enum swait w, int obj, const uint64_t *a)
{
    p->wait = w;
    p->obj = obj;
    p->order = ++MAIN->wait_order;
    memcpy(p->a, a, sizeof(p->a));
}

static void end_wait(struct sproc *p, int64_t result)
{
    p->wait = S_NONE;
    p->deadline = 0;
    answer(p, result);
}

/*
 * Retry the callers waiting in w on object obj, first come first served,
 * until a whole pass changes nothing (a semop that succeeds can let an
 * earlier waiter through); how many went through.
 */
int wake_waiters(enum swait w, int obj, int64_t (*retry)(struct sproc *p))
{
    int through = 0;
    for (int progress = 1; progress;) {
        progress = 0;
        for (uint64_t last = 0;;) {
            struct sproc *next = 0;
            for (int i = 0; i < NR_SPROCS; i++) {
                struct sproc *p = &sprocs[i];
                if (p->ep && p->wait == w && p->obj == obj && p->order > last &&
                    (!next || p->order < next->order))
                    next = p;
            }
            if (!next)
                break;
            last = next->order;
            int64_t r = retry(next);
            if (r != SUSPEND) {
                end_wait(next, r);
                progress = 1;
                through++;
            }
        }
    }
    return through;
}

void fail_waiters(enum swait w, int obj, int64_t err)
{
    for (int i = 0; i < NR_SPROCS; i++)
        if (sprocs[i].ep && sprocs[i].wait == w && sprocs[i].obj == obj)
            end_wait(&sprocs[i], err);
}

/* One alarm for the earliest semtimedop deadline. */
void alarm_rearm(void)
{
    uint64_t first = 0, now = sys_uptime();
    for (int i = 0; i < NR_SPROCS; i++)
        if (sprocs[i].ep && sprocs[i].wait != S_NONE && sprocs[i].deadline &&
            (!first || sprocs[i].deadline < first))
            first = sprocs[i].deadline;
    sys_alarm(!first ? 0 : first > now ? first - now : 1);
}

int64_t copy_in(const struct sproc *p, uint64_t src, void *dst, uint64_t len)
{
    return len && sys_vcopy(p->ep, src, SELF, (uint64_t)dst, len) < 0 ? -LX_EFAULT : 0;
}

int64_t copy_out(const struct sproc *p, uint64_t dst, const void *src, uint64_t len)
{
    return len && sys_vcopy(SELF, (uint64_t)src, p->ep, dst, len) < 0 ? -LX_EFAULT : 0;
}

/* Keys and ids: id = seq * IPCMNI + index, so a removed object's id is not the next one's. */
int ipc_index(const struct ipc_kind *k, const void *obj)
{
    return (int)(((const char *)obj - (const char *)k->table) / k->stride);
}

static struct ipc_obj *obj_at(const struct ipc_kind *k, uint32_t i)
{
    return (struct ipc_obj *)((char *)k->table + (uint64_t)i * k->stride);
}

static int64_t id_of(const struct ipc_kind *k, const struct ipc_obj *o)
{
    return (int64_t)o->perm.seq * IPCMNI + ipc_index(k, o);
}

void *ipc_lookup(struct ipc_kind *k, int64_t id)
{
    if (id < 0 || id % IPCMNI >= k->count)
        return 0;
    struct ipc_obj *o = obj_at(k, (uint32_t)(id % IPCMNI));
    return o->used && (uint64_t)o->perm.seq == (uint64_t)id / IPCMNI ? o : 0;
}

static int in_group(const struct sproc *p, uint32_t gid)
{
    return cred_in_group(&p->cred, gid);
}

/* Linux's ipcperms: want's rwx bits against the owner's, the group's or the others'. */
int64_t ipc_perms(const struct sproc *p, const struct ipc_obj *o, int want)
{
    int requested = ((want >> 6) | (want >> 3) | want) & 7;
    uint32_t granted = o->perm.mode;
    if (p->cred.euid == o->perm.cuid || p->cred.euid == o->perm.uid)
        granted >>= 6;
    else if (in_group(p, o->perm.cgid) || in_group(p, o->perm.gid))
        granted >>= 3;
    return (requested & ~granted & 7) && p->cred.euid != 0 ? -LX_EACCES : 0;
}

/* IPC_SET and IPC_RMID: the owner, the creator or root. */
int64_t ipc_owner(const struct sproc *p, const struct ipc_obj *o)
{
    uint32_t e = p->cred.euid;
    return e == o->perm.cuid || e == o->perm.uid || e == 0 ? 0 : -LX_EPERM;
}

void ipc_set_perm(struct ipc_obj *o, const struct lx_ipc_perm *n)
{
    state_old(&o->perm, sizeof(o->perm));
    o->perm.uid = n->uid;
    o->perm.gid = n->gid;
    o->perm.mode = (o->perm.mode & ~0777u) | (n->mode & 0777);
}

/*
 * msgget, semget, shmget: the object with this key (check: does the
 * request fit it), or a new one (IPC_PRIVATE always; IPC_CREAT when none
 * has the key; create fills in the rest). Its id, or -errno as Linux.
 */
int64_t ipc_get(struct ipc_kind *k, const struct sproc *p, int32_t key, int flg,
                int64_t (*check)(void *obj), int64_t (*create)(void *obj))
{
    if (key != IPC_PRIVATE) {
        for (uint32_t i = 0; i < k->count; i++) {
            struct ipc_obj *o = obj_at(k, i);
            if (!o->used || o->perm.key != key)
                continue;
            if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
                return -LX_EEXIST;
            int64_t r = check ? check(o) : 0;
            if (r == 0)
                r = ipc_perms(p, o, flg & 0777);
            return r < 0 ? r : id_of(k, o);
        }
        if (!(flg & IPC_CREAT))
            return -LX_ENOENT;
    }
    for (uint32_t i = 0; i < k->count; i++) {
        struct ipc_obj *o = obj_at(k, i);
        if (o->used)
            continue;
        state_old(o, k->stride);
        state_old(&k->seq, sizeof(k->seq));
        memset(o, 0, k->stride);
        o->perm = (struct lx_ipc_perm){.key = key,
                                       .uid = p->cred.euid,
                                       .gid = p->cred.egid,
                                       .cuid = p->cred.euid,
                                       .cgid = p->cred.egid,
                                       .mode = (uint32_t)flg & 0777,
                                       .seq = k->seq};
        int64_t r = create(o);
        if (r < 0)
            return r;
        o->used = 1;
        k->seq = (uint16_t)(k->seq + 1);
        return id_of(k, o);
    }
    return -LX_ENOSPC;
}

typedef int64_t (*sysv_call_t)(struct sproc *p, const uint64_t *a);
static const sysv_call_t calls[LX_NR_MAX] = {
    [LX_msgget] = do_msgget, /* queues: msg.c */
    [LX_msgsnd] = do_msgsnd, [LX_msgrcv] = do_msgrcv,         [LX_msgctl] = do_msgctl,
    [LX_semget] = do_semget, /* semaphores: sem.c */
    [LX_semop] = do_semop,   [LX_semtimedop] = do_semtimedop, [LX_semctl] = do_semctl,
    [LX_shmget] = do_shmget, /* shared memory: shm.c */
    [LX_shmat] = do_shmat,   [LX_shmdt] = do_shmdt,           [LX_shmctl] = do_shmctl,
};

static void refuse(const message_t *m, const char *why, int reply_type, int64_t err)
{
    service_refuse("ipc", m, why);
    message_t r = {.type = reply_type, .u.w = {(uint64_t)err}};
    if (reply_type && m->source > 0)
        reply_hold(m->source, &r);
}

static void linux_call(const message_t *m)
{
    struct sproc *p = sproc_of(m->source);
    uint64_t nr = m->u.lx.nr;
    if (!p || p->wait != S_NONE) {
        refuse(m, p ? "a call while one waits" : "not a Linux process pm announced",
               MSG_LINUX_REPLY, -LX_ENOSYS);
        return;
    }
    int64_t r = nr < LX_NR_MAX && calls[nr] ? calls[nr](p, m->u.lx.arg) : -LX_ENOSYS;
    if (r != SUSPEND)
        answer(p, r);
    alarm_rearm();
}

static struct sproc *sproc_new(endpoint_t ep)
{
    struct sproc *p = sproc_of(ep);
    for (int i = 0; !p && i < NR_SPROCS; i++)
        if (!sprocs[i].ep)
            p = &sprocs[i];
    return p;
}

/* Does another thread of p's process (pm gives each its process's pid) remain? */
static int process_lives_on(const struct sproc *p)
{
    for (int i = 0; i < NR_SPROCS; i++)
        if (sprocs[i].ep && &sprocs[i] != p && sprocs[i].pid == p->pid)
            return 1;
    return 0;
}

static int64_t pm_request(const message_t *m)
{
    const union msg_sysv *q = &m->u.sysv;
    struct sproc *p = sproc_of(q->proc.ep);
    switch (m->type) {
    case SYSV_FORK: {
        struct sproc *parent = sproc_of(q->fork.parent);
        struct cred c;
        if (q->fork.child <= 0 || sys_safecopy_from(m->source, q->fork.grant, 0, &c, sizeof(c)) < 0)
            return -LX_EINVAL;
        if (sproc_of(q->fork.child))
            return 0; /* told again by pm after a death of ours that kept it */
        struct sproc *child = sproc_new(q->fork.child);
        if (!child)
            return -LX_EAGAIN;
        state_old(child, offsetof(struct sproc, wait));
        memset(child, 0, sizeof(*child));
        child->ep = q->fork.child;
        child->pid = q->fork.pid;
        child->cred = c;
        return parent ? shm_fork(parent, child) : 0;
    }
    case SYSV_SETCRED:
        if (p)
            state_old(&p->cred, sizeof(p->cred));
        if (!p || sys_safecopy_from(m->source, q->setcred.grant, 0, &p->cred, sizeof(p->cred)) < 0)
            return -LX_EINVAL;
        return 0;
    case SYSV_CANCEL:
        if (!p || p->wait == S_NONE)
            return 0;
        end_wait(p, -LX_EINTR); /* System V waits are never restarted after a handler */
        alarm_rearm();
        finish(); /* its answer before pm's */
        return 1;
    case SYSV_EXEC:
        if (p)
            shm_detach_all(p);
        return 0;
    case SYSV_EXIT: /* the last of a process's threads takes its undo and attachments along */
        if (p) {
            p->wait = S_NONE;
            p->deadline = 0;
            if (!process_lives_on(p)) {
                sem_exit(p);
                shm_detach_all(p);
            }
            state_old(&p->ep, sizeof(p->ep));
            p->ep = 0;
            alarm_rearm();
        }
        return 0;
    }
    return -LX_ENOSYS;
}

/*
 * A SYSV_* request from ep, not the pm we know: if root names ep pm, pm was
 * restarted (docs/REINCARNATION.md, "Core servers: vfs and pm"). A pm that
 * kept its tables keeps its processes: those still alive stay as they are.
 * One that started fresh has killed every process the last instance made:
 * each dead one is gone, as at SYSV_EXIT (its semaphore adjustments undone,
 * its shared memory detached). The objects themselves stay. 1 if ep is pm now.
 */
static int pm_restarted(endpoint_t ep)
{
    if (ep <= 0 || root_lookup("pm") != ep)
        return 0;
    int n = 0;
    for (int i = 0; i < NR_SPROCS; i++) {
        struct proc_info info;
        if (sprocs[i].ep && sys_proc_info(sprocs[i].ep, &info) == 0 && !(info.state & PS_ZOMBIE))
            continue; /* alive: a kept pm's */
        if (sprocs[i].ep) {
            sprocs[i].wait = S_NONE;
            sprocs[i].deadline = 0;
            sem_exit(&sprocs[i]);
            shm_detach_all(&sprocs[i]);
            state_old(&sprocs[i].ep, sizeof(sprocs[i].ep));
            sprocs[i].ep = 0;
            finish(); /* one process at a time: the log holds one's changes */
            n++;
        }
    }
    alarm_rearm();
    if (pm_ep > 0 && n)
        printf("ipc: pm restarted: the %d processes of its last instance are gone\n", n);
    state_old(&pm_ep, sizeof(pm_ep));
    pm_ep = ep;
    return 1;
}

static void dispatch(message_t *m)
{
    if (m->source == SYSTEM && m->type == MSG_NOTIFY) {
        if (m->u.notify.bits & NOTIFY_ALARM)
            for (int i = 0; i < NR_SPROCS; i++) /* semtimedop's time is up */
                if (sprocs[i].ep && sprocs[i].wait != S_NONE && sprocs[i].deadline &&
                    sprocs[i].deadline <= sys_uptime())
                    end_wait(&sprocs[i], -LX_EAGAIN);
        alarm_rearm();
        finish();
        return;
    }
    if (m->type == MSG_LINUX_CALL) {
        linux_call(m);
        finish();
        return;
    }
    if (IS_SYSV_RQ(m->type)) {
        if (m->source != pm_ep && !pm_restarted(m->source)) {
            refuse(m, "only pm tells of processes", SYSV_REPLY, -LX_EPERM);
            return;
        }
        message_t r = {.type = SYSV_REPLY};
        r.u.sysv.reply.result = pm_request(m);
        finish();
        reply_hold(m->source, &r);
        return;
    }
    refuse(m, "not a request ipc serves", 0, 0);
}

/*
 * The objects from the state region (docs/IPC-SYSV.md, "Restarts"), or a
 * fresh start. Kept: every Linux process pm told of, with its ids, stays
 * known; no call waits any more (the kernel answered each waiting caller
 * with EINTR when the last instance died), so a wait's fields are cleared.
 */
static void start(void)
{
    int kept = state_start();
    ipc_arena.mem = (uint64_t *)ST_ARENA;
    ipc_arena.size = ST_ARENA_SIZE;
    arena_before = state_old;
    int procs = 0, waited = 0;
    for (int i = 0; i < NR_SPROCS; i++) {
        struct sproc *p = &sprocs[i];
        procs += p->ep != 0;
        waited += p->ep && p->wait != S_NONE;
        p->wait = S_NONE;
        p->deadline = 0;
    }
    int q = msg_start(kept), s = sem_start(kept), m = shm_start(kept);
    state_commit();
    if (kept)
        printf("ipc: objects kept across a restart: %d queues, %d semaphore sets, %d segments, "
               "%d processes (%d waited: EINTR)\n",
               q, s, m, procs, waited);
}

int main(void)
{
    start();
    service_startup("ipc", 0);
    for (;;) {
        message_t m;
        if (service_receive(&m) == 0)
            dispatch(&m);
    }
}
