/*
 * Permissions: who may do what to a file, by Linux's rules. Each process's
 * credentials (struct cred) come from pm, which vfs trusts: a copy on
 * VFS_PM_FORK, and VFS_PM_SETCRED after every change (set*id, setgroups,
 * a set-user-id exec), so they are current when a call arrives.
 *
 * Checks use the file-system ids (fsuid, fsgid) and the supplementary
 * groups; access(2) swaps in the real ids for its one call. fsuid 0 is
 * root (Linux's CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN, CAP_FSETID): it
 * passes every read and write check, and an exec check if the file has
 * any x bit (or is a directory). Others get the owner's, the group's or
 * everyone else's rwx bits, the first class they belong to.
 *
 * The rules (each failure's errno in brackets):
 *  - every directory a path is looked up in needs x (EACCES, path.c);
 *  - adding a name (create, mkdir, symlink, link, rename's target) needs
 *    w and x on the directory (EACCES; EEXIST first if the name exists);
 *  - removing one (unlink, rmdir, rename's source and an existing target)
 *    needs w and x, and in a sticky directory (S_ISVTX, e.g. /tmp) also
 *    owning the file or the directory (EPERM); moving a directory to
 *    another parent needs w on it (its ".." changes);
 *  - hard links (fs.protected_hardlinks = 1): the file's owner, or a
 *    regular file without set-id bits the caller may read and write (EPERM);
 *  - symbolic links in a sticky world-writable directory are followed only
 *    if they belong to the follower or to the directory's owner
 *    (fs.protected_symlinks = 1; EACCES);
 *  - chmod, utimensat with explicit times: the owner (EPERM); utimensat to
 *    "now": the owner or a writer (EACCES); chown: root, or the owner
 *    giving the file to one of its own groups (EPERM);
 *  - on a read-only mount or file system (mount.c: mount_erofs), writing
 *    to a regular file, directory or link, adding or removing names and
 *    changing attributes fail for everyone (EROFS; removing: before the
 *    name is looked up, as in Linux);
 *  - new files take the fsuid, and the fsgid or, in a set-group-id
 *    directory, the directory's group (a new directory there inherits the
 *    bit); chmod and chown and a write by non-root clear set-id bits as
 *    Linux does.
 */
#include "vfs.h"

#define S_IXGRP 010
#define S_IWOTH 002

static int is_root(const struct vproc *p)
{
    return !p || p->cred.fsuid == 0;
}

static int in_group(const struct vproc *p, uint32_t gid)
{
    return cred_in_group(&p->cred, gid);
}

/* 0 if p may do want (MAY_READ | MAY_WRITE | MAY_EXEC) to v, else -EACCES. p NULL: vfs itself. */
int perm_check(const struct vproc *p, const struct vnode *v, int want)
{
    uint64_t mode = v->mode;
    if ((want & MAY_WRITE) && mount_erofs(v))
        return -LX_EROFS; /* a read-only mount or file system, even for root */
    if (is_root(p)) {
        if (!(want & MAY_EXEC) || (mode & S_IFMT) == S_IFDIR || (mode & 0111))
            return 0;
        return -LX_EACCES;
    }
    uint64_t bits = p->cred.fsuid == v->uid ? mode >> 6 : in_group(p, v->gid) ? mode >> 3 : mode;
    return ((int)bits & want) == want ? 0 : -LX_EACCES;
}

/* p owns v, or is root. */
int perm_owner(const struct vproc *p, const struct vnode *v)
{
    return is_root(p) || p->cred.fsuid == v->uid;
}

/* Following link, found in dir (fs.protected_symlinks): 0 or -EACCES. */
int perm_follow(const struct vproc *p, const struct vnode *dir, const struct vnode *link)
{
    if (!p || !(dir->mode & S_ISVTX) || !(dir->mode & S_IWOTH))
        return 0;
    return p->cred.fsuid == link->uid || dir->uid == link->uid ? 0 : -LX_EACCES;
}

/* The entry name of dir, held, or 0 with *err. */
static struct vnode *child(struct vnode *dir, const char *name, int64_t *err)
{
    struct vnode *v;
    *err = namecache_lookup(dir, name, strlen(name), &v);
    return v;
}

/* A name may be added to dir: w and x on it; EEXIST before EACCES if it is taken (at once if the
 * name cache knows it is: mkdir -p, tar's leading directories). */
int perm_may_create(struct vproc *p, struct vnode *dir, const char *name)
{
    int r = perm_check(p, dir, MAY_EXEC);
    if (!r && namecache_known(dir, name, strlen(name)) > 0)
        return -LX_EEXIST;
    if (r || !(r = perm_check(p, dir, MAY_WRITE)))
        return r;
    int64_t err;
    struct vnode *v = child(dir, name, &err);
    vnode_put(v);
    return v ? -LX_EEXIST : r;
}

/* In a sticky directory, only the file's owner, the directory's owner or root removes it. */
static int sticky_ok(const struct vproc *p, const struct vnode *dir, const struct vnode *v)
{
    return !(dir->mode & S_ISVTX) || is_root(p) || p->cred.fsuid == v->uid ||
           p->cred.fsuid == dir->uid;
}

/*
 * name may be removed from dir (unlink, rmdir, rename): it must exist
 * (the server's error otherwise), dir needs w and x, and the sticky rule.
 * *victim (if given) gets the entry, held.
 */
int perm_may_delete(struct vproc *p, struct vnode *dir, const char *name, struct vnode **victim)
{
    int64_t r = perm_check(p, dir, MAY_EXEC);
    r = r ? r : mount_erofs(dir); /* before the lookup, as in Linux */
    struct vnode *v = r ? 0 : child(dir, name, &r);
    if (v && !(r = perm_check(p, dir, MAY_WRITE)) && !sticky_ok(p, dir, v))
        r = -LX_EPERM;
    if (victim && !r)
        *victim = v;
    else
        vnode_put(v);
    return (int)r;
}

/* rename d1/l1 to d2/l2: remove the source, add (or replace) the target, and a moved directory's
 * "..". */
int perm_may_rename(struct vproc *p, struct vnode *d1, const char *l1, struct vnode *d2,
                    const char *l2)
{
    struct vnode *src;
    int64_t r = perm_may_delete(p, d1, l1, &src);
    if (r)
        return (int)r;
    struct vnode *target = (r = perm_check(p, d2, MAY_EXEC)) ? 0 : child(d2, l2, &r);
    if (target)
        r = perm_may_delete(p, d2, l2, 0);
    else if (r == -LX_ENOENT)
        r = perm_check(p, d2, MAY_WRITE);
    if (!r && (src->mode & S_IFMT) == S_IFDIR && d1 != d2 && src != target)
        r = perm_check(p, src, MAY_WRITE);
    vnode_put(target);
    vnode_put(src);
    return (int)r;
}

/* A set-id bit that a change by p (chown, or a write by non-root) takes away. */
static uint64_t setid_bits(uint64_t mode)
{
    uint64_t bits = mode & S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
        bits |= S_ISGID;
    return bits;
}

/* A new hard link to src (protected_hardlinks): its owner, or a plain file p may read and write. */
int perm_may_link(struct vproc *p, struct vnode *src)
{
    if (perm_owner(p, src))
        return 0;
    if ((src->mode & S_IFMT) == S_IFREG && !setid_bits(src->mode) &&
        !perm_check(p, src, MAY_READ | MAY_WRITE))
        return 0;
    return -LX_EPERM;
}

/* mknod of a device node (mode's type): root's (Linux's CAP_MKNOD, which follows the fsuid). */
int perm_may_mknod(const struct vproc *p, uint64_t mode)
{
    uint64_t type = mode & S_IFMT;
    return (type == S_IFCHR || type == S_IFBLK) && !is_root(p) ? -LX_EPERM : 0;
}

/*
 * Create name in dir (checked by the caller) owned by p: its fsuid, and
 * its fsgid or a set-group-id directory's group. *out (if given) gets the
 * new vnode, held.
 */
int64_t vfs_create(struct vproc *p, struct vnode *dir, const char *name, uint64_t mode,
                   uint64_t rdev, struct vnode **out)
{
    uint32_t uid = p ? p->cred.fsuid : 0, gid = p ? p->cred.fsgid : 0;
    if (dir->mode & S_ISGID) {
        gid = dir->gid;
        if ((mode & S_IFMT) == S_IFDIR)
            mode |= S_ISGID;
    }
    if ((mode & S_IFMT) != S_IFDIR && (mode & S_ISGID) && (mode & S_IXGRP) && !is_root(p) &&
        !in_group(p, gid))
        mode &= ~(uint64_t)S_ISGID;
    struct fs_node node;
    int64_t r = fs_create(dir, name, mode, rdev, uid, gid, &node);
    if (r < 0)
        return r;
    struct vnode *v = vnode_child(dir, &node);
    if (v)
        namecache_enter(dir, name, v);
    if (out)
        *out = v;
    else
        vnode_put(v);
    return v || !out ? 0 : -LX_ENFILE;
}

/* A symbolic link ("name\0target", len bytes) in dir, owned as vfs_create's files are. */
int64_t vfs_symlink(struct vproc *p, struct vnode *dir, const char *both, size_t len)
{
    struct fs_node node;
    int64_t r = fs_symlink(dir, both, len, p->cred.fsuid,
                           dir->mode & S_ISGID ? dir->gid : p->cred.fsgid, &node);
    if (r >= 0)
        vnode_put(vnode_child(dir, &node));
    return r;
}

static int64_t set_mode(struct vnode *v, uint64_t mode)
{
    message_t m = {.type = FS_CHMOD, .u.fs.chmod = {v->ino, mode & 07777}};
    int64_t r = v->fs == NONE ? 0 : fs_call(v->fs, &m);
    if (r >= 0) {
        v->mode = (v->mode & S_IFMT) | (mode & 07777);
        vnode_attrs_spread(v); /* the same file through other mounts, which the cache keeps */
    }
    return r;
}

/* chmod: the owner or root; a non-root owner outside the file's group cannot set S_ISGID. */
int64_t attr_chmod(struct vproc *p, struct vnode *v, uint64_t mode)
{
    if (mount_erofs(v))
        return -LX_EROFS;
    if (!perm_owner(p, v))
        return -LX_EPERM;
    if (!is_root(p) && !in_group(p, v->gid))
        mode &= ~(uint64_t)S_ISGID;
    return set_mode(v, mode);
}

/* chown (uid or gid (uint32_t)-1: unchanged): Linux's chown_ok and chgrp_ok. */
int64_t attr_chown(struct vproc *p, struct vnode *v, uint32_t uid, uint32_t gid)
{
    const uint32_t keep = 0xffffffffu;
    if (mount_erofs(v))
        return -LX_EROFS;
    if (uid == keep && gid == keep)
        return 0;
    uid = uid == keep ? v->uid : uid;
    gid = gid == keep ? v->gid : gid;
    if (!is_root(p) &&
        (p->cred.fsuid != v->uid || uid != v->uid || (gid != v->gid && !in_group(p, gid))))
        return -LX_EPERM;
    uint64_t mode = v->mode;
    if ((mode & S_IFMT) != S_IFDIR)
        mode &= ~setid_bits(mode);
    message_t m = {.type = FS_CHOWN, .u.fs.chown = {v->ino, uid, gid, mode & 07777}};
    int64_t r = v->fs == NONE ? 0 : fs_call(v->fs, &m);
    if (r >= 0) {
        v->uid = uid;
        v->gid = gid;
        v->mode = mode;
        vnode_attrs_spread(v);
    }
    return r;
}

/*
 * utimensat on v: times[0], times[1] are atime and mtime in seconds, or
 * FS_TIME_NOW / FS_TIME_OMIT. Both now: the owner, root or a writer
 * (EACCES); anything else: the owner or root (EPERM).
 */
int64_t attr_utimes(struct vproc *p, struct vnode *v, const uint64_t *times)
{
    if (mount_erofs(v))
        return -LX_EROFS;
    if (times[0] == FS_TIME_NOW && times[1] == FS_TIME_NOW) {
        if (!perm_owner(p, v) && perm_check(p, v, MAY_WRITE))
            return -LX_EACCES;
    } else if (!perm_owner(p, v)) {
        return -LX_EPERM;
    }
    message_t m = {.type = FS_UTIME, .u.fs.utime = {v->ino, times[0], times[1]}};
    return v->fs == NONE ? 0 : fs_call(v->fs, &m);
}

/* A write or truncate by non-root takes the set-user-id and set-group-id bits away. */
void attr_drop_setid(struct vproc *p, struct vnode *v)
{
    if (!is_root(p) && setid_bits(v->mode))
        set_mode(v, v->mode & ~setid_bits(v->mode));
}

/* VFS_PM_SETCRED from pm: w0 the process, w1 a read grant of its struct cred. */
int64_t perm_set_cred(endpoint_t pm, const message_t *m)
{
    const struct msg_vfs_pm_setcred *q = &m->u.vfs_pm.setcred;
    struct vproc *p = vproc_of(q->ep);
    struct cred c;
    if (!p)
        return -LX_ESRCH;
    if (sys_safecopy_from(pm, q->grant, 0, &c, sizeof(c)) < 0)
        return -LX_EFAULT;
    if (c.ngroups > CRED_NGROUPS)
        return -LX_EINVAL;
    p->cred = c;
    return 0;
}
