/*
 * Name operations on directories, shared by the request handlers (main.c)
 * and the initramfs loader (cpio.c). Errors follow Linux: ENOENT for a
 * missing name or a removed directory, EEXIST for a taken name (and for
 * creating "." or ".."), ENOTDIR/EISDIR for the wrong kind, ENOTEMPTY,
 * EMLINK past RAMFS_LINK_MAX links, ENOSPC when memory runs out, and for
 * the special names what Linux's own path code returns (unlink "." is
 * EISDIR, rmdir "." EINVAL and ".." ENOTEMPTY, rename of either EBUSY).
 * Each operation checks everything before it changes anything, so a
 * failure leaves the tree as it was. Permissions are vfs's business.
 */
#include "ramfs.h"

static int is_dot(const char *name, uint64_t len)
{
    return len == 1 && name[0] == '.';
}
static int is_dotdot(const char *name, uint64_t len)
{
    return len == 2 && name[0] == '.' && name[1] == '.';
}

/* A directory that entries may be added to or looked up in. */
static int live_dir(struct ramfs_inode *dir)
{
    if (!RAMFS_ISDIR(dir))
        return -LX_ENOTDIR;
    return dir->nlink ? 0 : -LX_ENOENT;
}

int ramfs_lookup(struct ramfs_inode *dir, const char *name, uint64_t len, struct ramfs_inode **out)
{
    if (!RAMFS_ISDIR(dir))
        return -LX_ENOTDIR;
    struct ramfs_inode *ip;
    if (is_dot(name, len)) {
        ip = dir;
    } else if (dir->nlink == 0) {
        return -LX_ENOENT; /* removed: its parent may be gone too */
    } else if (is_dotdot(name, len)) {
        ip = ramfs_iget(dir->parent);
    } else {
        ip = ramfs_dir_inode(dir, name, len, 0);
    }
    if (!ip)
        return -LX_ENOENT;
    *out = ip;
    return 0;
}

/* Common checks before a new name goes into dir. */
static int may_add(struct ramfs_inode *dir, const char *name, uint64_t len)
{
    int r = live_dir(dir);
    if (r < 0)
        return r;
    if (is_dot(name, len) || is_dotdot(name, len) || ramfs_dir_find(dir, name, len, 0))
        return -LX_EEXIST;
    return 0;
}

int ramfs_create(struct ramfs_inode *dir, const char *name, uint64_t len, uint32_t mode,
                 uint64_t rdev, struct ramfs_inode **out)
{
    uint32_t type = mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR && type != S_IFCHR && type != S_IFBLK &&
        type != S_IFIFO && type != S_IFSOCK)
        return -LX_EINVAL;
    int r = may_add(dir, name, len);
    if (r < 0)
        return r;
    if (type == S_IFDIR && dir->nlink >= RAMFS_LINK_MAX)
        return -LX_EMLINK;
    struct ramfs_inode *ip = ramfs_ialloc(type | (mode & 07777));
    if (!ip)
        return -LX_ENOSPC;
    ramfs_log_inode(ip);
    ramfs_log_inode(dir);
    ip->rdev = type == S_IFCHR || type == S_IFBLK ? rdev : 0;
    ip->nlink = type == S_IFDIR ? 2 : 1;
    ip->parent = dir->ino;
    if ((r = ramfs_dir_add(dir, name, len, ip->ino)) < 0) {
        ip->nlink = 0;
        ramfs_iput_check(ip);
        return r;
    }
    if (type == S_IFDIR)
        dir->nlink++;
    *out = ip;
    return 0;
}

int ramfs_symlink(struct ramfs_inode *dir, const char *name, uint64_t len, const char *target,
                  uint64_t tlen, struct ramfs_inode **out)
{
    if (tlen == 0)
        return -LX_ENOENT;
    if (tlen > RAMFS_SYMLINK_MAX)
        return -LX_ENAMETOOLONG;
    int r = may_add(dir, name, len);
    if (r < 0)
        return r;
    struct ramfs_inode *ip = ramfs_ialloc(S_IFLNK | 0777);
    if (!ip)
        return -LX_ENOSPC;
    ramfs_log_inode(ip);
    ip->target = ramfs_alloc(tlen + 1);
    r = ip->target ? ramfs_dir_add(dir, name, len, ip->ino) : -LX_ENOSPC;
    if (r < 0) {
        if (ip->target)
            ramfs_free(ip->target, tlen + 1);
        ip->target = 0;
        ramfs_iput_check(ip);
        return r;
    }
    memcpy(ip->target, target, tlen);
    ip->target[tlen] = '\0';
    ip->size = tlen;
    ip->nlink = 1;
    *out = ip;
    return 0;
}

int ramfs_link(struct ramfs_inode *dir, const char *name, uint64_t len, struct ramfs_inode *ip)
{
    int r = live_dir(dir);
    if (r < 0)
        return r;
    if (RAMFS_ISDIR(ip))
        return -LX_EPERM;
    if (ip->nlink == 0)
        return -LX_ENOENT;
    if (ip->nlink >= RAMFS_LINK_MAX)
        return -LX_EMLINK;
    if ((r = may_add(dir, name, len)) < 0 || (r = ramfs_dir_add(dir, name, len, ip->ino)) < 0)
        return r;
    ramfs_log_inode(ip);
    ip->nlink++;
    ip->ctime = ramfs_now();
    return 0;
}

int ramfs_unlink(struct ramfs_inode *dir, const char *name, uint64_t len)
{
    int r = live_dir(dir);
    if (r < 0)
        return r;
    if (is_dot(name, len) || is_dotdot(name, len))
        return -LX_EISDIR;
    uint32_t slot;
    struct ramfs_inode *ip = ramfs_dir_inode(dir, name, len, &slot);
    if (!ip)
        return -LX_ENOENT;
    if (RAMFS_ISDIR(ip))
        return -LX_EISDIR;
    ramfs_dir_remove(dir, slot);
    ramfs_log_inode(ip);
    ip->nlink--;
    ip->ctime = ramfs_now();
    ramfs_iput_check(ip);
    return 0;
}

/* Take away a directory that has lost its name: it and its parent's link. */
static void dir_gone(struct ramfs_inode *parent, struct ramfs_inode *ip)
{
    ramfs_log_inode(ip);
    ramfs_log_inode(parent);
    ip->nlink = 0;
    ip->ctime = ramfs_now();
    parent->nlink--;
    ramfs_iput_check(ip);
}

int ramfs_rmdir(struct ramfs_inode *dir, const char *name, uint64_t len)
{
    int r = live_dir(dir);
    if (r < 0)
        return r;
    if (is_dot(name, len))
        return -LX_EINVAL;
    if (is_dotdot(name, len))
        return -LX_ENOTEMPTY;
    uint32_t slot;
    struct ramfs_inode *ip = ramfs_dir_inode(dir, name, len, &slot);
    if (!ip)
        return -LX_ENOENT;
    if (!RAMFS_ISDIR(ip))
        return -LX_ENOTDIR;
    if (ip->nent)
        return -LX_ENOTEMPTY;
    ramfs_dir_remove(dir, slot);
    dir_gone(dir, ip);
    return 0;
}

/* 1 if dir is ip or lies below it. */
static int inside(struct ramfs_inode *dir, struct ramfs_inode *ip)
{
    for (uint32_t steps = 0; steps < RAMFS_MAX_INODES; steps++) {
        if (dir == ip)
            return 1;
        if (dir->ino == FS_ROOT_INO || !(dir = ramfs_iget(dir->parent)))
            return 0;
    }
    return 1; /* a parent loop cannot happen; refuse if it ever did */
}

int ramfs_rename(struct ramfs_inode *odir, const char *oname, uint64_t olen,
                 struct ramfs_inode *ndir, const char *nname, uint64_t nlen)
{
    int r = live_dir(odir);
    if (r < 0 || (r = live_dir(ndir)) < 0)
        return r;
    if (is_dot(oname, olen) || is_dotdot(oname, olen) || is_dot(nname, nlen) ||
        is_dotdot(nname, nlen))
        return -LX_EBUSY;
    uint32_t oslot, nslot;
    struct ramfs_inode *ip = ramfs_dir_inode(odir, oname, olen, &oslot);
    if (!ip)
        return -LX_ENOENT;
    struct ramfs_dirent *ne = ramfs_dir_find(ndir, nname, nlen, &nslot);
    struct ramfs_inode *victim = ne ? ramfs_iget(ne->ino) : 0;
    if (victim == ip)
        return 0; /* the same file under both names: nothing to do */
    int isdir = RAMFS_ISDIR(ip);
    if (victim && isdir && !RAMFS_ISDIR(victim))
        return -LX_ENOTDIR;
    if (victim && !isdir && RAMFS_ISDIR(victim))
        return -LX_EISDIR;
    if (victim && RAMFS_ISDIR(victim) && victim->nent)
        return -LX_ENOTEMPTY;
    if (isdir && odir != ndir && inside(ndir, ip))
        return -LX_EINVAL;
    if (isdir && odir != ndir && !victim && ndir->nlink >= RAMFS_LINK_MAX)
        return -LX_EMLINK;
    ramfs_log_inode(odir);
    ramfs_log_inode(ndir);
    ramfs_log_inode(ip);
    if (victim) {
        ramfs_log(&ne->ino, sizeof(ne->ino));
        ne->ino = ip->ino; /* reuse the target's entry: nothing to allocate */
        ndir->mtime = ndir->ctime = ramfs_now();
    } else if ((r = ramfs_dir_add(ndir, nname, nlen, ip->ino)) < 0) {
        return r;
    }
    ramfs_dir_remove(odir, oslot);
    if (isdir && odir != ndir) {
        odir->nlink--;
        ndir->nlink++;
        ip->parent = ndir->ino;
    }
    ip->ctime = ramfs_now();
    if (victim && RAMFS_ISDIR(victim)) {
        dir_gone(ndir, victim);
    } else if (victim) {
        ramfs_log_inode(victim);
        victim->nlink--;
        victim->ctime = ramfs_now();
        ramfs_iput_check(victim);
    }
    return 0;
}
