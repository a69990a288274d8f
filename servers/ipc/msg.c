/*
 * Message queues: msgget, msgsnd, msgrcv, msgctl, with Linux's limits and
 * errors (MSGMAX 8192 bytes a message, MSGMNB 16384 bytes a queue by
 * default; MSGMNI is 256 here, not Linux's 32000). A message's text is read
 * from the sender when it is queued and lives in the arena; a full queue or
 * an empty one suspends the caller (unless IPC_NOWAIT), and every change to
 * a queue retries its waiters, first come first served.
 */
#include "ipc.h"

#define MSGMNI 256
#define MSGMAX 8192
#define MSGMNB 16384
#define MSG_NOERROR 010000
#define MSG_EXCEPT 020000
#define MSG_COPY 040000

/* Linux's struct msqid64_ds (x86-64) */
struct lx_msqid_ds {
    struct lx_ipc_perm perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused[2];
};
_Static_assert(sizeof(struct lx_msqid_ds) == 120, "struct msqid64_ds is 120 bytes");

struct qmsg {
    struct qmsg *next;
    int64_t type;
    uint64_t len;
    char text[];
};

struct queue {
    struct ipc_obj o;
    struct qmsg *head, *tail;
    uint64_t cbytes, qnum, qbytes;
    int64_t stime, rtime, ctime;
    int32_t lspid, lrpid;
};

/* In the state region (ipc.h): kept across a restart. */
struct msg_state {
    struct ipc_kind kind;
    struct queue queues[MSGMNI];
};
_Static_assert(ST_MSG + sizeof(struct msg_state) <= ST_SEM, "msg.c's tables outgrew their part");
#define MS ((struct msg_state *)ST_MSG)
#define kind (MS->kind)
static char text[MSGMAX];

int msg_start(int kept)
{
    kind = (struct ipc_kind){MS->queues, sizeof(struct queue), MSGMNI, kept ? kind.seq : 0};
    int n = 0;
    for (int i = 0; i < MSGMNI; i++)
        n += MS->queues[i].o.used;
    return n;
}

static int64_t queue_create(void *obj)
{
    struct queue *q = obj;
    q->qbytes = MSGMNB;
    q->ctime = (int64_t)now_seconds();
    return 0;
}

int64_t do_msgget(struct sproc *p, const uint64_t *a)
{
    return ipc_get(&kind, p, (int32_t)a[0], (int)a[1], 0, queue_create);
}

/* msgsnd(id, msgp, size, flags): 0, -errno, or SUSPEND if the queue has no room. */
static int64_t send_try(struct sproc *p)
{
    int32_t id = (int32_t)p->a[0];
    uint64_t msgp = p->a[1], size = p->a[2];
    int64_t type;
    if (copy_in(p, msgp, &type, sizeof(type)) < 0)
        return -LX_EFAULT;
    if (size > MSGMAX || id < 0 || type < 1)
        return -LX_EINVAL;
    if (msgp > UINT64_MAX - 8 || copy_in(p, msgp + 8, text, size) < 0)
        return -LX_EFAULT;
    struct queue *q = ipc_lookup(&kind, id);
    if (!q)
        return -LX_EINVAL;
    if (ipc_perms(p, &q->o, S_IWUGO) < 0)
        return -LX_EACCES;
    if (size > q->qbytes - (q->cbytes < q->qbytes ? q->cbytes : q->qbytes) || q->qnum >= q->qbytes)
        return (int)p->a[3] & IPC_NOWAIT ? -LX_EAGAIN : SUSPEND;
    struct qmsg *m = arena_alloc(&ipc_arena, sizeof(*m) + size);
    if (!m)
        return -LX_ENOMEM;
    *m = (struct qmsg){0, type, size};
    memcpy(m->text, text, size);
    state_old(q, sizeof(*q));
    if (q->tail)
        state_old(&q->tail->next, sizeof(q->tail->next));
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->cbytes += size;
    q->qnum++;
    q->lspid = p->pid;
    q->stime = (int64_t)now_seconds();
    return 0;
}

/* The message msgrcv's type selects, and the one before it (0 if it is the first). */
static struct qmsg *select_msg(struct queue *q, int64_t type, int flg, struct qmsg **prev)
{
    struct qmsg *found = 0, *before = 0, *last = 0;
    uint64_t bound = type == INT64_MIN ? INT64_MAX : (uint64_t)(type < 0 ? -type : type);
    for (struct qmsg *m = q->head; m; last = m, m = m->next) {
        int fits = type == 0                      ? 1
                   : type > 0 && flg & MSG_EXCEPT ? m->type != type
                   : type > 0                     ? m->type == type
                              : (uint64_t)m->type <= bound && (!found || m->type < found->type);
        if (fits) {
            found = m, before = last;
            if (type >= 0)
                break;
        }
    }
    *prev = before;
    return found;
}

/* msgrcv(id, msgp, size, type, flags): the length received, -errno, or SUSPEND. */
static int64_t receive_try(struct sproc *p)
{
    int32_t id = (int32_t)p->a[0];
    uint64_t msgp = p->a[1], size = p->a[2];
    int flg = (int)p->a[4];
    if (id < 0 || (int64_t)size < 0)
        return -LX_EINVAL;
    if (flg & MSG_COPY)
        return -LX_ENOSYS;
    struct queue *q = ipc_lookup(&kind, id);
    if (!q)
        return -LX_EINVAL;
    if (ipc_perms(p, &q->o, S_IRUGO) < 0)
        return -LX_EACCES;
    struct qmsg *prev, *m = select_msg(q, (int64_t)p->a[3], flg, &prev);
    if (!m)
        return flg & IPC_NOWAIT ? -LX_ENOMSG : SUSPEND;
    if (m->len > size && !(flg & MSG_NOERROR))
        return -LX_E2BIG;
    uint64_t n = m->len < size ? m->len : size;
    if (copy_out(p, msgp, &m->type, sizeof(m->type)) < 0 || msgp > UINT64_MAX - 8 ||
        copy_out(p, msgp + 8, m->text, n) < 0)
        return -LX_EFAULT; /* the message stays queued */
    state_old(q, sizeof(*q));
    if (prev)
        state_old(&prev->next, sizeof(prev->next));
    if (prev)
        prev->next = m->next;
    else
        q->head = m->next;
    if (q->tail == m)
        q->tail = prev;
    q->cbytes -= m->len;
    q->qnum--;
    q->lrpid = p->pid;
    q->rtime = (int64_t)now_seconds();
    arena_release(m);
    return (int64_t)n;
}

/* A queue changed: let its waiting receivers and senders through while any can go. */
static void settle(int qi)
{
    while (wake_waiters(S_MSGRCV, qi, receive_try) + wake_waiters(S_MSGSND, qi, send_try))
        ;
}

static int64_t call(struct sproc *p, const uint64_t *a, enum swait w,
                    int64_t (*try)(struct sproc *p))
{
    memcpy(p->a, a, sizeof(p->a)); /* what the try reads, and a retry later */
    int64_t r = try(p);
    struct queue *q = ipc_lookup(&kind, (int32_t)a[0]);
    if (r == SUSPEND)
        suspend(p, w, ipc_index(&kind, q), a);
    else if (r >= 0)
        settle(ipc_index(&kind, q));
    return r;
}

int64_t do_msgsnd(struct sproc *p, const uint64_t *a)
{
    return call(p, a, S_MSGSND, send_try);
}

int64_t do_msgrcv(struct sproc *p, const uint64_t *a)
{
    return call(p, a, S_MSGRCV, receive_try);
}

int64_t do_msgctl(struct sproc *p, const uint64_t *a)
{
    int32_t id = (int32_t)a[0];
    int cmd = (int)a[1];
    struct lx_msqid_ds ds;
    if (id < 0 || (cmd != IPC_STAT && cmd != IPC_SET && cmd != IPC_RMID))
        return -LX_EINVAL;
    if (cmd == IPC_SET && copy_in(p, a[2], &ds, sizeof(ds)) < 0)
        return -LX_EFAULT;
    struct queue *q = ipc_lookup(&kind, id);
    if (!q)
        return -LX_EINVAL;
    int qi = ipc_index(&kind, q);
    if (cmd == IPC_STAT) {
        if (ipc_perms(p, &q->o, S_IRUGO) < 0)
            return -LX_EACCES;
        ds = (struct lx_msqid_ds){q->o.perm, q->stime,  q->rtime, q->ctime, q->cbytes,
                                  q->qnum,   q->qbytes, q->lspid, q->lrpid, {0, 0}};
        return copy_out(p, a[2], &ds, sizeof(ds));
    }
    if (ipc_owner(p, &q->o) < 0)
        return -LX_EPERM;
    if (cmd == IPC_SET) {
        if (ds.qbytes > MSGMNB && p->cred.euid != 0)
            return -LX_EPERM; /* raising the limit is CAP_SYS_RESOURCE's */
        state_old(q, sizeof(*q));
        ipc_set_perm(&q->o, &ds.perm);
        q->qbytes = ds.qbytes;
        q->ctime = (int64_t)now_seconds();
        settle(qi); /* more room, or other rights */
        return 0;
    }
    for (struct qmsg *m = q->head, *next; m; m = next) {
        next = m->next;
        arena_release(m);
    }
    state_old(q, sizeof(*q));
    q->o.used = 0;
    fail_waiters(S_MSGSND, qi, -LX_EIDRM);
    fail_waiters(S_MSGRCV, qi, -LX_EIDRM);
    return 0;
}
