/*
 * The name operations (lookup, create, symlink, link, unlink, rmdir,
 * rename) and the attribute ones (stat, chmod, chown, utime, readlink,
 * putnode). Errors follow Linux as ramfs's do (docs/RAMFS.md,
 * "Semantics"): ENOENT for a missing name or a removed directory, EEXIST
 * for a taken one, ENOTDIR/EISDIR, ENOTEMPTY, EMLINK past 32000 links, the
 * special names "." and ".." as Linux's path code answers. Each checks
 * everything before it changes anything; an entry that names an inode out
 * of range, a reserved inode or a free one is corruption (EIO, logged).
 * Permissions are the client's (vfs's) business.
 */
#include "ext2.h"

static int is_dot(const char *name, uint32_t len)
{
    return len == 1 && name[0] == '.';
}
static int is_dotdot(const char *name, uint32_t len)
{
    return len == 2 && name[0] == '.' && name[1] == '.';
}
static int is_dir(const struct ext2_inode *ip)
{
    return (ip->mode & S_IFMT) == S_IFDIR;
}

/* A directory of a request; with `live`, one that still has its name (ENOENT if removed). */
static int dir_arg(uint32_t dir, int live)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = iget_live_look(dir, &b, &ip);
    if (r < 0)
        return r;
    r = !is_dir(ip) ? -LX_ENOTDIR : live && !ip->links_count ? -LX_ENOENT : 0;
    bput(b);
    return r;
}

/* The inode a directory entry names, which must be a live one, and a regular file no larger than
 * the largest file (ext2.max_size). A directory has one name, in its
 * parent: an entry (other than "." and "..") naming a directory whose ".." is not dir is a hard
 * link to a directory, which only corruption makes (a loop to itself or to an ancestor would
 * have ls -R and find walk for ever). */
static int entry_inode(uint32_t dir, const char *name, uint32_t len, uint32_t *ino)
{
    int r = dir_find(dir, name, len, ino, 0, 0);
    if (r < 0)
        return r;
    struct ext2_buf *b;
    struct ext2_inode *ip;
    if (!ino_ok(*ino) || iget_look(*ino, &b, &ip) < 0)
        return ext2_corrupt("directory %u: an entry names inode %u (out of range or reserved)", dir,
                            *ino);
    int dead = (!ip->links_count && !ref_count(*ino)) || !(ip->mode & S_IFMT);
    int child_dir = is_dir(ip) && !is_dot(name, len) && !is_dotdot(name, len);
    uint64_t size = isize(ip);
    int huge = (ip->mode & S_IFMT) == S_IFREG && size > ext2.max_size;
    bput(b);
    if (dead)
        return ext2_corrupt("directory %u: an entry names inode %u, which is free", dir, *ino);
    if (huge) /* no block map reaches it; stat's st_size would be negative from 2^63 on */
        return ext2_corrupt("inode %u: size %llu beyond the largest file (%llu)", *ino,
                            (unsigned long long)size, (unsigned long long)ext2.max_size);
    uint32_t parent = 0;
    if (child_dir && (r = dir_find(*ino, "..", 2, &parent, 0, 0)) < 0 && r != -LX_ENOENT)
        return r;
    if (child_dir && parent != dir)
        return ext2_corrupt("directory %u: an entry names directory %u, whose \"..\" is %u", dir,
                            *ino, parent);
    return 0;
}

static uint64_t rdev_of(const struct ext2_inode *ip)
{
    uint32_t t = ip->mode & S_IFMT;
    if (t != S_IFCHR && t != 0060000)
        return 0;
    if (ip->block[0]) /* the old 16-bit encoding */
        return DEV_MAKE((ip->block[0] >> 8) & 0xff, ip->block[0] & 0xff);
    uint32_t d = ip->block[1]; /* the new one */
    return DEV_MAKE((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

static void node_of(uint32_t ino, const struct ext2_inode *ip, struct ext2_node *n)
{
    *n = (struct ext2_node){ino, ip->mode, rdev_of(ip), isize(ip), iuid(ip), igid(ip)};
}

/* Hand inode ino to the client, who now holds one more reference. */
static int give(uint32_t ino, struct ext2_node *n)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = iget_look(ino, &b, &ip);
    if (r < 0)
        return r;
    if ((r = ref_add(ino)) == 0)
        node_of(ino, ip, n);
    bput(b);
    return r;
}

int ext2_lookup(uint32_t dir, const char *name, uint32_t len, struct ext2_node *out)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    uint32_t ino = dir;
    int r = iget_live(dir, &b, &ip);
    if (r < 0)
        return r;
    r = !is_dir(ip) ? -LX_ENOTDIR : 0;
    if (r == 0 && !is_dot(name, len) && !ip->links_count)
        r = -LX_ENOENT; /* removed: its parent may be gone too */
    bput(b);
    if (r == 0 && !is_dot(name, len))
        r = entry_inode(dir, name, len, &ino);
    return r < 0 ? r : give(ino, out);
}

/* Checks before a new name goes into dir. */
static int may_add(uint32_t dir, const char *name, uint32_t len)
{
    uint32_t ino;
    int r = ext2_writable();
    if (r < 0 || (r = dir_arg(dir, 1)) < 0)
        return r;
    if (ref_full())
        return -LX_ENFILE;
    if (is_dot(name, len) || is_dotdot(name, len))
        return -LX_EEXIST;
    r = dir_find(dir, name, len, &ino, 0, 0);
    return r == 0 ? -LX_EEXIST : r == -LX_ENOENT ? 0 : r;
}

/* Add (+1) or take (-1) a link of inode ino, which changes its ctime. */
static int links_add(uint32_t ino, int delta, int to_zero)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = iget(ino, &b, &ip);
    if (r < 0)
        return r;
    if (to_zero)
        ip->links_count = 0;
    else if (delta > 0 || ip->links_count)
        ip->links_count = (uint16_t)(ip->links_count + delta);
    ip->ctime = ext2_time();
    iput(b, ip, 1);
    return 0;
}

/* A new inode near dir, initialised; *ip stays pinned in *b. */
static int inode_new(uint32_t dir, uint32_t mode, uint32_t uid, uint32_t gid, uint32_t *ino,
                     struct ext2_buf **b, struct ext2_inode **ip)
{
    int r = ialloc(dir, (mode & S_IFMT) == S_IFDIR, ino);
    if (r < 0)
        return r;
    if ((r = iget(*ino, b, ip)) < 0) {
        ifree(*ino, (mode & S_IFMT) == S_IFDIR);
        return r;
    }
    struct ext2_inode *p = *ip;
    if (ext2.inode_size > ext2.inode_logged) /* the rest: iget logged what it writes (state.c) */
        cache_log_range(*b, (uint8_t *)p + ext2.inode_logged, ext2.inode_size - ext2.inode_logged);
    memset(p, 0, ext2.inode_size);
    p->mode = (uint16_t)mode;
    p->uid = (uint16_t)uid;
    p->uid_high = (uint16_t)(uid >> 16);
    p->gid = (uint16_t)gid;
    p->gid_high = (uint16_t)(gid >> 16);
    p->atime = p->ctime = p->mtime = ext2_time();
    p->links_count = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
    p->generation = ++ext2.generation;
    if (ext2.inode_size > EXT2_GOOD_OLD_INODE_SIZE) {
        p->extra_isize = EXT2_INODE_EXTRA;
        p->crtime = p->ctime;
    }
    return 0;
}

/* Undo inode_new when its name could not be added. */
static void inode_undo(uint32_t ino, struct ext2_buf *b, struct ext2_inode *ip)
{
    int isdir = is_dir(ip);
    if (holds_blocks(ip))
        itrunc_blocks(ip, 0);
    memset(ip->block, 0, sizeof(ip->block));
    ip->links_count = 0;
    ip->size = 0;
    ip->dtime = ext2_time();
    iput(b, ip, 1);
    ifree(ino, isdir);
}

/* inode_new's inode gets its name in dir: on success the client holds a reference. */
static int name_new(uint32_t dir, const char *name, uint32_t len, uint32_t ino, struct ext2_buf *b,
                    struct ext2_inode *ip, struct ext2_node *out)
{
    uint32_t mode = ip->mode;
    int r = dir_add(dir, name, len, ino, mode);
    if (r < 0) {
        inode_undo(ino, b, ip);
        return r;
    }
    iput(b, ip, 1);
    if ((mode & S_IFMT) == S_IFDIR)
        links_add(dir, 1, 0);
    return give(ino, out);
}

int ext2_create(uint32_t dir, const char *name, uint32_t len, uint32_t mode, uint64_t rdev,
                uint32_t uid, uint32_t gid, struct ext2_node *out)
{
    uint32_t type = mode & S_IFMT, ino;
    if (type != S_IFREG && type != S_IFDIR && type != S_IFCHR && type != 0060000 &&
        type != S_IFIFO && type != S_IFSOCK)
        return -LX_EINVAL;
    int r = may_add(dir, name, len);
    if (r < 0)
        return r;
    if (type == S_IFDIR) {
        struct ext2_buf *b;
        struct ext2_inode *ip;
        if ((r = iget(dir, &b, &ip)) < 0)
            return r;
        r = ip->links_count >= EXT2_LINK_MAX ? -LX_EMLINK : 0;
        bput(b);
        if (r < 0)
            return r;
    }
    struct ext2_buf *b;
    struct ext2_inode *ip;
    if ((r = inode_new(dir, type | (mode & 07777), uid, gid, &ino, &b, &ip)) < 0)
        return r;
    if (type == S_IFCHR || type == 0060000) {
        uint64_t major = DEV_MAJOR(rdev), minor = DEV_MINOR(rdev);
        ip->block[0] = (uint32_t)(major << 8 | minor);
    }
    if (type == S_IFDIR && (r = dir_init(ino, dir, ip)) < 0) {
        inode_undo(ino, b, ip);
        return r;
    }
    return name_new(dir, name, len, ino, b, ip, out);
}

int ext2_symlink(uint32_t dir, const char *name, uint32_t len, const char *target, uint32_t tlen,
                 uint32_t uid, uint32_t gid, struct ext2_node *out)
{
    if (tlen == 0)
        return -LX_ENOENT;
    if (tlen >= ext2.bs)
        return -LX_ENAMETOOLONG;
    int r = may_add(dir, name, len);
    uint32_t ino;
    struct ext2_buf *b, *db;
    struct ext2_inode *ip;
    if (r < 0 || (r = inode_new(dir, S_IFLNK | 0777, uid, gid, &ino, &b, &ip)) < 0)
        return r;
    ip->size = tlen;
    if (tlen < sizeof(ip->block)) {
        memcpy(ip->block, target, tlen);
    } else {
        uint32_t pblk;
        if ((r = bmap(ino, ip, 0, 1, &pblk)) < 0 || (r = bget(pblk, BGET_NEW, &db)) < 0) {
            inode_undo(ino, b, ip);
            return r;
        }
        memcpy(db->data, target, tlen);
        bdirty(db);
        bput(db);
    }
    return name_new(dir, name, len, ino, b, ip, out);
}

int ext2_link(uint32_t dir, const char *name, uint32_t len, uint32_t ino)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = ext2_writable();
    if (r < 0 || (r = dir_arg(dir, 1)) < 0 || (r = iget_live(ino, &b, &ip)) < 0)
        return r;
    uint32_t mode = ip->mode;
    r = is_dir(ip)                         ? -LX_EPERM
        : !ip->links_count                 ? -LX_ENOENT
        : ip->links_count >= EXT2_LINK_MAX ? -LX_EMLINK
                                           : 0;
    bput(b);
    if (r < 0 || (r = may_add(dir, name, len)) < 0 || (r = dir_add(dir, name, len, ino, mode)) < 0)
        return r;
    return links_add(ino, 1, 0);
}

/* Whether the inode name names in dir (its number in *ino) is a directory: 1, 0, or an error. */
static int entry_is_dir(uint32_t dir, const char *name, uint32_t len, uint32_t *ino)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = entry_inode(dir, name, len, ino);
    if (r < 0 || (r = iget_look(*ino, &b, &ip)) < 0)
        return r;
    r = is_dir(ip) ? 1 : 0;
    bput(b);
    return r;
}

int ext2_unlink(uint32_t dir, const char *name, uint32_t len)
{
    uint32_t ino;
    int r = ext2_writable();
    if (r < 0 || (r = dir_arg(dir, 1)) < 0)
        return r;
    if (is_dot(name, len) || is_dotdot(name, len))
        return -LX_EISDIR;
    if ((r = entry_is_dir(dir, name, len, &ino)) != 0)
        return r < 0 ? r : -LX_EISDIR;
    if ((r = dir_remove(dir, name, len)) < 0)
        return r;
    links_add(ino, -1, 0);
    return ifree_if_unused(ino);
}

int ext2_rmdir(uint32_t dir, const char *name, uint32_t len)
{
    uint32_t ino;
    int r = ext2_writable();
    if (r < 0 || (r = dir_arg(dir, 1)) < 0)
        return r;
    if (is_dot(name, len))
        return -LX_EINVAL;
    if (is_dotdot(name, len))
        return -LX_ENOTEMPTY;
    if ((r = entry_is_dir(dir, name, len, &ino)) <= 0)
        return r < 0 ? r : -LX_ENOTDIR;
    if (ino == dir || ino == EXT2_ROOT_INO)
        return -LX_EBUSY;
    if ((r = dir_empty(ino)) <= 0)
        return r < 0 ? r : -LX_ENOTEMPTY;
    if ((r = dir_remove(dir, name, len)) < 0)
        return r;
    links_add(ino, 0, 1);
    links_add(dir, -1, 0);
    return ifree_if_unused(ino);
}

/* 1 if directory dir is ino or lies below it (following ".." up to the root). */
static int inside(uint32_t dir, uint32_t ino)
{
    uint32_t limit = ext2.sb.inodes_count < 65536 ? ext2.sb.inodes_count : 65536;
    for (uint32_t steps = 0; steps < limit; steps++) {
        uint32_t parent;
        if (dir == ino)
            return 1;
        if (dir == EXT2_ROOT_INO)
            return 0;
        int r = dir_find(dir, "..", 2, &parent, 0, 0);
        if (r < 0)
            return r == -LX_ENOENT ? ext2_corrupt("directory %u has no \"..\"", dir) : r;
        if (parent == dir || !ino_ok(parent))
            return ext2_corrupt("directory %u: \"..\" is %u", dir, parent);
        dir = parent;
    }
    return ext2_corrupt("directory %u: \"..\" chain loops", dir);
}

int ext2_rename(uint32_t odir, const char *oname, uint32_t olen, uint32_t ndir, const char *nname,
                uint32_t nlen)
{
    uint32_t ino, victim = 0, vmode = 0;
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = ext2_writable();
    if (r < 0 || (r = dir_arg(odir, 1)) < 0 || (r = dir_arg(ndir, 1)) < 0)
        return r;
    if (is_dot(oname, olen) || is_dotdot(oname, olen) || is_dot(nname, nlen) ||
        is_dotdot(nname, nlen))
        return -LX_EBUSY;
    if ((r = entry_inode(odir, oname, olen, &ino)) < 0 || (r = iget(ino, &b, &ip)) < 0)
        return r;
    uint32_t mode = ip->mode;
    int isdir = is_dir(ip);
    bput(b);
    r = entry_inode(ndir, nname, nlen, &victim);
    if (r == -LX_ENOENT)
        victim = 0;
    else if (r < 0)
        return r;
    if (victim == ino)
        return 0; /* two names of one inode: nothing to do */
    if (victim) {
        if ((r = iget(victim, &b, &ip)) < 0)
            return r;
        vmode = ip->mode;
        bput(b);
        if (isdir && (vmode & S_IFMT) != S_IFDIR)
            return -LX_ENOTDIR;
        if (!isdir && (vmode & S_IFMT) == S_IFDIR)
            return -LX_EISDIR;
        if ((vmode & S_IFMT) == S_IFDIR && (r = dir_empty(victim)) <= 0)
            return r < 0 ? r : -LX_ENOTEMPTY;
    }
    if (isdir && odir != ndir) {
        if ((r = inside(ndir, ino)) != 0)
            return r < 0 ? r : -LX_EINVAL;
        if (!victim) {
            if ((r = iget(ndir, &b, &ip)) < 0)
                return r;
            r = ip->links_count >= EXT2_LINK_MAX ? -LX_EMLINK : 0;
            bput(b);
            if (r < 0)
                return r;
        }
    }
    r = victim ? dir_set(ndir, nname, nlen, ino, mode) : dir_add(ndir, nname, nlen, ino, mode);
    if (r < 0 || (r = dir_remove(odir, oname, olen)) < 0)
        return r;
    if (isdir && odir != ndir) { /* the subdirectory moves: its ".." and both counts */
        dir_set(ino, "..", 2, ndir, S_IFDIR);
        links_add(odir, -1, 0);
        links_add(ndir, 1, 0);
    }
    links_add(ino, 0, 0);                        /* ctime */
    if (victim && (vmode & S_IFMT) == S_IFDIR) { /* a replaced directory leaves ndir */
        links_add(victim, 0, 1);
        links_add(ndir, -1, 0);
    } else if (victim) {
        links_add(victim, -1, 0);
    }
    return victim ? ifree_if_unused(victim) : 0;
}

int64_t ext2_readlink(uint32_t ino, const struct ext2_io *io, uint64_t len)
{
    struct ext2_buf *b, *db = 0;
    struct ext2_inode *ip;
    int r = iget_live(ino, &b, &ip);
    if (r < 0)
        return r;
    uint64_t size = ip->size, n = len < size ? len : size;
    const void *src = ip->block;
    if ((ip->mode & S_IFMT) != S_IFLNK || len == 0) {
        r = -LX_EINVAL;
    } else if (size >= ext2.bs) {
        r = ext2_corrupt("symlink %u: size %llu", ino, (unsigned long long)size);
    } else if (!is_fast_symlink(ip)) {
        uint32_t pblk;
        if ((r = bmap(ino, ip, 0, 0, &pblk)) == 0 && !pblk)
            r = ext2_corrupt("symlink %u has no block", ino);
        if (r == 0 && (r = bget(pblk, BGET_READ, &db)) == 0)
            src = db->data;
    }
    if (r == 0)
        r = io->copy(io, 0, (void *)src, n, 1);
    bput(db);
    bput(b);
    return r < 0 ? r : (int64_t)n;
}

int ext2_stat(uint32_t ino, struct fs_stat *st)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = iget_live(ino, &b, &ip);
    if (r < 0)
        return r;
    *st = (struct fs_stat){ino,       ip->mode,  ip->links_count, iuid(ip),
                           igid(ip),  isize(ip), rdev_of(ip),     ip->atime,
                           ip->mtime, ip->ctime, ip->blocks,      0 /* no version */};
    bput(b);
    return 0;
}

/* An inode whose attributes change: writable, live; its ctime becomes now. */
static int attr_get(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip)
{
    int r = ext2_writable();
    if (r < 0 || (r = iget_live(ino, b, ip)) < 0)
        return r;
    (*ip)->ctime = ext2_time();
    return 0;
}

int ext2_chmod(uint32_t ino, uint32_t mode)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = attr_get(ino, &b, &ip);
    if (r < 0)
        return r;
    ip->mode = (uint16_t)((ip->mode & S_IFMT) | (mode & 07777));
    iput(b, ip, 1);
    return 0;
}

int ext2_chown(uint32_t ino, uint32_t uid, uint32_t gid, uint32_t mode)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = attr_get(ino, &b, &ip);
    if (r < 0)
        return r;
    ip->uid = (uint16_t)uid;
    ip->uid_high = (uint16_t)(uid >> 16);
    ip->gid = (uint16_t)gid;
    ip->gid_high = (uint16_t)(gid >> 16);
    ip->mode = (uint16_t)((ip->mode & S_IFMT) | (mode & 07777));
    iput(b, ip, 1);
    return 0;
}

/* A time from FS_UTIME: now, or seconds cut to ext2's 32 bits. */
static uint32_t time_of(uint64_t t, uint32_t now)
{
    return t == FS_TIME_NOW ? now : t > 0xffffffffull ? 0xffffffffu : (uint32_t)t;
}

int ext2_utime(uint32_t ino, uint64_t atime, uint64_t mtime)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = attr_get(ino, &b, &ip);
    if (r < 0)
        return r;
    int extra = ext2.inode_size > EXT2_GOOD_OLD_INODE_SIZE ? ip->extra_isize : 0;
    if (atime != FS_TIME_OMIT) {
        ip->atime = time_of(atime, ip->ctime);
        if (extra >= 16)
            ip->atime_extra = 0; /* nanoseconds and epoch bits of the old time */
    }
    if (mtime != FS_TIME_OMIT) {
        ip->mtime = time_of(mtime, ip->ctime);
        if (extra >= 12)
            ip->mtime_extra = 0;
    }
    if (extra >= 8)
        ip->ctime_extra = 0;
    iput(b, ip, 1);
    return 0;
}

int ext2_putnode(uint32_t ino)
{
    if (!ino_ok(ino))
        return -LX_EINVAL;
    if (!ref_count(ino))
        return 0;
    ref_drop(ino);
    return ifree_if_unused(ino);
}
