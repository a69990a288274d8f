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
 * SYMLINK: name may hold "name\0target"): w3/w4 as the request needs.
 * *ino gets w1 of the reply. FS_PUTNODE with dir = NULL releases *ino on
 * the root file system (used for nodes vfs creates and does not keep).
 */
int64_t fs_named(int type, struct vnode *dir, const char *name, size_t len, uint64_t w3,
                 uint64_t w4, uint64_t *ino)
{
    message_t m = {.type = type};
    if (type == FS_PUTNODE) {
        m.u.w[0] = *ino;
        return fs_call(root_vnode->fs, &m);
    }
    grant_id_t g = grant_alloc(dir->fs, name, len, GRANT_READ);
    if (g < 0)
        return -LX_ENOMEM;
    m.u.w[0] = dir->ino;
    m.u.w[1] = (uint64_t)g;
    m.u.w[2] = len;
    m.u.w[3] = w3;
    m.u.w[4] = w4;
    int64_t r = fs_call(dir->fs, &m);
    grant_free(g);
    if (r >= 0 && ino)
        *ino = m.u.w[1];
    if (type == FS_LOOKUP && r >= 0 && ino)
        ino[1] = m.u.w[2]; /* the mode, for callers that pass two words */
    return r;
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
    }
    return r;
}
