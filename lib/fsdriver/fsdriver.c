/*
 * The file-server loop (fsdriver.h): receive, check the sender, decode the
 * typed body, call the server's callback, reply. One decoder per request
 * type in the table below; each checks the request's shape (grants, names,
 * 32-bit owners and modes; a create's owner comes packed) and leaves inode numbers and semantics to
 * the server. The requester being served is `who`; its names are copied into static buffers, valid
 * until the next request.
 */
#include "fsdriver/fsdriver.h"
#include <stddef.h>
#include <samsara/root.h>
#include "format/format.h"

#define PAIR_MAX (FS_NAME_MAX + 1 + FSDRIVER_SYMLINK_MAX + 1) /* "a NUL b [NUL]" */

static const struct fsdriver *fs;
static int unmounted;  /* FS_UNMOUNT came: EIO for everything until an FS_MOUNT */
static uint64_t syncs; /* FS_SYNC requests served (the unmount line reports them) */
static endpoint_t who; /* the requester being served */
/* A request that must wait for the device (fsdriver_suspend): answered FS_SUSPENDED at once,
 * its reply kept here when it is finished until the client takes it with FS_RESULT. */
static int serving;   /* a request of the client is in hand, not answered yet */
static int suspended; /* ... and it was answered FS_SUSPENDED */
static int early;     /* a request kept while the server waits (lib/bdev) was answered so */
static int finished;  /* `kept` holds the finished request's reply */
static message_t kept;
static uint64_t suspensions; /* requests answered FS_SUSPENDED (the unmount line says) */
static char name1[FS_NAME_MAX + 1];
static char pair[PAIR_MAX + 1];

int fsdriver_copyin(const struct fsdriver_data *d, uint64_t off, void *buf, uint64_t len)
{
    return sys_safecopy_from(d->ep, d->grant, off, buf, len) < 0 ? -LX_EFAULT : 0;
}

int fsdriver_copyout(const struct fsdriver_data *d, uint64_t off, const void *buf, uint64_t len)
{
    return sys_safecopy_to(d->ep, d->grant, off, buf, len) < 0 ? -LX_EFAULT : 0;
}

/* A grant word: a grant_id_t of the requester, or EFAULT. */
static int data_of(uint64_t grant, struct fsdriver_data *d)
{
    if (grant > 0x7fffffffull)
        return -LX_EFAULT;
    *d = (struct fsdriver_data){who, (grant_id_t)grant};
    return 0;
}

uint64_t fsdriver_now(void)
{
    return sys_boottime() + sys_uptime() / 1000;
}

int fsdriver_name_ok(const char *name, uint64_t len)
{
    if (len == 0)
        return -LX_EINVAL;
    if (len > FS_NAME_MAX)
        return -LX_ENAMETOOLONG;
    for (uint64_t i = 0; i < len; i++)
        if (name[i] == '/' || name[i] == '\0')
            return -LX_EINVAL;
    return 0;
}

/* The name of a request into name1 (NUL-terminated). */
static int fetch_name(uint64_t grant, uint64_t len)
{
    struct fsdriver_data d;
    if (len == 0)
        return -LX_EINVAL;
    if (len > FS_NAME_MAX)
        return -LX_ENAMETOOLONG;
    if (data_of(grant, &d) < 0 || fsdriver_copyin(&d, 0, name1, len) < 0)
        return -LX_EFAULT;
    name1[len] = '\0';
    return fsdriver_name_ok(name1, len);
}

/*
 * Two strings "a NUL b" (a NUL after a non-empty b is allowed) of total bytes,
 * a a name, b at most bmax long: *alen, *boff and *blen locate them in pair[].
 */
static int fetch_pair(uint64_t grant, uint64_t total, uint64_t bmax, uint64_t *alen, uint64_t *boff,
                      uint64_t *blen)
{
    struct fsdriver_data d;
    if (total < 2)
        return -LX_EINVAL;
    if (total > FS_NAME_MAX + 1 + bmax + 1)
        return -LX_ENAMETOOLONG;
    if (data_of(grant, &d) < 0 || fsdriver_copyin(&d, 0, pair, total) < 0)
        return -LX_EFAULT;
    uint64_t a = 0;
    while (a < total && pair[a])
        a++;
    if (a == total)
        return -LX_EINVAL; /* no separator */
    if (total > a + 1 && pair[total - 1] == '\0')
        total--; /* b's own terminator */
    pair[total] = '\0';
    *alen = a;
    *boff = a + 1;
    *blen = total - a - 1;
    int r = fsdriver_name_ok(pair, a);
    if (r < 0)
        return r;
    for (uint64_t i = *boff; i < total; i++)
        if (!pair[i])
            return -LX_EINVAL;
    return *blen > bmax ? -LX_ENAMETOOLONG : 0;
}

static int fits32(uint64_t v)
{
    return v <= 0xffffffffull;
}

/* A reply that hands over an inode. */
static int64_t give(message_t *r, int rc, const struct fsdriver_node *n)
{
    if (rc < 0)
        return rc;
    r->u.fs.node = (struct msg_fs_node_reply){0, n->ino, n->mode, n->rdev, n->size, n->uid, n->gid};
    return 0;
}

/* The test hook (fsdriver_test_hook): on, armed by a lookup, fires after the next commit. */
static int test_hook, die_armed;

void fsdriver_test_hook(int on)
{
    test_hook = on;
}

static void test_arm(const char *name, uint64_t len)
{
    static const char prefix[] = FSDRIVER_DIE_AFTER_COMMIT;
    if (test_hook && len >= sizeof(prefix) - 1 && !memcmp(name, prefix, sizeof(prefix) - 1))
        die_armed = 1;
}

static int64_t do_lookup(const message_t *m, message_t *r)
{
    const struct msg_fs_name *q = &m->u.fs.lookup;
    struct fsdriver_node n;
    int rc = fetch_name(q->name_grant, q->name_len);
    if (rc == 0)
        test_arm(name1, q->name_len);
    return rc < 0 ? rc : give(r, fs->lookup(q->dir, name1, q->name_len, &n), &n);
}

static int64_t do_create(const message_t *m, message_t *r)
{
    const struct msg_fs_create *q = &m->u.fs.create;
    struct fsdriver_node n;
    int rc = fetch_name(q->name_grant, q->name_len);
    if (rc < 0)
        return rc;
    if (!fits32(q->mode))
        return -LX_EINVAL;
    rc = fs->create(q->dir, name1, q->name_len, (uint32_t)q->mode, q->rdev, (uint32_t)q->owner,
                    (uint32_t)(q->owner >> 32), &n);
    return give(r, rc, &n);
}

static int64_t do_symlink(const message_t *m, message_t *r)
{
    const struct msg_fs_symlink *q = &m->u.fs.symlink;
    struct fsdriver_node n;
    uint64_t nlen, toff, tlen;
    if (!fits32(q->uid) || !fits32(q->gid))
        return -LX_EINVAL;
    int rc = fetch_pair(q->grant, q->len, fs->symlink_max, &nlen, &toff, &tlen);
    if (rc < 0)
        return rc;
    rc = fs->symlink(q->dir, pair, nlen, pair + toff, tlen, (uint32_t)q->uid, (uint32_t)q->gid, &n);
    return give(r, rc, &n);
}

static int64_t do_link(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_link *q = &m->u.fs.link;
    int rc = fetch_name(q->name_grant, q->name_len);
    return rc < 0 ? rc : fs->link(q->dir, name1, q->name_len, q->ino);
}

/* UNLINK and RMDIR: the reference the requester gives back with its removal (put: the inode, or
 * 0), after it; the removal's result rc. */
static int put_after(uint64_t put, int rc)
{
    if (put && fs->putnode)
        fs->putnode(put);
    return rc;
}

static int64_t do_unlink(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_remove *q = &m->u.fs.unlink;
    int rc = fetch_name(q->name_grant, q->name_len);
    return put_after(q->put, rc < 0 ? rc : fs->unlink(q->dir, name1, q->name_len));
}

static int64_t do_rmdir(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_remove *q = &m->u.fs.rmdir;
    int rc = fetch_name(q->name_grant, q->name_len);
    return put_after(q->put, rc < 0 ? rc : fs->rmdir(q->dir, name1, q->name_len));
}

static int64_t do_rename(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_rename *q = &m->u.fs.rename;
    uint64_t olen, noff, nlen;
    int rc = fetch_pair(q->grant, q->len, FS_NAME_MAX, &olen, &noff, &nlen);
    if (rc < 0 || (rc = fsdriver_name_ok(pair + noff, nlen)) < 0)
        return rc;
    return fs->rename(q->old_dir, pair, olen, q->new_dir, pair + noff, nlen);
}

static int64_t do_read(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_io *q = &m->u.fs.read;
    struct fsdriver_data d;
    return data_of(q->grant, &d) < 0 ? -LX_EFAULT : fs->read(q->ino, q->offset, &d, q->len);
}

static int64_t do_write(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_io *q = &m->u.fs.write;
    struct fsdriver_data d;
    return data_of(q->grant, &d) < 0 ? -LX_EFAULT : fs->write(q->ino, q->offset, &d, q->len);
}

static int64_t do_trunc(const message_t *m, message_t *r)
{
    (void)r;
    return fs->trunc(m->u.fs.trunc.ino, m->u.fs.trunc.size);
}

static int64_t do_getdents(const message_t *m, message_t *r)
{
    const struct msg_fs_getdents *q = &m->u.fs.getdents;
    struct fsdriver_data d;
    uint64_t cookie = q->cookie;
    if (data_of(q->grant, &d) < 0)
        return -LX_EFAULT;
    int64_t n = fs->getdents(q->ino, &cookie, &d, q->len);
    r->u.fs.dents.cookie = cookie;
    return n;
}

static int64_t do_readlink(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_readlink *q = &m->u.fs.readlink;
    struct fsdriver_data d;
    return data_of(q->grant, &d) < 0 ? -LX_EFAULT : fs->readlink(q->ino, &d, q->len);
}

/* A callback's result rc, and if it succeeded, len bytes of buf copied out through grant. */
static int64_t copy_result(int rc, uint64_t grant, const void *buf, uint64_t len)
{
    struct fsdriver_data d;
    if (rc < 0)
        return rc;
    if (data_of(grant, &d) < 0)
        return -LX_EFAULT;
    return fsdriver_copyout(&d, 0, buf, len);
}

static int64_t do_stat(const message_t *m, message_t *r)
{
    (void)r;
    struct fs_stat st;
    int rc = fs->stat(m->u.fs.stat.ino, &st);
    return copy_result(rc, m->u.fs.stat.grant, &st, sizeof(st));
}

static int64_t do_statfs(const message_t *m, message_t *r)
{
    (void)r;
    struct fs_statfs sf;
    int rc = fs->statfs(&sf);
    return copy_result(rc, m->u.fs.statfs.grant, &sf, sizeof(sf));
}

static int64_t do_chmod(const message_t *m, message_t *r)
{
    (void)r;
    return fs->chmod(m->u.fs.chmod.ino, (uint32_t)(m->u.fs.chmod.mode & 07777));
}

static int64_t do_chown(const message_t *m, message_t *r)
{
    (void)r;
    const struct msg_fs_chown *q = &m->u.fs.chown;
    if (!fits32(q->uid) || !fits32(q->gid))
        return -LX_EINVAL;
    return fs->chown(q->ino, (uint32_t)q->uid, (uint32_t)q->gid, (uint32_t)(q->mode & 07777));
}

static int64_t do_utime(const message_t *m, message_t *r)
{
    (void)r;
    return fs->utime(m->u.fs.utime.ino, m->u.fs.utime.atime, m->u.fs.utime.mtime);
}

static int64_t do_putnode(const message_t *m, message_t *r)
{
    (void)r;
    return fs->putnode(m->u.fs.putnode.ino);
}

static int64_t do_hold(const message_t *m, message_t *r)
{
    (void)r;
    return fs->hold(m->u.fs.putnode.ino);
}

/*
 * FS_WALK: the path's components looked up one after another (samsara/fs.h says where the walk
 * stops); the records go out together after the last lookup, so a walk that waited for the disk
 * meanwhile (its client freed the grant) gives every reference back and answers EFAULT.
 */
static int64_t do_walk(const message_t *m, message_t *r)
{
    static char path[FS_WALK_PATH_MAX];
    static struct fs_walk_record found[FS_WALK_MAX];
    const struct msg_fs_walk *q = &m->u.fs.walk;
    struct fsdriver_data d;
    if (q->len == 0 || q->max == 0 || q->max > FS_WALK_MAX)
        return -LX_EINVAL;
    if (q->len > FS_WALK_PATH_MAX)
        return -LX_ENAMETOOLONG;
    if (data_of(q->grant, &d) < 0 || fsdriver_copyin(&d, 0, path, q->len) < 0)
        return -LX_EFAULT;
    uint64_t dir = q->dir, n = 0, at = 0;
    int64_t error = 0;
    while (n < q->max) {
        while (at < q->len && path[at] == '/')
            at++;
        uint64_t start = at;
        while (at < q->len && path[at] != '/')
            at++;
        uint64_t len = at - start;
        const char *name = path + start;
        if (len == 0 || len > FS_NAME_MAX ||
            (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'))))
            break; /* the end, a name vfs refuses, "." or "..": vfs goes on from here */
        memcpy(name1, name, len);
        name1[len] = '\0';
        struct fsdriver_node node;
        int rc = fsdriver_name_ok(name1, len);
        if (rc == 0)
            test_arm(name1, len);
        if (rc == 0)
            rc = fs->lookup(dir, name1, len, &node);
        if (rc < 0) {
            error = rc;
            break;
        }
        found[n++] =
            (struct fs_walk_record){node.ino, node.mode, node.rdev, node.size, node.uid, node.gid};
        if ((node.mode & S_IFMT) != S_IFDIR)
            break; /* a file or a symbolic link: vfs takes it from here */
        dir = node.ino;
    }
    if (n && fsdriver_copyout(&d, FS_WALK_RECORDS(q->len), found, n * sizeof(found[0])) < 0) {
        for (uint64_t i = 0; i < n && fs->putnode; i++)
            fs->putnode(found[i].ino);
        return -LX_EFAULT;
    }
    r->u.fs.walked.error = error;
    return n ? (int64_t)n : error;
}

/* FS_MOUNT: the server's root (its own callback, or the inode FS_ROOT_INO); serving again. */
static int64_t do_mount(const message_t *m, message_t *r)
{
    (void)m;
    struct fsdriver_node n;
    int rc = fs->mount    ? fs->mount(&n)
             : fs->lookup ? fs->lookup(FS_ROOT_INO, ".", 1, &n) /* counts the reference */
                          : -LX_ENOSYS;
    if (rc == 0)
        unmounted = 0;
    int64_t result = give(r, rc, &n);
    return result == 0 && fs->kept && fs->kept() ? 1 : result; /* 1: state kept (fs.h) */
}

static int64_t do_sync(const message_t *m, message_t *r)
{
    (void)r;
    syncs++;
    return fs->sync ? fs->sync(m->u.fs.sync.ino) : 0;
}

static int64_t do_unmount(const message_t *m, message_t *r)
{
    (void)m, (void)r;
    int rc = fs->unmount ? fs->unmount() : fs->sync ? fs->sync(0) : 0;
    unmounted = 1;
    char waits[40] = "";
    if (suspensions)
        snprintf_s(waits, sizeof(waits), ", %lu requests waited", suspensions);
    printf("%s: unmounted (%lu syncs%s)%s\n", fs->label, syncs, waits,
           rc < 0 ? ": writing failed" : "");
    return rc;
}

/* The record names request (seq, type): it was committed, and its reply is the recorded one. */
static const struct fsdriver_last *recorded(uint64_t seq, uint64_t type)
{
    const struct fsdriver_last *l = seq && fs->last ? fs->last() : 0;
    return l && l->seq == seq && l->type == type ? l : 0;
}

/* FS_LAST: the recorded reply of the request named, or FS_NOT_LAST. */
static int64_t do_last(const message_t *m, message_t *r)
{
    const struct fsdriver_last *l = recorded(m->u.fs.last.seq, m->u.fs.last.type);
    if (!l)
        return FS_NOT_LAST;
    memcpy(r->u.w, l->reply, sizeof(l->reply));
    return r->u.fs.reply.result;
}

/* One decoder per request, and whether the server gave the callback it needs. */
typedef int64_t (*decoder_t)(const message_t *m, message_t *r);
#define SERVED(type, field, decoder)                                                               \
    [type - FS_RQ_BASE] = {offsetof(struct fsdriver, field), decoder}
static const struct {
    size_t callback; /* offset of the callback in struct fsdriver; 0: none needed */
    decoder_t decode;
} requests[FS_RQ_END - FS_RQ_BASE] = {
    SERVED(FS_LOOKUP, lookup, do_lookup),
    SERVED(FS_STAT, stat, do_stat),
    SERVED(FS_READ, read, do_read),
    SERVED(FS_WRITE, write, do_write),
    SERVED(FS_TRUNC, trunc, do_trunc),
    SERVED(FS_CREATE, create, do_create),
    SERVED(FS_SYMLINK, symlink, do_symlink),
    SERVED(FS_LINK, link, do_link),
    SERVED(FS_UNLINK, unlink, do_unlink),
    SERVED(FS_RMDIR, rmdir, do_rmdir),
    SERVED(FS_RENAME, rename, do_rename),
    SERVED(FS_GETDENTS, getdents, do_getdents),
    SERVED(FS_READLINK, readlink, do_readlink),
    SERVED(FS_CHMOD, chmod, do_chmod),
    SERVED(FS_PUTNODE, putnode, do_putnode),
    SERVED(FS_STATFS, statfs, do_statfs),
    SERVED(FS_CHOWN, chown, do_chown),
    SERVED(FS_UTIME, utime, do_utime),
    SERVED(FS_WALK, lookup, do_walk),
    SERVED(FS_HOLD, hold, do_hold),
    SERVED(FS_LAST, last, do_last),
    [FS_MOUNT - FS_RQ_BASE] = {0, do_mount}, /* these three have defaults */
    [FS_SYNC - FS_RQ_BASE] = {0, do_sync},
    [FS_UNMOUNT - FS_RQ_BASE] = {0, do_unmount},
};

/* Did the server give the callback at offset off of its table? */
static int has_callback(size_t off)
{
    void (*f)(void);
    memcpy(&f, (const char *)fs + off, sizeof(f));
    return f != 0;
}

static int64_t dispatch(const message_t *m, message_t *r)
{
    if (m->type < FS_RQ_BASE || m->type >= FS_RQ_END)
        return -LX_ENOSYS;
    unsigned i = (unsigned)(m->type - FS_RQ_BASE);
    if (!requests[i].decode || (requests[i].callback && !has_callback(requests[i].callback)))
        return -LX_ENOSYS;
    if (unmounted && m->type != FS_MOUNT)
        return -LX_EIO;
    const struct fsdriver_last *l = recorded(m->u.fs.tag.seq, (uint64_t)m->type);
    if (l) { /* done already (its answer was lost with the last instance): not run again */
        memcpy(r->u.w, l->reply, sizeof(l->reply));
        return r->u.fs.reply.result;
    }
    return requests[i].decode(m, r);
}

/*
 * The request m, answered r, is over: the server commits it (fs->commit), with r as the record
 * when m carries a sequence number (and was run, not answered from the record). Then the test
 * hook, if armed, kills the server before the answer leaves.
 */
static void commit(const message_t *m, const message_t *r)
{
    if (!fs->commit)
        return;
    uint64_t seq = m->u.fs.tag.seq;
    int record = seq && m->type != FS_LAST && m->type >= FS_RQ_BASE && m->type < FS_RQ_END &&
                 !recorded(seq, (uint64_t)m->type);
    static struct fsdriver_last rec;
    if (record) {
        rec = (struct fsdriver_last){seq, (uint64_t)m->type, {0}};
        memcpy(rec.reply, r->u.w, sizeof(rec.reply));
    }
    fs->commit(record ? &rec : 0);
    if (record && die_armed) {
        printf("%s: test hook: dying after committing request %lu (type 0x%x), before its "
               "answer\n",
               fs->label, seq, m->type);
        sys_exit(74);
    }
}

/* Is ep the client? Root is asked again whenever ep is not the endpoint it last named. */
static int is_client(const char *client, endpoint_t ep)
{
    static endpoint_t client_ep;
    if (ep == client_ep)
        return 1;
    endpoint_t found = root_lookup(client);
    if (found <= 0)
        return 0;
    client_ep = found;
    return ep == client_ep;
}

/*
 * The server is about to wait for its device (m = 0), or a message came
 * while it waits (lib/bdev keeps it): the client's request, in hand or
 * kept, is answered FS_SUSPENDED now (once), so the client goes on serving
 * others; the reply follows when it is served (fsdriver_task: notify,
 * FS_RESULT). The client sends nothing more meanwhile.
 */
int fsdriver_suspend(const message_t *m)
{
    if (m && m->type == FS_RESULT && m->source == who && finished && !early) {
        ipc_sendnb(who, &kept); /* finished before this wait: the client need not wait for it */
        finished = 0;
        return 1;
    }
    if (m ? m->source != who || !IS_FS_RQ(m->type) || m->type == FS_RESULT || early || suspended
          : !serving || suspended)
        return 0;
    message_t r = {.type = FS_REPLY, .u.fs.reply.result = FS_SUSPENDED};
    if (ipc_sendnb(m ? m->source : who, &r) == 0) { /* the client gave up (its bound) if not */
        if (m)
            early = 1; /* its reply is kept when it is served */
        else
            suspended = 1;
        suspensions++;
    }
    return 0;
}

void fsdriver_task(const struct fsdriver *server, const char *client)
{
    fs = server;
    for (;;) {
        message_t m;
        if (!(fs->pending && fs->pending(&m)) && service_receive(&m) < 0)
            continue;
        if (m.source == SYSTEM && m.type == MSG_NOTIFY && fs->alarm) {
            fs->alarm();
            continue;
        }
        if (m.source <= 0 || m.type == MSG_NOTIFY || m.source == ROOT_EP)
            continue; /* nothing else from rs is for a file server */
        message_t r = {.type = FS_REPLY};
        if (!is_client(client, m.source)) {
            service_refuse(fs->label, &m, "only its client may use it");
            r.u.fs.reply.result = -LX_EPERM;
        } else if (m.type == FS_RESULT) {
            r.u.fs.reply.result = -LX_EAGAIN; /* nothing finished (a late or stray ask) */
            if (finished && m.source == who)
                r = kept;
            finished = 0;
        } else {
            who = m.source;
            serving = 1;
            suspended = early; /* answered FS_SUSPENDED while it was kept */
            early = 0;
            r.u.fs.reply.result = dispatch(&m, &r);
            serving = 0;
            commit(&m, &r);
        }
        if (suspended) { /* the client was told to wait: keep the reply, and say it is there */
            suspended = 0;
            kept = r;
            finished = 1;
            ipc_notify(who);
        } else {
            reply_hold(m.source, &r);
        }
        if (fs->after)
            fs->after();
    }
}
