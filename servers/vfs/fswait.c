/*
 * Requests to file-system servers, and the calls that wait for a busy one
 * (docs/FILESYSTEMS.md, "When a file server waits for its driver").
 *
 * A request is a sendrec bounded by FS_TIMEOUT_MS. A server that must wait
 * for its block driver answers at once FS_SUSPENDED (lib/fsdriver), goes on
 * with the request, and notifies vfs when it is finished; vfs takes the
 * reply with FS_RESULT. Meanwhile the server is *busy* (struct busy): vfs
 * sends it nothing, so vfs never blocks on it.
 *
 * A Linux call that meets a busy server (its own request was suspended, or
 * the server was busy already) is suspended (WAIT_FS) and run again from
 * its message when the server is idle; vfs serves everyone else meanwhile.
 * A call changes things only at its end, so a rerun is safe, and it is
 * made faithful by a log: every request of a call and its reply is
 * recorded (run_log), and the rerun of the call whose request was suspended
 * (the owner) is answered from that log, in order, instead of asking again:
 * the suspended request's kept reply (so a create that happened is not made
 * twice), and every earlier reply that hands over no inode reference and
 * wrote no buffer (an ENOENT of a lookup, an unlink), so the rerun sees
 * the tree as the first run did. Lookups that found a node, and requests
 * whose data went through a buffer (stat, read, getdents, readlink, write),
 * are asked again: a reference counts once, and a buffer of vfs's is
 * reused by others meanwhile (its grant was freed when the call unwound).
 *
 * Requests that are not part of a Linux call (pm's exec and shutdown, the
 * boot's mounts) wait for a busy server in place (wait_idle: its
 * notification, or its death), as before. FS_PUTNODE never waits: to a busy
 * server it is queued and sent when the server is idle.
 *
 * Replay (docs/FILESYSTEMS.md, "Replay"): a Linux call whose request finds
 * its server dead (E_DEADEP: it died before or while serving it) waits too
 * (WAIT_FS on the dead endpoint, at most REPLAY_WAIT_MS), and when rs's new
 * instance is bound to the mount (fswait_server_back) the call runs again
 * against it, with fresh grants (the rerun makes its own). A request that
 * must not run twice (replay_safe) marks the call fs_unsafe: it then runs
 * again only if the new instance says it kept its state with the request in
 * flight rolled back (FS_MOUNT's `kept`); else it ends with EIO. Whether
 * such a request was committed before its server died is asked of the new
 * instance (FS_LAST, ask_last: the record of the last request it committed,
 * lib/fsdriver), so the call ends as its request did, once.
 */
#include "vfs.h"

#define FS_LOG_MAX 64       /* requests of one call kept for its rerun (and name-cache answers) */
#define NR_LOGS 16          /* owners' logs: one per busy server, and room for reruns */
#define NR_BUSY 8           /* busy servers (one per mount) */
#define PUTQ_MAX 128        /* put-nodes queued for one busy server */
#define REPLAY_WAIT_MS 3000 /* a call waits this long for a dead server's new instance */

struct fs_logged {
    endpoint_t fs;
    int type;
    uint64_t key;    /* the request's first word (the inode or directory) */
    message_t reply; /* the whole reply */
};

struct fs_log {
    endpoint_t owner; /* 0: free */
    int n;            /* entries; the last is the suspended request until complete */
    int complete;     /* the suspended request's reply is in */
    int spent;        /* that reply was used by a rerun */
    uint64_t seq;     /* the last entry's sequence number (0: none, or a write that waited) */
    struct fs_logged e[FS_LOG_MAX];
};

/* A server that answered FS_SUSPENDED and has not given its reply yet. */
struct busy {
    endpoint_t ep;    /* 0: free */
    endpoint_t owner; /* the process whose request it holds (0: vfs's own, or it is gone) */
    int type;         /* that request's */
    int unsafe;       /* it must not run twice (replay_safe) */
    uint64_t seq;     /* its sequence number (0: untagged) */
    uint64_t put;     /* the inode an FS_UNLINK or FS_RMDIR gives back a reference to (0: none) */
};

/* A server that became idle: its queued put-nodes go out, its waiters run again. */
struct idle {
    endpoint_t ep;
    int nput;
    uint64_t put[PUTQ_MAX]; /* FS_PUTNODE of these inodes, queued while it was busy */
};

static struct busy busy[NR_BUSY];
static struct idle idle[NR_BUSY]; /* [i]: busy[i]'s server; its queue fills while busy */
static struct fs_log logs[NR_LOGS];
static struct fs_log run_log; /* the requests of the Linux call being served */
static int run_logging;       /* run_log records (a Linux call is served) */
static struct fs_log *replay; /* the log a rerun is answered from, and where it is */
static int replay_at;
static int answer_replayed; /* the last request was answered from the log */
static uint64_t sent;       /* requests that reached a server (or were answered from a log) */
static int idle_pending;    /* some idle[] waits for fswait_resume */
static int dead_met;        /* a request that is no Linux call's found its server dead */

/* Put-nodes lost with a dead server (sent to it, or queued while it was busy): a new instance
 * that kept the state hears them again (fswait_puts_again), so the last put of an inode unlinked
 * while open still frees it. */
#define LOST_MAX 64
static struct {
    endpoint_t fs;
    uint64_t ino;
} lost[LOST_MAX];
static int nlost;

static void put_lost(endpoint_t fs, uint64_t ino)
{
    if (nlost < LOST_MAX)
        lost[nlost++] = (typeof(lost[0])){fs, ino};
    else
        printf("vfs: %d put-nodes lost with file server %d: inode %lu stays\n", LOST_MAX, fs, ino);
}

static struct busy *busy_of(endpoint_t ep)
{
    for (int i = 0; i < NR_BUSY; i++)
        if (busy[i].ep && busy[i].ep == ep)
            return &busy[i];
    return 0;
}

/* Owners' logs in use (owner set): nearly always none, and then every Linux call's three looks
 * (fswait_begin, fswait_end, log_free) cost no scan. */
static int logs_used;

static struct fs_log *log_of(endpoint_t owner)
{
    for (int i = 0; logs_used && i < NR_LOGS; i++)
        if (logs[i].owner && logs[i].owner == owner)
            return &logs[i];
    return 0;
}

/* The reply hands over an inode reference (given back with FS_PUTNODE). */
static int holds_node(int type, const message_t *reply)
{
    return (type == FS_LOOKUP || type == FS_CREATE || type == FS_SYMLINK || type == FS_MOUNT) &&
           reply->u.fs.reply.result >= 0;
}

/* The request's data came back through a buffer (its grant), not in the reply alone. */
static int through_buffer(int type)
{
    return type == FS_STAT || type == FS_READ || type == FS_WRITE || type == FS_GETDENTS ||
           type == FS_READLINK || type == FS_STATFS || type == FS_WALK;
}

static uint64_t key_of(const message_t *m)
{
    return m->type == FS_STATFS ? 0 : m->u.w[0]; /* statfs's first word is a grant */
}

/* Give back the reference a reply no one will use holds. */
static void drop_reply(endpoint_t fs, int type, const message_t *reply)
{
    if (holds_node(type, reply))
        fs_putnode(fs, reply->u.fs.node.ino);
}

/* Free owner's log; a kept reply it did not use gives its reference back. */
static void log_free(endpoint_t owner)
{
    struct fs_log *l = log_of(owner);
    if (!l)
        return;
    if (l->complete && !l->spent && l->n)
        drop_reply(l->e[l->n - 1].fs, l->e[l->n - 1].type, &l->e[l->n - 1].reply);
    l->owner = 0;
    logs_used--;
}

static int is_lookup(int type)
{
    return type == FS_LOOKUP || type == FS_WALK;
}

/* The log's next entry is request m to fs. */
static int next_is(endpoint_t fs, const message_t *m)
{
    const struct fs_logged *e = replay_at < replay->n ? &replay->e[replay_at] : 0;
    return e && e->fs == fs && e->type == m->type && e->key == key_of(m);
}

/*
 * The answer a rerun takes from the log for request m to fs, if any: 1 and *m is the reply.
 * Lookups may differ between the runs (the name cache answered one run and not the other): a
 * lookup the log does not have next is asked, and a request that changes something steps over
 * the logged lookups before it to find its own entry.
 */
static int replayed(endpoint_t fs, message_t *m)
{
    if (!replay)
        return 0;
    while (!is_lookup(m->type) && replay_at < replay->n && is_lookup(replay->e[replay_at].type) &&
           !next_is(fs, m))
        replay_at++;
    if (!next_is(fs, m)) {
        if (!is_lookup(m->type))
            replay = 0; /* the rerun went another way: everything from here is asked */
        return 0;
    }
    const struct fs_logged *e = &replay->e[replay_at++];
    int kept = replay_at == replay->n && replay->complete && !replay->spent;
    if (kept && holds_node(e->type, &e->reply))
        replay->spent = 1; /* its reference is used now, once */
    if (!kept && (holds_node(e->type, &e->reply) || through_buffer(e->type)))
        return 0;
    if (kept && through_buffer(e->type) && !(e->type == FS_WRITE && replay->seq))
        return 0; /* its grant was freed when the call unwound: asked again */
    *m = e->reply;
    return 1;
}

static void record(endpoint_t fs, int type, uint64_t key, const message_t *reply)
{
    if (run_logging && run_log.n < FS_LOG_MAX)
        run_log.e[run_log.n++] = (struct fs_logged){fs, type, key, *reply};
}

static struct busy *busy_new(endpoint_t fs, endpoint_t owner, int type, int unsafe, uint64_t seq,
                             uint64_t put)
{
    for (int i = 0; i < NR_BUSY; i++)
        if (!busy[i].ep && !idle[i].ep) {
            busy[i] = (struct busy){fs, owner, type, unsafe, seq, put};
            idle[i].nput = 0;
            return &busy[i];
        }
    return 0; /* cannot be: one per mount */
}

/* The server is idle again: its put-nodes and waiters go on (fswait_resume, main loop). */
static void busy_end(struct busy *b)
{
    idle[b - busy].ep = b->ep;
    b->ep = 0;
    idle_pending = 1;
}

/*
 * FS_RESULT to b's server, which notified that it finished: the reply goes
 * into *out (when given: vfs's own request) or the owner's log. 1 if it was
 * there (the server is idle now), 0 if not yet.
 */
static int take_result(struct busy *b, message_t *out)
{
    message_t m = {.type = FS_RESULT};
    keep_seal(); /* the server gives its result once */
    int r = ipc_sendrec_bounded(b->ep, &m, FS_TIMEOUT_MS);
    if (r == 0 && m.type == FS_REPLY && m.u.fs.reply.result == -LX_EAGAIN)
        return 0; /* a stray notification: still busy */
    if (r < 0 || m.type != FS_REPLY)
        m = (message_t){.type = FS_REPLY, .u.fs.reply.result = -LX_EIO};
    struct fs_log *l = b->owner ? log_of(b->owner) : 0;
    if (out) {
        *out = m;
    } else if (l && l->n) {
        l->e[l->n - 1].reply = m;
        l->complete = 1;
    } else { /* its caller is gone (a signal, an exit): a reference it holds goes back */
        drop_reply(b->ep, b->type, &m);
    }
    busy_end(b);
    return 1;
}

/* A notification from ep: 1 if it is a busy server's (its reply is taken), else 0. */
int fswait_notified(endpoint_t ep)
{
    struct busy *b = busy_of(ep);
    if (!b)
        return 0;
    take_result(b, 0);
    return 1;
}

/*
 * Wait in place until b's server finishes (its notification) or dies, for a
 * request that is no Linux call's. *out: the reply if the request was ours.
 */
static void wait_idle(struct busy *b, message_t *out)
{
    while (b->ep) {
        message_t n;
        if (ipc_receive(b->ep, &n) < 0) { /* it died: what it held is lost */
            if (out)
                *out = (message_t){.type = FS_REPLY, .u.fs.reply.result = -LX_EIO};
            busy_end(b);
            return;
        }
        if (n.type == MSG_NOTIFY && take_result(b, out))
            return;
    }
}

/* An O_APPEND write is being sent (file_rw): its offset is the size the server says, so it
 * cannot run twice. */
static int appending;

void fswait_appending(int on)
{
    appending = on;
}

/* open, openat and creat without O_EXCL: a create that runs again finds the file it made. */
static int creating_open(const struct vproc *p)
{
    uint64_t nr = p->call.u.lx.nr;
    const uint64_t *a = p->call.u.lx.arg;
    uint64_t flags = nr == LX_open ? a[1] : nr == LX_openat ? a[2] : 0;
    return nr == LX_creat || ((nr == LX_open || nr == LX_openat) && !(flags & O_EXCL));
}

/*
 * Request type of p's call may be sent again to a new instance that started fresh (lost what
 * the dead one did): it reads, or it sets something to a value the request names (docs/
 * FILESYSTEMS.md, "Replay", the table). Creates other than open's, links, unlinks, renames and
 * an O_APPEND write would see their own first run (EEXIST, ENOENT, the bytes twice).
 */
static int replay_safe(const struct vproc *p, int type)
{
    switch (type) {
    case FS_LOOKUP:
    case FS_WALK:
    case FS_STAT:
    case FS_READ:
    case FS_GETDENTS:
    case FS_READLINK:
    case FS_STATFS:
    case FS_SYNC:
    case FS_TRUNC:
    case FS_CHMOD:
    case FS_CHOWN:
    case FS_UTIME:
    case FS_MOUNT:
    case FS_PUTNODE:
        return 1;
    case FS_WRITE:
        return !appending;
    case FS_CREATE:
        return creating_open(p);
    default: /* FS_SYMLINK, FS_LINK, FS_UNLINK, FS_RMDIR, FS_RENAME, FS_UNMOUNT */
        return 0;
    }
}

/*
 * Exact replay (docs/FILESYSTEMS.md, "Replay"): every request that may not run twice carries a
 * sequence number (msg_fs_tag), which a server with a record (lib/fsdriver: ramfs, ext2) stores
 * with its reply in the commit of the request's changes. When such a request dies with its
 * server, the call's log is kept with the request last (log_keep); the new instance, if it kept
 * the state, is asked whether that request was the last one it committed (FS_LAST, ask_last): if
 * so its recorded reply completes the log and the rerun is answered from it, as a suspended
 * request's kept reply is; if not, it never happened and the rerun makes it. Sequence numbers:
 * vfs's endpoint (new with each vfs instance) above a count of this instance's requests.
 */
static uint32_t seq_count;

static int recorded_type(int type)
{
    return type == FS_CREATE || type == FS_SYMLINK || type == FS_LINK || type == FS_UNLINK ||
           type == FS_RMDIR || type == FS_RENAME || (type == FS_WRITE && appending);
}

/* The sequence number of p's request m to fs: the one of the same request its log holds (it
 * died with a server and is asked again: the server answers its record), else a new one. */
static uint64_t seq_of(struct vproc *p, endpoint_t fs, const message_t *m)
{
    struct fs_log *l = p ? log_of(p->ep) : 0;
    const struct fs_logged *e = l && l->seq ? &l->e[l->n - 1] : 0;
    if (e && e->fs == fs && e->type == m->type && e->key == key_of(m)) {
        l->spent = 1; /* the server's record answers: the log's copy is not used too */
        return l->seq;
    }
    if (++seq_count == 0)
        seq_count = 1;
    return (uint64_t)(uint32_t)self_ep << 32 | seq_count;
}

/* p's call's requests so far (run_log) and the request of this type in flight last become its
 * log, to answer its rerun from (complete when the reply is in); 0 if there is no room. */
static struct fs_log *log_keep(struct vproc *p, endpoint_t fs, int type, uint64_t key, uint64_t seq)
{
    message_t none = {.type = FS_REPLY};
    log_free(p->ep);
    if (run_log.n >= FS_LOG_MAX)
        return 0; /* the request would not be its last entry */
    record(fs, type, key, &none);
    struct fs_log *l = 0;
    for (int i = 0; i < NR_LOGS && !l; i++)
        if (!logs[i].owner)
            l = &logs[i];
    if (!l || !run_log.n || run_log.e[run_log.n - 1].type != type)
        return 0;
    *l = run_log;
    l->owner = p->ep;
    l->complete = l->spent = 0;
    l->seq = seq;
    logs_used++;
    return l;
}

/*
 * p's call lost its tagged request (its log's last entry) with server old; now, the new instance,
 * kept the state: did it commit the request? Yes: its recorded reply completes the log (the log's
 * entries name now). No: the log goes (the rerun asks everything). Either way the outcome is
 * known, so the call is no longer unsafe; a server with no record (ENOSYS) leaves it so.
 */
static void ask_last(struct vproc *p, struct fs_log *l, endpoint_t old, endpoint_t now)
{
    struct fs_logged *e = &l->e[l->n - 1];
    message_t m = {.type = FS_LAST, .u.fs.last = {l->seq, (uint64_t)e->type}};
    int r = ipc_sendrec_bounded(now, &m, FS_TIMEOUT_MS);
    int64_t result = r == 0 && m.type == FS_REPLY ? m.u.fs.reply.result : -LX_EIO;
    if (result == -LX_ENOSYS || result == -LX_EIO || result == FS_SUSPENDED) {
        log_free(p->ep);
        return;
    }
    p->fs_unsafe = 0;
    if (result == FS_NOT_LAST) {
        log_free(p->ep);
        return;
    }
    for (int i = 0; i < l->n; i++)
        if (l->e[i].fs == old)
            l->e[i].fs = now;
    e->reply = m;
    l->complete = 1;
}

/*
 * p's request to fs found it dead: p's call waits for the new instance (fswait_server_back
 * runs it again), at most REPLAY_WAIT_MS from the first death it met, then EIO.
 */
static int64_t wait_for_instance(struct vproc *p, endpoint_t fs, int unsafe)
{
    uint64_t now = sys_uptime();
    if (!p->fs_deadline)
        p->fs_deadline = now + REPLAY_WAIT_MS;
    if (now >= p->fs_deadline || mount_gone_ms(fs) > REPLAY_WAIT_MS) {
        printf("vfs: file server (endpoint %d) is dead and no new instance came: EIO\n", fs);
        return -LX_EIO;
    }
    p->fs_unsafe |= unsafe;
    log_free(p->ep); /* its log's replies are the dead instance's */
    p->fs_wait = fs;
    suspend(p, WAIT_FS);
    timers_arm();
    return SUSPEND;
}

/*
 * One request to a file-system server; its result (>= 0 or -errno), or
 * SUSPEND when the Linux call being served must wait for the server (the
 * process is suspended WAIT_FS: the caller gives up its work and the call
 * runs again later). putnode: never wait (queued for a busy server).
 */
static int64_t request(endpoint_t fs, message_t *m, int putnode)
{
    /* procfs_caller is set for pm's exec too (exec_load: /proc/self), which is no Linux call of
     * p's: its requests wait in place, and a dead server is its caller's to retry. */
    struct vproc *p = putnode || !run_logging ? 0 : procfs_caller;
    if (p && p->wait == WAIT_FS)
        return SUSPEND; /* this run waits already: nothing more is asked */
    int type = m->type;
    uint64_t key = key_of(m);
    answer_replayed = p && replayed(fs, m);
    sent += answer_replayed;
    if (answer_replayed) {
        record(fs, type, key, m);
        return m->u.fs.reply.result;
    }
    struct busy *b = busy_of(fs);
    if (b && putnode) {
        struct idle *q = &idle[b - busy];
        if (q->nput < PUTQ_MAX)
            q->put[q->nput++] = m->u.fs.putnode.ino;
        else
            printf("vfs: %d put-nodes wait for file server %d: inode %lu dropped\n", PUTQ_MAX, fs,
                   m->u.fs.putnode.ino);
        return 0;
    }
    if (b && p) {
        p->fs_wait = fs;
        suspend(p, WAIT_FS);
        return SUSPEND;
    }
    if (b)
        wait_idle(b, 0);
    int unsafe = p && !replay_safe(p, type);
    uint64_t seq = m->u.fs.tag.seq = recorded_type(type) ? seq_of(p, fs, m) : 0;
    /* a removal carries the name cache's put-node (fs_remove): lost if the server dies in it */
    uint64_t put = type == FS_UNLINK || type == FS_RMDIR ? m->u.fs.unlink.put : 0;
    sent++; /* a bounded wait that times out may have reached it: counted */
    if (type != FS_LOOKUP && type != FS_WALK && type != FS_STAT && type != FS_READ &&
        type != FS_GETDENTS && type != FS_READLINK && type != FS_STATFS)
        keep_seal();        /* a change in the server: this call's table stores cannot be undone */
    int was = keep_busy(0); /* the tables change after the answer: a death here keeps them */
    int r = ipc_sendrec_bounded(fs, m, FS_TIMEOUT_MS);
    keep_busy(was);
    if (r == -E_DEADEP && (putnode || put))
        put_lost(fs, putnode ? m->u.fs.putnode.ino : put);
    if (r == -E_DEADEP && p) {
        int64_t w = wait_for_instance(p, fs, unsafe);
        if (w == SUSPEND && seq) /* it may have been committed: its log says what came before */
            log_keep(p, fs, type, key, seq);
        return w;
    }
    dead_met |= r == -E_DEADEP;
    if (r == -E_TIMEDOUT)
        printf("vfs: file server (endpoint %d) did not answer request 0x%x in %d ms: EIO\n", fs,
               type, FS_TIMEOUT_MS);
    if (r < 0 || m->type != FS_REPLY)
        return -LX_EIO;
    if (m->u.fs.reply.result != FS_SUSPENDED) {
        if (p)
            record(fs, type, key, m);
        return m->u.fs.reply.result;
    }
    /* The server waits for its driver: it finishes the request later. */
    /* A write that waits goes on copying from a grant its call frees as it unwinds: its reply
     * (and the record of it) may not stand for the call's data, so its rerun asks again. */
    if (type == FS_WRITE)
        seq = 0;
    b = busy_new(fs, p ? p->ep : 0, type, unsafe, seq, put);
    if (!b)
        return -LX_EIO;
    if (!p) { /* vfs's own request: a put-node goes on, anything else waits here */
        if (!putnode)
            wait_idle(b, m);
        return putnode ? 0 : m->u.fs.reply.result;
    }
    if (!log_keep(p, fs, type, key, seq))
        b->owner = 0; /* no room to keep it: the rerun asks again */
    p->fs_wait = fs;
    suspend(p, WAIT_FS);
    return SUSPEND;
}

int64_t fs_call(endpoint_t fs, message_t *m)
{
    if (fs == PROCFS_EP)
        return procfs_request(m);
    return request(fs, m, 0);
}

int64_t fs_putnode(endpoint_t fs, uint64_t ino)
{
    message_t m = {.type = FS_PUTNODE, .u.fs.putnode = {ino}};
    if (fs == PROCFS_EP)
        return procfs_request(&m);
    return request(fs, &m, 1);
}

/*
 * The name cache answered a lookup in directory dir of fs with result (0: found, or -ENOENT):
 * logged as if the server had answered, so that a rerun whose cache no longer knows the name is
 * answered the same from the log; a rerun that the cache answers steps over the logged one.
 */
void fswait_cached_lookup(endpoint_t fs, uint64_t dir, int64_t result)
{
    const struct fs_logged *e = replay && replay_at < replay->n ? &replay->e[replay_at] : 0;
    if (e && e->fs == fs && is_lookup(e->type) && e->key == dir && replay_at + 1 < replay->n)
        replay_at++;
    message_t m = {.type = FS_REPLY, .u.fs.reply.result = result};
    record(fs, FS_LOOKUP, dir, &m);
}

/* Whether a request that is no Linux call's found its server dead since the last look (exec_load
 * then binds the mount to rs's new instance and tries again). */
int fswait_dead_met(void)
{
    int r = dead_met;
    dead_met = 0;
    return r;
}

/* Requests sent so far: a caller that hands a reference back inside a request sees whether it
 * went (a busy server's caller is suspended before sending). */
uint64_t fswait_sent(void)
{
    return sent;
}

/* The last request was answered from a rerun's log (it may no longer be true). */
int fswait_answer_replayed(void)
{
    return answer_replayed;
}

/* A Linux call of p starts (or runs again): record its requests, from its log if it has one. */
void fswait_begin(struct vproc *p)
{
    run_log.n = 0;
    run_logging = 1;
    struct fs_log *l = log_of(p->ep);
    replay = l && l->complete ? l : 0;
    replay_at = 0;
}

/* Calls whose result is the result of their one changing request (fswait_end). */
static int result_is_request(uint64_t nr)
{
    static const uint64_t calls[] = {LX_mkdir, LX_mkdirat, LX_unlink,   LX_unlinkat,
                                     LX_rmdir, LX_rename,  LX_renameat, LX_renameat2,
                                     LX_link,  LX_linkat,  LX_symlink,  LX_symlinkat};
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        if (calls[i] == nr)
            return 1;
    return 0;
}

/*
 * The result of a call whose changing request died with its server and ran again on the new
 * instance that kept the state (fs_unsafe, kept): the dead one may have committed the change and
 * died before its answer left, and then the change finds its own work done (an unlink: ENOENT;
 * a mkdir: EEXIST). The first run had found the name as the change needs it (else it ended there
 * with that error), so such an answer is taken as the change's success: a heuristic, as NFS's
 * for the requests it may have sent twice (docs/FILESYSTEMS.md, "Replay"). Only where the server
 * could not say (ask_last: it keeps no record, FS_LAST's ENOSYS; or the call's log found no
 * room): a server's record makes the call's outcome known and clears fs_unsafe.
 */
static int64_t guessed_result(uint64_t nr, int64_t r)
{
    int removes = nr == LX_unlink || nr == LX_unlinkat || nr == LX_rmdir || nr == LX_rename ||
                  nr == LX_renameat || nr == LX_renameat2;
    return (removes && r == -LX_ENOENT) || (!removes && r == -LX_EEXIST) ? 0 : r;
}

/*
 * p's call ended with r: SUSPEND if it waits for a server, else its result.
 * A rerun that did not reach its kept reply (a lookup now finds what the
 * kept create made, or no longer finds what the kept unlink removed) ends
 * with that reply's result, for the calls whose result it is.
 */
int64_t fswait_end(struct vproc *p, int64_t r)
{
    run_logging = 0;
    replay = 0;
    if (p->wait == WAIT_FS || p->wait == WAIT_PROCINFO)
        return SUSPEND;
    if (p->fs_unsafe && r < 0 && result_is_request(p->call.u.lx.nr))
        r = guessed_result(p->call.u.lx.nr, r);
    struct fs_log *l = log_of(p->ep);
    if (l && l->complete && !l->spent && l->n && r < 0 && result_is_request(p->call.u.lx.nr)) {
        const struct fs_logged *e = &l->e[l->n - 1];
        if (e->type != FS_LOOKUP && !through_buffer(e->type) && e->reply.u.fs.reply.result >= 0)
            r = e->reply.u.fs.reply.result;
    }
    log_free(p->ep);
    return r;
}

/* p's waiting call ends (a signal, its exit): its log goes; a reply for it is dropped. */
void fswait_cancel(struct vproc *p)
{
    for (int i = 0; i < NR_BUSY; i++)
        if (busy[i].ep && busy[i].owner == p->ep)
            busy[i].owner = 0;
    log_free(p->ep);
}

/* A mounted server died: what it held is lost; the calls waiting for it run again. */
void fswait_server_gone(endpoint_t old)
{
    struct busy *b = busy_of(old);
    if (!b)
        return;
    struct vproc *owner = b->owner ? vproc_of(b->owner) : 0;
    struct fs_log *l = owner ? log_of(b->owner) : 0;
    if (owner) { /* its request died with the server: the rerun asks the new instance */
        owner->fs_unsafe |= b->unsafe;
        if (!b->seq || !l || l->complete)
            log_free(b->owner);
    }
    if (b->put)
        put_lost(old, b->put);
    busy_end(b);
    struct idle *q = &idle[b - busy];
    for (int i = 0; i < q->nput; i++)
        put_lost(old, q->put[i]);
    q->nput = 0; /* the new instance hears them only if it kept the state */
}

/*
 * The put-nodes lost with the dead server old go to its new instance now if it kept the state
 * (kept), each after an FS_HOLD (the new instance counts only what vfs holds: vnode_hold_again),
 * so an inode whose last reference they gave back is freed; a fresh instance counts nothing.
 */
void fswait_puts_again(endpoint_t old, endpoint_t now, int kept)
{
    int n = 0;
    for (int i = 0; i < nlost; i++) {
        if (lost[i].fs != old) {
            lost[n++] = lost[i];
            continue;
        }
        message_t m = {.type = FS_HOLD, .u.fs.putnode = {lost[i].ino}};
        if (kept && fs_call(now, &m) == 0)
            fs_putnode(now, lost[i].ino);
    }
    nlost = n;
}

/*
 * rs's new instance now of the dead server old is bound to its mount (mounts_check); kept: it
 * carries on the old one's state. The calls that waited for it run again (fswait_resume), but
 * one that lost a request that must not run twice, on a fresh instance, ends with EIO.
 * How many calls waited.
 */
int fswait_server_back(endpoint_t old, endpoint_t now, int kept)
{
    int n = 0;
    struct idle *q = 0;
    for (int i = 0; i < NR_BUSY && !q; i++)
        if (idle[i].ep == old || (!busy[i].ep && !idle[i].ep))
            q = &idle[i];
    for (int k = 0; k < NR_SLOTS; k++) {
        struct vproc *p = vproc_by_index(k);
        if (!p || p->wait != WAIT_FS || p->fs_wait != old)
            continue;
        p->fs_wait = now;
        n++;
        struct fs_log *l = log_of(p->ep);
        if (l && l->seq && !l->complete && kept)
            ask_last(p, l, old, now);
        else if (l && !l->complete)
            log_free(p->ep);
        if (p->fs_unsafe && !kept) {
            printf("vfs: a request of pid %d's call (%lu) died with file server %d and may not "
                   "run twice on its fresh instance: EIO\n",
                   p->pid, p->call.u.lx.nr, old);
            p->wait = WAIT_NONE;
            reply(p->ep, -LX_EIO);
        } else if (q) {
            p->fs_deadline = 0; /* a second death waits afresh */
        }
    }
    if (q) { /* no room (cannot be: one per mount): the waiters' deadlines run them */
        q->ep = now;
        q->nput = 0;
        idle_pending = 1;
    }
    return n;
}

/* The tick p's wait for a dead server's new instance ends (0: none), for timers_arm. */
uint64_t fswait_deadline(const struct vproc *p)
{
    return p && p->wait == WAIT_FS ? p->fs_deadline : 0;
}

/*
 * Servers became idle (from the main loop, after the message that said so):
 * their queued put-nodes go out, then the owner's call runs again (its reply
 * kept in its log), then the calls that waited, while the server stays idle.
 */
void fswait_resume(void)
{
    while (idle_pending) {
        idle_pending = 0;
        for (int i = 0; i < NR_BUSY; i++) {
            struct idle *q = &idle[i];
            endpoint_t ep = q->ep;
            if (!ep)
                continue;
            q->ep = 0;
            uint64_t put[PUTQ_MAX];
            int n = q->nput;
            memcpy(put, q->put, sizeof(put[0]) * (size_t)n);
            q->nput = 0;
            for (int k = 0; k < n; k++)
                fs_putnode(ep, put[k]); /* queued again if it becomes busy */
            for (int k = 0; k < NR_LOGS && !busy_of(ep); k++) {
                struct vproc *p = vproc_of(logs[k].owner);
                if (p && logs[k].complete && p->wait == WAIT_FS && p->fs_wait == ep)
                    rerun(p);
            }
            for (int k = 0; k < NR_SLOTS && !busy_of(ep); k++) {
                struct vproc *p = vproc_by_index(k);
                if (p && p->wait == WAIT_FS && p->fs_wait == ep)
                    rerun(p);
            }
        }
    }
}
