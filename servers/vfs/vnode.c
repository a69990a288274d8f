/*
 * Vnodes: vfs's handle on a file of some file-system server, shared by
 * every open file, current directory and path walk that refers to it
 * (reference counted; the server hears FS_PUTNODE when the last goes).
 * Also the FS_* request helpers, which pass names through a grant (the
 * requests themselves: fswait.c).
 */
#include "vfs.h"

static struct vnode *by_file[VNODE_BUCKETS]; /* in-use vnodes of servers, chained by (fs, ino) */
static int next_free;                        /* where the search for a free slot starts */

static struct vnode **bucket(endpoint_t fs, uint64_t ino)
{
    uint64_t h = (ino ^ (uint64_t)(uint32_t)fs * 0x9e3779b1u) * 0x9e3779b97f4a7c15ull;
    return &by_file[h >> (64 - VNODE_BUCKET_BITS)];
}

struct vnode *vnode_get(endpoint_t fs, uint64_t ino, uint64_t mode, uint64_t rdev)
{
    return vnode_get_in(fs, 0, ino, mode, rdev);
}

/* A slot with no references, or 0 when every one is taken even after the name cache let go. */
static struct vnode *free_slot(void)
{
    for (int round = 0; round < 2; round++) {
        for (int n = 0; n < NR_VNODES; n++) {
            int i = (next_free + n) % NR_VNODES;
            if (!tab->vnodes[i].refs) {
                next_free = (i + 1) % NR_VNODES;
                return &tab->vnodes[i];
            }
        }
        if (!round && !namecache_shrink())
            break;
    }
    return 0;
}

/* The vnode of (fs, ino) as reached through bind mount `bind` (0: the file system's own). */
struct vnode *vnode_get_in(endpoint_t fs, int bind, uint64_t ino, uint64_t mode, uint64_t rdev)
{
    struct vnode **head = bucket(fs, ino);
    for (struct vnode *v = fs == NONE ? 0 : *head; v; v = v->next_same)
        if (v->fs == fs && v->ino == ino && v->bind == bind) {
            v->refs++;
            return v;
        }
    struct vnode *free = free_slot();
    if (!free)
        return 0;
    *free =
        (struct vnode){.refs = 1, .fs = fs, .ino = ino, .mode = mode, .rdev = rdev, .bind = bind};
    if (fs != NONE) {
        free->next_same = *head;
        *head = free;
    }
    return free;
}

/* v's mode and owner changed (chmod, chown): the other vnodes of its file (bind mounts) follow. */
void vnode_attrs_spread(const struct vnode *v)
{
    for (struct vnode *w = v->fs == NONE ? 0 : *bucket(v->fs, v->ino); w; w = w->next_same)
        if (w->fs == v->fs && w->ino == v->ino) {
            w->mode = v->mode;
            w->uid = v->uid;
            w->gid = v->gid;
        }
}

/* fn(w, arg) for every vnode w of v's file: v itself, and the file's vnodes of other mounts. */
void vnode_each_alias(struct vnode *v, void (*fn)(struct vnode *w, void *arg), void *arg)
{
    if (v->fs == NONE) {
        fn(v, arg);
        return;
    }
    for (struct vnode *w = *bucket(v->fs, v->ino), *next; w; w = next) {
        next = w->next_same; /* fn may free w (a freed slot keeps its link: the walk goes on) */
        if (w->refs && w->fs == v->fs && w->ino == v->ino)
            fn(w, arg);
    }
}

/* Take v out of its (fs, ino) chain. */
static void unchain(struct vnode *v)
{
    for (struct vnode **at = bucket(v->fs, v->ino); *at; at = &(*at)->next_same)
        if (*at == v) {
            *at = v->next_same;
            return;
        }
}

/*
 * v's file as reached through mount number bind, held: the vnode there is,
 * or a new one borrowing v's server reference (vnode.lent: v is held, and
 * put instead of an FS_PUTNODE), since a server is asked for no reference
 * to a file by its number. 0 if there is no room.
 */
struct vnode *vnode_lent(struct vnode *v, int bind)
{
    struct vnode *w = vnode_get_in(v->fs, bind, v->ino, v->mode, v->rdev);
    if (w && w->refs == 1 && !w->lent) {
        w->lent = v;
        vnode_hold(v);
        w->uid = v->uid;
        w->gid = v->gid;
    }
    return w;
}

/* The mount point that the root of a mounted file system, v, covers; 0 if none. */
struct vnode *vnode_covered(struct vnode *v)
{
    return v->covering && v->covering->mounted == v ? v->covering : 0;
}

/* root (0: nothing any more) is mounted on the directory covered (mount.c). */
void vnode_mount_on(struct vnode *covered, struct vnode *root)
{
    if (covered->mounted)
        covered->mounted->covering = 0;
    covered->mounted = root;
    if (root)
        root->covering = covered;
}

/* A file server restarted (mount.c): its vnodes now name the new instance (and are chained
 * where its (fs, ino) hashes). */
void vnode_rebind(endpoint_t old, endpoint_t now)
{
    for (int i = 0; i < NR_VNODES; i++)
        if (tab->vnodes[i].refs && tab->vnodes[i].fs == old) {
            unchain(&tab->vnodes[i]);
            tab->vnodes[i].fs = now;
            struct vnode **head = bucket(now, tab->vnodes[i].ino);
            tab->vnodes[i].next_same = *head;
            *head = &tab->vnodes[i];
        }
    lock_rebind(old, now);
}

/* now, rs's new instance of a file server that kept its state (FS_MOUNT's 1), counted none of
 * the references vfs holds (they died with the old instance): one FS_HOLD each, so an inode
 * unlinked while open is freed at its last put. A server without FS_HOLD is asked once. */
void vnode_hold_again(endpoint_t now)
{
    for (int i = 0; i < NR_VNODES; i++)
        if (tab->vnodes[i].refs && tab->vnodes[i].fs == now && !tab->vnodes[i].lent) {
            message_t m = {.type = FS_HOLD, .u.fs.putnode = {tab->vnodes[i].ino}};
            int64_t r = fs_call(now, &m);
            if (r == -LX_ENOSYS || r == -LX_EIO)
                return;
        }
}

/* The references vfs holds on vnodes of server fs (umount2: is it busy?): all of them (bind -1),
 * or those reached through one mount (bind: its vnodes' number, 0: the server's own). */
int vnode_count(endpoint_t fs, int bind)
{
    int n = 0;
    for (int i = 0; i < NR_VNODES; i++)
        if (tab->vnodes[i].refs && tab->vnodes[i].fs == fs &&
            (bind < 0 || tab->vnodes[i].bind == bind))
            n += tab->vnodes[i].refs;
        else if (tab->vnodes[i].refs && tab->vnodes[i].lent && tab->vnodes[i].lent->fs == fs &&
                 bind >= 0 && tab->vnodes[i].lent->bind == bind)
            n--; /* a file bound elsewhere does not keep this mount busy */
    return n;
}

void vnode_hold(struct vnode *v)
{
    if (v)
        v->refs++;
}

/* Let go of v; if that was its last reference, its server's reference is the caller's to give
 * back (with a request it sends anyway): v's inode number then, else 0. */
uint64_t vnode_put_later(struct vnode *v)
{
    if (!v || v->refs != 1 || v->lent || v->fs == NONE || v->fs == PROCFS_EP) {
        vnode_put(v);
        return 0;
    }
    unchain(v);
    keep_log(&v->refs, sizeof(v->refs));
    v->refs = 0;
    return v->ino;
}

void vnode_put(struct vnode *v)
{
    if (v && v->refs == 1) /* freed in a request undone, it is in use again (keep.c) */
        keep_log(&v->refs, sizeof(v->refs));
    if (!v || --v->refs > 0)
        return;
    if (v->fs != NONE)
        unchain(v);
    if (v->lent)
        vnode_put(v->lent);
    else if (v->fs != NONE)
        fs_putnode(v->fs, v->ino);
    v->refs = 0;
}

/*
 * A request with one buffer of vfs's granted to the server (access
 * GRANT_READ or GRANT_WRITE); the grant id goes into *grant, a field of m.
 * A count larger than the buffer from the server is -EIO.
 */
int64_t fs_buffer_call(endpoint_t fs, message_t *m, uint64_t *grant, const void *buf, uint64_t len,
                       uint32_t access)
{
    grant_id_t g = grant_alloc(fs, buf, len, access);
    if (g < 0)
        return -LX_ENOMEM;
    *grant = (uint64_t)g;
    int64_t r = fs_call(fs, m);
    grant_free(g);
    return r > 0 && (uint64_t)r > len ? -LX_EIO : r;
}

/* FS_READ or FS_WRITE of at most len bytes at offset, through grant g made to v's server. */
int64_t fs_io(struct vnode *v, int type, uint64_t offset, grant_id_t g, uint64_t len)
{
    message_t m = {.type = type, .u.fs.read = {v->ino, offset, (uint64_t)g, len}};
    int64_t r = fs_call(v->fs, &m);
    return r > 0 && (uint64_t)r > len ? -LX_EIO : r;
}

/* FS_READ of at most len bytes at offset into vfs's buf. */
int64_t fs_read_into(struct vnode *v, uint64_t offset, void *buf, uint64_t len)
{
    message_t m = {.type = FS_READ, .u.fs.read = {v->ino, offset, 0, len}};
    return fs_buffer_call(v->fs, &m, &m.u.fs.read.grant, buf, len, GRANT_WRITE);
}

/* FS_READLINK of at most len bytes into vfs's buf. */
int64_t fs_readlink(struct vnode *v, char *buf, uint64_t len)
{
    message_t m = {.type = FS_READLINK, .u.fs.readlink = {.ino = v->ino, .len = len}};
    return fs_buffer_call(v->fs, &m, &m.u.fs.readlink.grant, buf, len, GRANT_WRITE);
}

/* FS_GETDENTS of at most len bytes of records from *cookie on into vfs's buf; moves *cookie. */
int64_t fs_getdents(struct vnode *dir, uint64_t *cookie, void *buf, uint64_t len)
{
    message_t m = {.type = FS_GETDENTS, .u.fs.getdents = {.ino = dir->ino, .cookie = *cookie}};
    m.u.fs.getdents.len = len;
    int64_t r = fs_buffer_call(dir->fs, &m, &m.u.fs.getdents.grant, buf, len, GRANT_WRITE);
    if (r >= 0)
        *cookie = m.u.fs.dents.cookie;
    return r;
}

/* name (len bytes) in dir is about to change: the name cache forgets it (and gives back the
 * reference it held). */
static void forget(struct vnode *dir, const char *name, size_t len)
{
    uint64_t put = namecache_forget(dir, name, len, 0);
    if (put)
        fs_putnode(dir->fs, put);
}

/* What a LOOKUP, CREATE or SYMLINK reply says of the inode. */
static struct fs_node node_of(const message_t *m)
{
    const struct msg_fs_node_reply *n = &m->u.fs.node;
    return (struct fs_node){
        .ino = n->ino, .mode = n->mode, .rdev = n->rdev, .uid = n->uid, .gid = n->gid};
}

/* A request naming an entry of dir: the name's grant and length go to *grant and *len. */
static int64_t fs_named(struct vnode *dir, message_t *m, uint64_t *grant, uint64_t *len,
                        const char *name, size_t n, struct fs_node *node)
{
    *len = n;
    int64_t r = fs_buffer_call(dir->fs, m, grant, name, n, GRANT_READ);
    if (r >= 0 && node)
        *node = node_of(m);
    return r;
}

int64_t fs_lookup(struct vnode *dir, const char *name, size_t len, struct fs_node *node)
{
    message_t m = {.type = FS_LOOKUP, .u.fs.lookup = {.dir = dir->ino}};
    struct msg_fs_name *q = &m.u.fs.lookup;
    return fs_named(dir, &m, &q->name_grant, &q->name_len, name, len, node);
}

int64_t fs_create(struct vnode *dir, const char *name, uint64_t mode, uint64_t rdev, uint32_t uid,
                  uint32_t gid, struct fs_node *node)
{
    message_t m = {
        .type = FS_CREATE,
        .u.fs.create = {.dir = dir->ino, .mode = mode, .rdev = rdev, .owner = FS_OWNER(uid, gid)}};
    struct msg_fs_create *q = &m.u.fs.create;
    forget(dir, name, strlen(name));
    return fs_named(dir, &m, &q->name_grant, &q->name_len, name, strlen(name), node);
}

int64_t fs_symlink(struct vnode *dir, const char *both, size_t len, uint32_t uid, uint32_t gid,
                   struct fs_node *node)
{
    message_t m = {.type = FS_SYMLINK, .u.fs.symlink = {.dir = dir->ino, .uid = uid, .gid = gid}};
    struct msg_fs_symlink *q = &m.u.fs.symlink;
    forget(dir, both, strlen(both)); /* "name NUL target": the name */
    return fs_named(dir, &m, &q->grant, &q->len, both, len, node);
}

int64_t fs_link(struct vnode *dir, const char *name, uint64_t ino)
{
    message_t m = {.type = FS_LINK, .u.fs.link = {.dir = dir->ino, .ino = ino}};
    struct msg_fs_link *q = &m.u.fs.link;
    forget(dir, name, strlen(name));
    return fs_named(dir, &m, &q->name_grant, &q->name_len, name, strlen(name), 0);
}

/* FS_UNLINK or FS_RMDIR */
int64_t fs_remove(int type, struct vnode *dir, const char *name)
{
    message_t m = {.type = type, .u.fs.unlink = {.dir = dir->ino}};
    struct msg_fs_remove *q = &m.u.fs.unlink;
    /* the cache's reference to the file goes back with the removal, not in a message of its own */
    q->put = namecache_forget(dir, name, strlen(name), type == FS_RMDIR);
    uint64_t before = fswait_sent(), put = q->put;
    int64_t r = fs_named(dir, &m, &q->name_grant, &q->name_len, name, strlen(name), 0);
    if (put && fswait_sent() == before) /* it did not go (no grant, a busy server) */
        fs_putnode(dir->fs, put);
    return r;
}

/* FS_RENAME of d1/l1 to d2/l2 (one server); both names are forgotten by the cache first. */
int64_t fs_rename(struct vnode *d1, const char *l1, struct vnode *d2, const char *l2)
{
    static char both[2 * (FS_NAME_MAX + 1)];
    size_t n1 = strlen(l1), n2 = strlen(l2);
    if (n1 > FS_NAME_MAX || n2 > FS_NAME_MAX)
        return -LX_ENAMETOOLONG;
    memcpy(both, l1, n1 + 1);
    memcpy(both + n1 + 1, l2, n2);
    forget(d1, l1, n1);
    forget(d2, l2, n2);
    message_t m = {.type = FS_RENAME, .u.fs.rename = {.old_dir = d1->ino, .new_dir = d2->ino}};
    m.u.fs.rename.len = n1 + 1 + n2;
    return fs_buffer_call(d1->fs, &m, &m.u.fs.rename.grant, both, n1 + 1 + n2, GRANT_READ);
}

int64_t fs_stat(struct vnode *v, struct fs_stat *st)
{
    message_t m = {.type = FS_STAT, .u.fs.stat = {.ino = v->ino}};
    int64_t r = fs_buffer_call(v->fs, &m, &m.u.fs.stat.grant, st, sizeof(*st), GRANT_WRITE);
    if (r >= 0) {
        v->size = st->size;
        v->mode = st->mode;
        v->rdev = st->rdev;
        v->uid = (uint32_t)st->uid;
        v->gid = (uint32_t)st->gid;
    }
    return r;
}
