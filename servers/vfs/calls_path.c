/*
 * System calls that name files: open, the stat family, access, mkdir,
 * mknod (FIFOs, sockets, files, and device nodes for root), unlink, rmdir, rename, link, symlink,
 * readlink, chdir, getcwd, umask, chmod, chown, utimensat, truncate and statfs. Who may do what is
 * perm.c's; these calls ask it before they act.
 */
#include "vfs.h"

static char path_buf[PATH_MAX], path_buf2[PATH_MAX];

struct linux_stat {
    uint64_t dev, ino, nlink;
    uint32_t mode, uid, gid, pad0;
    uint64_t rdev;
    int64_t size, blksize, blocks;
    uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
    int64_t unused[3];
};

static int64_t stat_out(struct vproc *p, struct vnode *v, uint64_t uaddr)
{
    struct fs_stat st;
    int64_t r = fs_stat(v, &st);
    if (r < 0)
        return r;
    struct linux_stat ls = {.dev = mount_dev(v->fs),
                            .ino = st.ino,
                            .nlink = st.nlink,
                            .mode = (uint32_t)st.mode,
                            .uid = (uint32_t)st.uid,
                            .gid = (uint32_t)st.gid,
                            .rdev = st.rdev,
                            .size = (int64_t)st.size,
                            .blksize = 4096,
                            .blocks = (int64_t)st.blocks,
                            .atime = st.atime,
                            .mtime = st.mtime,
                            .ctime = st.ctime};
    return copy_out(p, uaddr, &ls, sizeof(ls));
}

static int64_t stat_path(struct vproc *p, int dirfd, uint64_t upath, uint64_t ustat, int follow,
                         int empty_ok)
{
    struct vnode *v;
    int r = copy_path(p, upath, path_buf);
    if (r == -LX_ENOENT && empty_ok && dirfd != AT_FDCWD) { /* AT_EMPTY_PATH: the fd itself */
        struct file *f = fd_file(p, dirfd);
        return f ? stat_out(p, f->vn, ustat) : -LX_EBADF;
    }
    if (r < 0)
        return r;
    if ((r = path_lookup(p, dirfd, path_buf, follow, &v)) < 0)
        return r;
    int64_t res = stat_out(p, v, ustat);
    vnode_put(v);
    return res;
}

int64_t do_stat(struct vproc *p, const uint64_t *a)
{
    return stat_path(p, AT_FDCWD, a[0], a[1], 1, 0);
}
int64_t do_lstat(struct vproc *p, const uint64_t *a)
{
    return stat_path(p, AT_FDCWD, a[0], a[1], 0, 0);
}
int64_t do_newfstatat(struct vproc *p, const uint64_t *a)
{
    return stat_path(p, (int)a[0], a[1], a[2], !(a[3] & AT_SYMLINK_NOFOLLOW), a[3] & AT_EMPTY_PATH);
}

int64_t do_fstat(struct vproc *p, const uint64_t *a)
{
    struct file *f = fd_file(p, (int)a[0]);
    if (!f)
        return -LX_EBADF;
    if (f->vn->fs == NONE) { /* a pipe */
        struct linux_stat ls = {.mode = (uint32_t)f->vn->mode,
                                .nlink = 1,
                                .blksize = 4096,
                                .uid = f->vn->uid,
                                .gid = f->vn->gid};
        return copy_out(p, a[1], &ls, sizeof(ls));
    }
    return stat_out(p, f->vn, a[1]);
}

/* The access an open asks for: read for O_RDONLY, write for O_WRONLY and O_TRUNC, both for 2 and 3.
 */
static int open_wants(uint64_t flags)
{
    static const int by_mode[4] = {MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE};
    return by_mode[flags & O_ACCMODE] | (flags & O_TRUNC ? MAY_WRITE : 0);
}

/*
 * O_CREAT: make the file if dir allows adding names; else only an existing
 * one may be opened. *created: the file is new (its mode is not checked).
 */
static int64_t open_create(struct vproc *p, int dirfd, uint64_t flags, uint64_t mode,
                           struct vnode **v, int *created)
{
    struct vnode *dir;
    char last[FS_NAME_MAX + 1];
    int64_t r = path_parent(p, dirfd, path_buf, &dir, last);
    if (r < 0)
        return r == -LX_EEXIST ? -LX_EISDIR : r;
    int may_add = perm_may_create(p, dir, last);
    if (may_add == 0) {
        r = vfs_create(p, dir, last, S_IFREG | (mode & 07777 & ~p->files->umask), 0, v);
        *created = r >= 0;
    }
    if ((may_add == -LX_EEXIST || r == -LX_EEXIST) && (flags & O_EXCL))
        r = -LX_EEXIST;
    else if (may_add == -LX_EEXIST || r == -LX_EEXIST)
        r = path_lookup(p, dirfd, path_buf, !(flags & O_NOFOLLOW), v);
    else if (may_add)
        r = may_add;
    vnode_put(dir);
    return r;
}

static int64_t do_open_at(struct vproc *p, int dirfd, uint64_t upath, uint64_t flags, uint64_t mode)
{
    struct vnode *v = 0;
    int created = 0;
    int64_t r = copy_path(p, upath, path_buf);
    if (r < 0)
        return r;
    if (flags & O_CREAT)
        r = open_create(p, dirfd, flags, mode, &v, &created);
    else
        r = path_lookup(p, dirfd, path_buf, !(flags & O_NOFOLLOW), &v);
    if (r < 0)
        return r;
    uint64_t type = v->mode & S_IFMT;
    if ((flags & O_DIRECTORY) && type != S_IFDIR)
        r = -LX_ENOTDIR;
    else if (type == S_IFDIR && (flags & O_ACCMODE) != 0)
        r = -LX_EISDIR;
    else if (type == S_IFLNK)
        r = -LX_ELOOP;
    else if (type == S_IFSOCK)
        r = -LX_ENXIO; /* a socket's name is for connect, not open (Linux) */
    else
        r = created ? 0 : perm_check(p, v, open_wants(flags));
    if (r >= 0 && type == S_IFCHR && DEV_MAJOR(v->rdev) != DEV_MEM_MAJOR)
        r = dev_open(p, v, (uint32_t)flags);
    else if (r >= 0 && mem_device(v) && !mem_known(v))
        r = -LX_ENXIO; /* a minor of major 1 vfs does not serve (Linux's mem, kmsg...) */
    else if (r >= 0 && type == S_IFBLK)
        r = -LX_ENXIO; /* no block device is open to Linux processes */
    else if (r >= 0 && type == S_IFIFO)
        r = fifo_open(p, v, (uint32_t)flags); /* may wait for the other end */
    if (r == SUSPEND) {
        vnode_put(v);
        return SUSPEND;
    }
    if (r >= 0 && type == S_IFREG && (flags & O_TRUNC) && (flags & O_ACCMODE)) {
        message_t m = {.type = FS_TRUNC, .u.fs.trunc = {v->ino, 0}};
        r = fs_call(v->fs, &m);
        attr_drop_setid(p, v);
    }
    struct file *f =
        r >= 0 ? file_new(v, (uint32_t)flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) : 0;
    if (!f) {
        if (r >= 0 && type == S_IFCHR)
            dev_close(v);
        if (r >= 0 && type == S_IFIFO)
            pipe_drop(v, (uint32_t)flags);
        vnode_put(v);
        return r < 0 ? r : -LX_ENFILE;
    }
    file_name_set(f, p, dirfd, path_buf); /* for /proc/PID/fd */
    int fd = fd_install(p, f, 0, flags & O_CLOEXEC);
    if (fd < 0)
        file_put(f);
    return fd;
}

int64_t do_open(struct vproc *p, const uint64_t *a)
{
    return do_open_at(p, AT_FDCWD, a[0], a[1], a[2]);
}
int64_t do_openat(struct vproc *p, const uint64_t *a)
{
    return do_open_at(p, (int)a[0], a[1], a[2], a[3]);
}
int64_t do_creat(struct vproc *p, const uint64_t *a)
{
    return do_open_at(p, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
}

/*
 * access, faccessat, faccessat2: may the process read, write or execute
 * (mode 4, 2, 1; 0: exists)? With its real ids, unless AT_EACCESS.
 */
static int64_t access_at(struct vproc *p, int dirfd, uint64_t upath, uint64_t mode, uint64_t flags)
{
    struct vnode *v;
    if (mode & ~7ull || flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -LX_EINVAL;
    int64_t r = copy_path(p, upath, path_buf);
    int empty = r == -LX_ENOENT && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD; /* the fd itself */
    struct file *f = empty ? fd_file(p, dirfd) : 0;
    if (r < 0 && !empty)
        return r;
    if (empty && !f)
        return -LX_EBADF;
    struct cred own = p->cred;
    if (!(flags & AT_EACCESS)) {
        p->cred.fsuid = p->cred.ruid;
        p->cred.fsgid = p->cred.rgid;
    }
    if (empty) {
        v = f->vn;
        vnode_hold(v);
        r = 0;
    } else {
        r = path_lookup(p, dirfd, path_buf, !(flags & AT_SYMLINK_NOFOLLOW), &v);
    }
    if (r == 0) {
        r = perm_check(p, v, (int)mode);
        vnode_put(v);
    }
    p->cred = own;
    return r;
}

int64_t do_access(struct vproc *p, const uint64_t *a)
{
    return access_at(p, AT_FDCWD, a[0], a[1], 0);
}
int64_t do_faccessat(struct vproc *p, const uint64_t *a)
{
    return access_at(p, (int)a[0], a[1], a[2], 0);
}
int64_t do_faccessat2(struct vproc *p, const uint64_t *a)
{
    return access_at(p, (int)a[0], a[1], a[2], a[3]);
}

/* 1 if name in dir is a mount point (or the root of a mounted file system); files_only: and not a
 * directory (unlink: a directory is EISDIR first). */
static int is_mount_point(struct vnode *dir, const char *name, int files_only)
{
    struct vnode *v;
    if (namecache_lookup(dir, name, strlen(name), &v) < 0)
        return 0;
    int busy =
        v && (v->mounted || vnode_covered(v)) && (!files_only || (v->mode & S_IFMT) != S_IFDIR);
    vnode_put(v);
    return busy;
}

/* Operations on a (directory, last name) pair: mkdir, mknod, unlink, rmdir (rdev: mknod's). */
static int64_t named_op(struct vproc *p, int dirfd, uint64_t upath, int type, uint64_t mode,
                        uint64_t rdev)
{
    struct vnode *dir;
    char last[FS_NAME_MAX + 1];
    int64_t r = copy_path(p, upath, path_buf);
    if (r < 0 || (r = path_parent(p, dirfd, path_buf, &dir, last)) < 0)
        return r == -LX_EEXIST && type == FS_RMDIR ? -LX_EBUSY : r; /* rmdir("/") */
    if (!strcmp(last, ".") || !strcmp(last, "..")) {
        vnode_put(dir);
        return type == FS_CREATE ? -LX_EEXIST : -LX_EINVAL;
    }
    if ((type == FS_RMDIR || type == FS_UNLINK) && is_mount_point(dir, last, type == FS_UNLINK)) {
        vnode_put(dir);
        return -LX_EBUSY;
    }
    if (type == FS_CREATE)
        r = perm_may_create(p, dir, last);
    else
        r = perm_may_delete(p, dir, last, 0);
    if (r == 0 && type == FS_CREATE)
        r = perm_may_mknod(p, mode);
    if (r == 0 && type == FS_CREATE)
        r = vfs_create(p, dir, last, mode, rdev, 0);
    else if (r == 0)
        r = fs_remove(type, dir, last);
    vnode_put(dir);
    return r < 0 ? r : 0;
}

int64_t do_mkdir(struct vproc *p, const uint64_t *a)
{
    return named_op(p, AT_FDCWD, a[0], FS_CREATE, S_IFDIR | (a[1] & 07777 & ~p->files->umask), 0);
}
int64_t do_mkdirat(struct vproc *p, const uint64_t *a)
{
    return named_op(p, (int)a[0], a[1], FS_CREATE, S_IFDIR | (a[2] & 07777 & ~p->files->umask), 0);
}
int64_t do_unlink(struct vproc *p, const uint64_t *a)
{
    return named_op(p, AT_FDCWD, a[0], FS_UNLINK, 0, 0);
}
int64_t do_rmdir(struct vproc *p, const uint64_t *a)
{
    return named_op(p, AT_FDCWD, a[0], FS_RMDIR, 0, 0);
}
int64_t do_unlinkat(struct vproc *p, const uint64_t *a)
{
    return named_op(p, (int)a[0], a[1], (a[2] & AT_REMOVEDIR) ? FS_RMDIR : FS_UNLINK, 0, 0);
}

/*
 * mknod, mknodat: a regular file (type 0 too), FIFO or socket node for
 * anyone who may add the name; a character or block device node for root
 * (perm_may_mknod: EPERM). dev is Linux's 32-bit encoding; numbers past
 * 255 do not fit ours (EINVAL). A directory is EPERM, other types EINVAL
 * (Linux's may_mknod), before the path is looked at.
 */
static int64_t mknod_at(struct vproc *p, int dirfd, uint64_t upath, uint64_t mode, uint64_t dev)
{
    uint64_t type = mode & S_IFMT ? mode & S_IFMT : S_IFREG;
    if (type == S_IFDIR)
        return -LX_EPERM;
    if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
        type != S_IFSOCK)
        return -LX_EINVAL;
    uint64_t major = (dev >> 8) & 0xfff, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    if ((type == S_IFCHR || type == S_IFBLK) && (major > DEV_MAJOR_MAX || minor > 0xff))
        return -LX_EINVAL;
    uint64_t rdev = type == S_IFCHR || type == S_IFBLK ? DEV_MAKE(major, minor) : 0;
    return named_op(p, dirfd, upath, FS_CREATE, type | (mode & 07777 & ~p->files->umask), rdev);
}

int64_t do_mknod(struct vproc *p, const uint64_t *a)
{
    return mknod_at(p, AT_FDCWD, a[0], a[1] & 0xffffffff, a[2] & 0xffffffff);
}
int64_t do_mknodat(struct vproc *p, const uint64_t *a)
{
    return mknod_at(p, (int)a[0], a[1], a[2] & 0xffffffff, a[3] & 0xffffffff);
}

static int64_t symlink_at(struct vproc *p, uint64_t utarget, int dirfd, uint64_t upath)
{
    struct vnode *dir;
    char last[FS_NAME_MAX + 1];
    int64_t r = copy_path(p, utarget, path_buf2);
    if (r < 0 || (r = copy_path(p, upath, path_buf)) < 0 ||
        (r = path_parent(p, dirfd, path_buf, &dir, last)) < 0)
        return r;
    size_t n = strlen(last), t = strlen(path_buf2);
    static char both[FS_NAME_MAX + 1 + PATH_MAX];
    memcpy(both, last, n + 1);
    memcpy(both + n + 1, path_buf2, t);
    if ((r = perm_may_create(p, dir, last)) == 0)
        r = vfs_symlink(p, dir, both, n + 1 + t);
    vnode_put(dir);
    return r < 0 ? r : 0;
}

int64_t do_symlink(struct vproc *p, const uint64_t *a)
{
    return symlink_at(p, a[0], AT_FDCWD, a[1]);
}
int64_t do_symlinkat(struct vproc *p, const uint64_t *a)
{
    return symlink_at(p, a[0], (int)a[1], a[2]);
}

static int64_t readlink_at(struct vproc *p, int dirfd, uint64_t upath, uint64_t ubuf, uint64_t len)
{
    struct vnode *v;
    int64_t r = copy_path(p, upath, path_buf);
    if (r < 0 || (r = path_lookup(p, dirfd, path_buf, 0, &v)) < 0)
        return r;
    if ((v->mode & S_IFMT) != S_IFLNK) {
        vnode_put(v);
        return -LX_EINVAL;
    }
    if ((int64_t)len <= 0) {
        vnode_put(v);
        return -LX_EINVAL;
    }
    len = len < PATH_MAX ? len : PATH_MAX;
    r = fs_readlink(v, path_buf2, len);
    vnode_put(v);
    if (r > 0 && copy_out(p, ubuf, path_buf2, (uint64_t)r) < 0)
        return -LX_EFAULT;
    return r;
}

int64_t do_readlink(struct vproc *p, const uint64_t *a)
{
    return readlink_at(p, AT_FDCWD, a[0], a[1], a[2]);
}
int64_t do_readlinkat(struct vproc *p, const uint64_t *a)
{
    return readlink_at(p, (int)a[0], a[1], a[2], a[3]);
}

/* rename and link: two paths, one file system. */
static int64_t two_paths(struct vproc *p, int fd1, uint64_t u1, int fd2, uint64_t u2, int type)
{
    struct vnode *d1, *d2;
    static char l1[FS_NAME_MAX + 1], l2[FS_NAME_MAX + 1];
    int64_t r = copy_path(p, u1, path_buf);
    if (r < 0 || (r = copy_path(p, u2, path_buf2)) < 0)
        return r;
    if (type == FS_LINK) {
        struct vnode *src;
        if ((r = path_lookup(p, fd1, path_buf, 0, &src)) < 0)
            return r;
        if ((src->mode & S_IFMT) == S_IFDIR) {
            vnode_put(src);
            return -LX_EPERM;
        }
        if ((r = path_parent(p, fd2, path_buf2, &d2, l2)) < 0) {
            vnode_put(src);
            return r;
        }
        if (!(r = perm_may_create(p, d2, l2)) && !(r = perm_may_link(p, src)))
            r = src->fs != d2->fs || src->bind != d2->bind ? -LX_EXDEV : fs_link(d2, l2, src->ino);
        vnode_put(src);
        vnode_put(d2);
        return r < 0 ? r : 0;
    }
    /* rename: neither name may be "/", ".", "..", or a mount point */
    if ((r = path_parent(p, fd1, path_buf, &d1, l1)) < 0)
        return r == -LX_EEXIST ? -LX_EBUSY : r;
    if ((r = path_parent(p, fd2, path_buf2, &d2, l2)) < 0) {
        vnode_put(d1);
        return r == -LX_EEXIST ? -LX_EBUSY : r;
    }
    if (!strcmp(l1, ".") || !strcmp(l1, "..") || !strcmp(l2, ".") || !strcmp(l2, "..") ||
        is_mount_point(d1, l1, 0) || is_mount_point(d2, l2, 0)) {
        vnode_put(d1);
        vnode_put(d2);
        return -LX_EBUSY;
    }
    r = d1->fs != d2->fs || d1->bind != d2->bind ? -LX_EXDEV : perm_may_rename(p, d1, l1, d2, l2);
    if (r == 0)
        r = fs_rename(d1, l1, d2, l2);
    vnode_put(d1);
    vnode_put(d2);
    return r < 0 ? r : 0;
}

int64_t do_rename(struct vproc *p, const uint64_t *a)
{
    return two_paths(p, AT_FDCWD, a[0], AT_FDCWD, a[1], FS_RENAME);
}
int64_t do_renameat(struct vproc *p, const uint64_t *a)
{
    return two_paths(p, (int)a[0], a[1], (int)a[2], a[3], FS_RENAME);
}
int64_t do_renameat2(struct vproc *p, const uint64_t *a)
{
    return a[4] ? -LX_EINVAL : two_paths(p, (int)a[0], a[1], (int)a[2], a[3], FS_RENAME);
}
int64_t do_link(struct vproc *p, const uint64_t *a)
{
    return two_paths(p, AT_FDCWD, a[0], AT_FDCWD, a[1], FS_LINK);
}
int64_t do_linkat(struct vproc *p, const uint64_t *a)
{
    return two_paths(p, (int)a[0], a[1], (int)a[2], a[3], FS_LINK);
}

/* Make v (held; given up) p's cwd or root (*slot): a directory p may search; for the root
 * (chroot), then root only (EPERM: CAP_SYS_CHROOT, the effective uid). */
static int64_t set_dir(struct vproc *p, struct vnode *v, struct vnode **slot)
{
    int64_t r = (v->mode & S_IFMT) != S_IFDIR ? -LX_ENOTDIR : perm_check(p, v, MAY_EXEC);
    if (r == 0 && slot == &p->files->root && p->cred.euid != 0)
        r = -LX_EPERM;
    if (r < 0) {
        vnode_put(v);
        return r;
    }
    vnode_put(*slot);
    keep_log(slot, sizeof(*slot));
    *slot = v;
    return 0;
}

/* chdir and chroot: the directory upath names becomes p's cwd or root (*slot). */
static int64_t dir_at(struct vproc *p, uint64_t upath, struct vnode **slot)
{
    struct vnode *v;
    int64_t r = copy_path(p, upath, path_buf);
    if (r < 0 || (r = path_lookup(p, AT_FDCWD, path_buf, 1, &v)) < 0)
        return r;
    return set_dir(p, v, slot);
}

/*
 * chroot(path): absolute paths of p (and of its children) start at the
 * directory path names, and ".." there goes nowhere; the cwd stays where it
 * is (Linux). Linux's order: the lookup's errors, ENOTDIR, EACCES (search
 * permission), then EPERM.
 */
int64_t do_chroot(struct vproc *p, const uint64_t *a)
{
    /* pm is told (VFS_SIG_CHROOT) of a root other than the tree's: a new vfs instance would
     * not know it (docs/REINCARNATION.md, "Core servers: vfs and pm"); no room to tell: EAGAIN */
    if (!signal_queue(VFS_SIG_CHROOT, p->ep, 0))
        return -LX_EAGAIN;
    int64_t r = dir_at(p, a[0], &p->files->root);
    if (r < 0 || p->files->root == root_vnode)
        signal_unqueue(VFS_SIG_CHROOT, p->ep);
    return r;
}

int64_t do_chdir(struct vproc *p, const uint64_t *a)
{
    return dir_at(p, a[0], &p->files->cwd);
}

int64_t do_fchdir(struct vproc *p, const uint64_t *a)
{
    struct file *f = fd_file(p, (int)a[0]);
    if (!f)
        return -LX_EBADF;
    vnode_hold(f->vn);
    return set_dir(p, f->vn, &p->files->cwd);
}

/* The name of child ino in directory dir, by reading dir's entries. */
static int name_in_dir(struct vnode *dir, uint64_t ino, char *name)
{
    uint64_t cookie = 0;
    for (int rounds = 0; rounds < 10000; rounds++) {
        int64_t r = fs_getdents(dir, &cookie, bounce, 8192);
        if (r <= 0)
            return r < 0 ? (int)r : -LX_ENOENT;
        for (int64_t off = 0; off < r;) {
            uint8_t *d = bounce + off;
            uint64_t d_ino = *(uint64_t *)d;
            uint16_t reclen = *(uint16_t *)(d + 16);
            const char *n = (const char *)d + 19;
            if (reclen <= 19 || reclen > r - off || d[reclen - 1] != '\0')
                return -LX_EIO; /* a record past the data, or a name without its end */
            if (d_ino == ino && strcmp(n, ".") && strcmp(n, "..")) {
                strncpy_s(name, n, FS_NAME_MAX + 1);
                return 0;
            }
            off += reclen;
        }
    }
    return -LX_ENOENT;
}

/* The path of directory dir below top (the root, or a chroot's; in a static buffer, at *path):
 * its length with the NUL, or -errno. A dir outside top gets its path from the root. */
int64_t dir_path(struct vnode *dir, struct vnode *top, const char **path)
{
    static char out[PATH_MAX], name[FS_NAME_MAX + 1];
    size_t at = PATH_MAX - 1;
    out[at] = '\0';
    struct vnode *cur = dir;
    vnode_hold(cur);
    while (cur != root_vnode && cur != top) {
        struct vnode *covered = vnode_covered(cur);
        if (covered) { /* the root of a mounted file system: on from its mount point */
            vnode_hold(covered);
            vnode_put(cur);
            cur = covered;
            continue;
        }
        struct fs_node node;
        int64_t r = fs_lookup(cur, "..", 2, &node);
        struct vnode *parent = r < 0 ? 0 : vnode_child(cur, &node);
        if (!parent || (r = name_in_dir(parent, cur->ino, name)) < 0) {
            vnode_put(cur);
            vnode_put(parent);
            return r < 0 ? r : -LX_ENOENT;
        }
        size_t n = strlen(name);
        if (n + 1 > at) {
            vnode_put(cur);
            vnode_put(parent);
            return -LX_ENAMETOOLONG;
        }
        at -= n;
        memcpy(out + at, name, n);
        out[--at] = '/';
        vnode_put(cur);
        cur = parent;
    }
    vnode_put(cur);
    if (at == PATH_MAX - 1)
        out[--at] = '/';
    *path = out + at;
    return (int64_t)(PATH_MAX - at);
}

int64_t do_getcwd(struct vproc *p, const uint64_t *a)
{
    const char *path;
    int64_t len = dir_path(p->files->cwd, proc_root(p), &path);
    if (len < 0)
        return len;
    if ((uint64_t)len > a[1])
        return -LX_ERANGE;
    return copy_out(p, a[0], path, (uint64_t)len) < 0 ? -LX_EFAULT : len;
}

int64_t do_umask(struct vproc *p, const uint64_t *a)
{
    uint32_t old = p->files->umask;
    keep_log(&p->files->umask, sizeof(p->files->umask));
    p->files->umask = (uint32_t)a[0] & 0777;
    return old;
}

/* truncate (check: the path call, which needs write permission; ftruncate's descriptor is enough).
 */
static int64_t truncate_vnode(struct vproc *p, struct vnode *v, int64_t size, int check)
{
    int64_t r;
    if (size < 0)
        return -LX_EINVAL;
    if ((v->mode & S_IFMT) != S_IFREG)
        return (v->mode & S_IFMT) == S_IFDIR ? -LX_EISDIR : -LX_EINVAL;
    if (check && (r = perm_check(p, v, MAY_WRITE)) < 0)
        return r;
    message_t m = {.type = FS_TRUNC, .u.fs.trunc = {v->ino, (uint64_t)size}};
    r = fs_call(v->fs, &m);
    attr_drop_setid(p, v);
    return r;
}

/* Attribute changes, for a path or an open file: x holds the arguments. */
enum change { CH_MODE, CH_OWNER, CH_TIMES, CH_SIZE };

static int64_t change(struct vproc *p, struct vnode *v, enum change op, const uint64_t *x)
{
    switch (op) {
    case CH_MODE:
        return attr_chmod(p, v, x[0]);
    case CH_OWNER:
        return attr_chown(p, v, (uint32_t)x[0], (uint32_t)x[1]);
    case CH_TIMES:
        return attr_utimes(p, v, x);
    default:
        return truncate_vnode(p, v, (int64_t)x[0], 1);
    }
}

static int64_t change_fd(struct vproc *p, int fd, enum change op, const uint64_t *x)
{
    struct file *f = fd_file(p, fd);
    return f ? change(p, f->vn, op, x) : -LX_EBADF;
}

/* op on dirfd/upath; flags AT_SYMLINK_NOFOLLOW (the link itself), AT_EMPTY_PATH ("" is dirfd). */
static int64_t change_at(struct vproc *p, int dirfd, uint64_t upath, uint64_t flags, enum change op,
                         const uint64_t *x)
{
    struct vnode *v;
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -LX_EINVAL;
    int64_t r = copy_path(p, upath, path_buf);
    if (r == -LX_ENOENT && (flags & AT_EMPTY_PATH))
        return change_fd(p, dirfd, op, x);
    if (r < 0 || (r = path_lookup(p, dirfd, path_buf, !(flags & AT_SYMLINK_NOFOLLOW), &v)) < 0)
        return r;
    r = change(p, v, op, x);
    vnode_put(v);
    return r;
}

int64_t do_chmod(struct vproc *p, const uint64_t *a)
{
    return change_at(p, AT_FDCWD, a[0], 0, CH_MODE, a + 1);
}
int64_t do_fchmodat(struct vproc *p, const uint64_t *a)
{
    return change_at(p, (int)a[0], a[1], 0, CH_MODE, a + 2);
}
int64_t do_fchmod(struct vproc *p, const uint64_t *a)
{
    return change_fd(p, (int)a[0], CH_MODE, a + 1);
}
int64_t do_chown(struct vproc *p, const uint64_t *a)
{
    return change_at(p, AT_FDCWD, a[0], 0, CH_OWNER, a + 1);
}
int64_t do_lchown(struct vproc *p, const uint64_t *a)
{
    return change_at(p, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, CH_OWNER, a + 1);
}
int64_t do_fchown(struct vproc *p, const uint64_t *a)
{
    return change_fd(p, (int)a[0], CH_OWNER, a + 1);
}
int64_t do_fchownat(struct vproc *p, const uint64_t *a)
{
    return change_at(p, (int)a[0], a[1], a[4], CH_OWNER, a + 2);
}
int64_t do_truncate(struct vproc *p, const uint64_t *a)
{
    return change_at(p, AT_FDCWD, a[0], 0, CH_SIZE, a + 1);
}

int64_t do_ftruncate(struct vproc *p, const uint64_t *a)
{
    struct file *f = fd_file(p, (int)a[0]);
    if (!f)
        return -LX_EBADF;
    if (!(f->flags & O_ACCMODE))
        return -LX_EINVAL;
    return truncate_vnode(p, f->vn, (int64_t)a[1], 0);
}

static int64_t statfs_vnode(struct vproc *p, struct vnode *v, uint64_t ubuf)
{
    struct fs_statfs s = {0};
    uint64_t out[15] = {0}; /* struct statfs: 120 bytes */
    message_t m = {.type = FS_STATFS};
    if (v->fs == PROCFS_EP) { /* vfs's own /proc: Linux's proc values (PROC_SUPER_MAGIC) */
        s.type = 0x9fa0, s.bsize = 4096, s.namelen = 255;
    } else {
        int64_t r = fs_buffer_call(v->fs, &m, &m.u.fs.statfs.grant, &s, sizeof(s), GRANT_WRITE);
        if (r < 0)
            return r;
    }
    out[0] = s.type, out[1] = s.bsize, out[2] = s.blocks, out[3] = s.bfree, out[4] = s.bavail;
    out[5] = s.files, out[6] = s.ffree, out[8] = s.namelen, out[9] = s.bsize;
    out[10] = mount_erofs(v) ? 1 : 0; /* f_flags: ST_RDONLY */
    return copy_out(p, ubuf, out, sizeof(out));
}

int64_t do_statfs(struct vproc *p, const uint64_t *a)
{
    struct vnode *v;
    int64_t r = copy_path(p, a[0], path_buf);
    if (r < 0 || (r = path_lookup(p, AT_FDCWD, path_buf, 1, &v)) < 0)
        return r;
    r = statfs_vnode(p, v, a[1]);
    vnode_put(v);
    return r;
}

int64_t do_fstatfs(struct vproc *p, const uint64_t *a)
{
    struct file *f = fd_file(p, (int)a[0]);
    return f ? statfs_vnode(p, f->vn->fs == NONE ? root_vnode : f->vn, a[1]) : -LX_EBADF;
}

/* sync: every mounted file server writes its dirty data out (mount.c). */
int64_t do_sync(struct vproc *p, const uint64_t *a)
{
    (void)p, (void)a;
    mount_sync(0, 0);
    return 0;
}

/* fsync, fdatasync: the file's server writes that file out; syncfs: all of it. */
static int64_t sync_fd(struct vproc *p, int fd, int whole)
{
    struct file *f = fd_file(p, fd);
    if (!f)
        return -LX_EBADF;
    uint64_t type = f->vn->mode & S_IFMT;
    if (f->vn->fs == NONE || f->vn->fs == PROCFS_EP || (type != S_IFREG && type != S_IFDIR))
        return 0; /* pipes, sockets, devices, /proc: nothing to write out */
    return mount_sync(f->vn->fs, whole ? 0 : f->vn->ino);
}
int64_t do_fsync(struct vproc *p, const uint64_t *a)
{
    return sync_fd(p, (int)a[0], 0);
}
int64_t do_fdatasync(struct vproc *p, const uint64_t *a)
{
    return sync_fd(p, (int)a[0], 0);
}
int64_t do_syncfs(struct vproc *p, const uint64_t *a)
{
    return sync_fd(p, (int)a[0], 1);
}

/* Set file times t (seconds, FS_TIME_NOW, FS_TIME_OMIT) of dirfd/upath, or of dirfd if upath is
 * NULL (then only AT_SYMLINK_NOFOLLOW may be given). */
static int64_t times_at(struct vproc *p, int dirfd, uint64_t upath, const uint64_t *t,
                        uint64_t flags)
{
    if (!upath)
        return flags & ~(uint64_t)AT_SYMLINK_NOFOLLOW ? -LX_EINVAL
                                                      : change_fd(p, dirfd, CH_TIMES, t);
    return change_at(p, dirfd, upath, flags, CH_TIMES, t);
}

/*
 * utimensat(dirfd, path, times, flags): times NULL or both UTIME_NOW: now
 * (the owner or a writer); else each time in seconds, UTIME_NOW or
 * UTIME_OMIT (the owner). A NULL path is dirfd itself. Negative seconds:
 * EINVAL (ramfs keeps unsigned times).
 */
int64_t do_utimensat(struct vproc *p, const uint64_t *a)
{
    const int64_t utime_now = (1 << 30) - 1, utime_omit = (1 << 30) - 2;
    uint64_t t[2] = {FS_TIME_NOW, FS_TIME_NOW};
    if (a[2]) {
        int64_t ts[4]; /* two struct timespec */
        if (copy_in(p, a[2], ts, sizeof(ts)) < 0)
            return -LX_EFAULT;
        for (int i = 0; i < 2; i++) {
            int64_t sec = ts[2 * i], ns = ts[2 * i + 1];
            if (ns == utime_now || ns == utime_omit)
                t[i] = ns == utime_now ? FS_TIME_NOW : FS_TIME_OMIT;
            else if (ns < 0 || ns > 999999999 || sec < 0)
                return -LX_EINVAL;
            else
                t[i] = (uint64_t)sec;
        }
        if (t[0] == FS_TIME_OMIT && t[1] == FS_TIME_OMIT)
            return 0; /* nothing to do: not even the path or flags are looked at (Linux) */
    }
    return times_at(p, (int)a[0], a[1], t, a[3]);
}

/*
 * utime(path, {actime, modtime}), utimes(path, timeval[2]) and
 * futimesat(dirfd, path, timeval[2]) (a NULL path: dirfd itself): the
 * given times in seconds (the owner, EPERM), or now with a NULL pointer
 * (the owner or a writer, EACCES). Microseconds outside 0..999999, or
 * negative seconds: EINVAL.
 */
static int64_t old_utimes(struct vproc *p, int dirfd, uint64_t upath, uint64_t utimes, int timeval)
{
    uint64_t t[2] = {FS_TIME_NOW, FS_TIME_NOW};
    if (utimes) {
        int64_t v[4]; /* utimbuf: two seconds; timeval[2]: seconds, microseconds twice */
        if (copy_in(p, utimes, v, timeval ? sizeof(v) : 2 * sizeof(v[0])) < 0)
            return -LX_EFAULT;
        if (!timeval) {
            v[2] = v[1];
            v[1] = v[3] = 0;
        }
        for (int i = 0; i < 2; i++) {
            if (v[2 * i] < 0 || v[2 * i + 1] < 0 || v[2 * i + 1] > 999999)
                return -LX_EINVAL;
            t[i] = (uint64_t)v[2 * i];
        }
    }
    return times_at(p, dirfd, upath, t, 0);
}

int64_t do_utime(struct vproc *p, const uint64_t *a)
{
    return old_utimes(p, AT_FDCWD, a[0], a[1], 0);
}
int64_t do_utimes(struct vproc *p, const uint64_t *a)
{
    return old_utimes(p, AT_FDCWD, a[0], a[1], 1);
}
int64_t do_futimesat(struct vproc *p, const uint64_t *a)
{
    return old_utimes(p, (int)a[0], a[1], a[2], 1);
}
