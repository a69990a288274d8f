/*
 * Vnodes: vfs's handle on a file of some file-system server, shared by
 * every open file, current directory and path walk that refers to it
 * (reference counted; the server hears FS_PUTNODE when the last goes).
 * Also the FS_* request helpers, which pass names through a grant (the
 * requests themselves: fswait.c).
 */
#include "vfs.h"

static struct vnode vnodes[NR_VNODES];

struct vnode *vnode_get(endpoint_t fs, uint64_t ino, uint64_t mode, uint64_t rdev)
{
    return vnode_get_in(fs, 0, ino, mode, rdev);
}

/* The vnode of (fs, ino) as reached through bind mount `bind` (0: the file system's own). */
struct vnode *vnode_get_in(endpoint_t fs, int bind, uint64_t ino, uint64_t mode, uint64_t rdev)
{
    struct vnode *free = 0;
    for (int i = 0; i < NR_VNODES; i++) {
        struct vnode *v = &vnodes[i];
        if (v->refs && v->fs == fs && v->ino == ino && v->bind == bind && fs != NONE) {
            v->refs++;
            return v;
        }
        if (!v->refs && !free)
            free = v;
    }
    if (!free)
        return 0;
    *free =
        (struct vnode){.refs = 1, .fs = fs, .ino = ino, .mode = mode, .rdev = rdev, .bind = bind};
    return free;
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
    for (int i = 0; i < NR_VNODES; i++)
        if (vnodes[i].refs && vnodes[i].mounted == v)
            return &vnodes[i];
    return 0;
}

/* A file server restarted (mount.c): its vnodes now name the new instance. */
void vnode_rebind(endpoint_t old, endpoint_t now)
{
    for (int i = 0; i < NR_VNODES; i++)
        if (vnodes[i].refs && vnodes[i].fs == old)
            vnodes[i].fs = now;
    lock_rebind(old, now);
}

/* The references vfs holds on vnodes of server fs (umount2: is it busy?): all of them (bind -1),
 * or those reached through one mount (bind: its vnodes' number, 0: the server's own). */
int vnode_count(endpoint_t fs, int bind)
{
    int n = 0;
    for (int i = 0; i < NR_VNODES; i++)
        if (vnodes[i].refs && vnodes[i].fs == fs && (bind < 0 || vnodes[i].bind == bind))
            n += vnodes[i].refs;
        else if (vnodes[i].refs && vnodes[i].lent && vnodes[i].lent->fs == fs && bind >= 0 &&
                 vnodes[i].lent->bind == bind)
            n--; /* a file bound elsewhere does not keep this mount busy */
    return n;
}

void vnode_hold(struct vnode *v)
{
    if (v)
        v->refs++;
}

void vnode_put(struct vnode *v)
{
    if (!v || --v->refs > 0)
        return;
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
        .u.fs.create = {.dir = dir->ino, .mode = mode, .rdev = rdev, .uid = uid, .gid = gid}};
    struct msg_fs_create *q = &m.u.fs.create;
    return fs_named(dir, &m, &q->name_grant, &q->name_len, name, strlen(name), node);
}

int64_t fs_symlink(struct vnode *dir, const char *both, size_t len, uint32_t uid, uint32_t gid,
                   struct fs_node *node)
{
    message_t m = {.type = FS_SYMLINK, .u.fs.symlink = {.dir = dir->ino, .uid = uid, .gid = gid}};
    struct msg_fs_symlink *q = &m.u.fs.symlink;
    return fs_named(dir, &m, &q->grant, &q->len, both, len, node);
}

int64_t fs_link(struct vnode *dir, const char *name, uint64_t ino)
{
    message_t m = {.type = FS_LINK, .u.fs.link = {.dir = dir->ino, .ino = ino}};
    struct msg_fs_link *q = &m.u.fs.link;
    return fs_named(dir, &m, &q->name_grant, &q->name_len, name, strlen(name), 0);
}

/* FS_UNLINK or FS_RMDIR */
int64_t fs_remove(int type, struct vnode *dir, const char *name)
{
    message_t m = {.type = type, .u.fs.unlink = {.dir = dir->ino}};
    struct msg_fs_name *q = &m.u.fs.unlink;
    return fs_named(dir, &m, &q->name_grant, &q->name_len, name, strlen(name), 0);
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
