/*
 * Vnodes: vfs's handle on a file of some file-system server, shared by
 * every open file, current directory and path walk that refers to it
 * (reference counted; the server hears FS_PUTNODE when the last goes).
 * Also the FS_* request helpers, which pass names through a grant.
 */
#include "vfs.h"

static struct vnode vnodes[NR_VNODES];

struct vnode *vnode_get(endpoint_t fs, uint64_t ino, uint64_t mode, uint64_t rdev)
{
    struct vnode *free = 0;
    for (int i = 0; i < NR_VNODES; i++) {
        struct vnode *v = &vnodes[i];
        if (v->refs && v->fs == fs && v->ino == ino && fs != NONE) {
            v->refs++;
            return v;
        }
        if (!v->refs && !free)
            free = v;
    }
    if (!free)
        return 0;
    *free = (struct vnode){.refs = 1, .fs = fs, .ino = ino, .mode = mode, .rdev = rdev};
    return free;
}

/* The mount point that the root of a mounted file system, v, covers; 0 if none. */
struct vnode *vnode_covered(struct vnode *v)
{
    for (int i = 0; i < NR_VNODES; i++)
        if (vnodes[i].refs && vnodes[i].mounted == v)
            return &vnodes[i];
    return 0;
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
    if (v->fs != NONE) {
        message_t m = {.type = FS_PUTNODE, .u.w = {v->ino}};
        fs_call(v->fs, &m);
    }
    v->refs = 0;
}

/* One request to a file-system server; its result (>= 0 or -errno). */
int64_t fs_call(endpoint_t fs, message_t *m)
{
    if (fs == PROCFS_EP)
        return procfs_request(m);
    int r = ipc_sendrec(fs, m);
    if (r < 0)
        return -LX_EIO;
    return (int64_t)m->u.w[0];
}

/* A request that moves at most max bytes: a larger count from the server is -EIO. */
int64_t fs_transfer(endpoint_t fs, message_t *m, uint64_t max)
{
    int64_t r = fs_call(fs, m);
    return r > 0 && (uint64_t)r > max ? -LX_EIO : r;
}

/*
 * A request that names an entry of dir (LOOKUP, CREATE, UNLINK, RMDIR, LINK,
 * SYMLINK: name may hold "name\0target"): m has the type and w3.. as the
 * request needs; w0..w2 are filled here. For LOOKUP, CREATE and SYMLINK,
 * *node (if given) gets what the reply says of the inode.
 */
int64_t fs_named_request(message_t *m, struct vnode *dir, const char *name, size_t len,
                         struct fs_node *node)
{
    grant_id_t g = grant_alloc(dir->fs, name, len, GRANT_READ);
    if (g < 0)
        return -LX_ENOMEM;
    int type = m->type;
    m->u.w[0] = dir->ino;
    m->u.w[1] = (uint64_t)g;
    m->u.w[2] = len;
    int64_t r = fs_call(dir->fs, m);
    grant_free(g);
    if (r >= 0 && node && (type == FS_LOOKUP || type == FS_CREATE || type == FS_SYMLINK))
        *node = (struct fs_node){.ino = m->u.w[1],
                                 .mode = m->u.w[2],
                                 .rdev = m->u.w[3],
                                 .uid = m->u.w[5],
                                 .gid = m->u.w[6]};
    return r;
}

/* fs_named_request with w3 and w4. FS_PUTNODE (dir = NULL) releases node->ino on the root file
 * system. */
int64_t fs_named(int type, struct vnode *dir, const char *name, size_t len, uint64_t w3,
                 uint64_t w4, struct fs_node *node)
{
    message_t m = {.type = type, .u.w = {0, 0, 0, w3, w4}};
    if (type == FS_PUTNODE) {
        message_t put = {.type = FS_PUTNODE, .u.w = {node->ino}};
        return fs_call(root_vnode->fs, &put);
    }
    return fs_named_request(&m, dir, name, len, node);
}

int64_t fs_stat(struct vnode *v, struct fs_stat *st)
{
    grant_id_t g = grant_alloc(v->fs, st, sizeof(*st), GRANT_WRITE);
    if (g < 0)
        return -LX_ENOMEM;
    message_t m = {.type = FS_STAT, .u.w = {v->ino, (uint64_t)g}};
    int64_t r = fs_call(v->fs, &m);
    grant_free(g);
    if (r >= 0) {
        v->size = st->size;
        v->mode = st->mode;
        v->rdev = st->rdev;
        v->uid = (uint32_t)st->uid;
        v->gid = (uint32_t)st->gid;
    }
    return r;
}
