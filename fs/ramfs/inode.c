/*
 * The inode table. Inode numbers index a two-level table: 128 pointers
 * to pages of 512 inode pointers, pages mapped when first used, so
 * RAMFS_MAX_INODES - 1 inodes at most (0 is never valid, 1 is the root).
 * New numbers come from a cursor that moves forward and wraps, so a freed
 * number is not handed out again at once. All of it is in the state
 * region (RAMFS_ST), each change logged first (log.c).
 *
 * Lifetime: an inode lives while it has links or references (`refs`);
 * ramfs_iput_check frees it (its blocks, index pages, directory slots,
 * symlink target) once both are gone. Times are seconds since 1970
 * (fsdriver_now: the initramfs, unpacked before pm gives the kernel the
 * time of day, is stamped in seconds since boot). Owners are
 * stored, not checked: permissions are vfs's business.
 */
#include "ramfs.h"
#include "fsdriver/fsdriver.h"

#define itab (RAMFS_ST->itab) /* the table, cursor and count live in the state region */
#define cursor (RAMFS_ST->g.cursor)
#define nr_inodes (RAMFS_ST->g.nr_inodes)

uint64_t ramfs_now(void)
{
    return fsdriver_now();
}

struct ramfs_inode *ramfs_iget(uint64_t ino)
{
    if (ino == 0 || ino >= RAMFS_MAX_INODES)
        return 0;
    struct ramfs_inode **page = itab[ino / RAMFS_PTRS];
    return page ? page[ino % RAMFS_PTRS] : 0;
}

static int iset(uint32_t ino, struct ramfs_inode *ip)
{
    struct ramfs_inode ***page = &itab[ino / RAMFS_PTRS];
    if (!*page) {
        struct ramfs_inode **fresh = ramfs_page_alloc();
        if (!fresh)
            return -LX_ENOSPC;
        ramfs_log(page, sizeof(*page));
        *page = fresh;
    }
    ramfs_log(&(*page)[ino % RAMFS_PTRS], sizeof(**page));
    (*page)[ino % RAMFS_PTRS] = ip;
    return 0;
}

static uint32_t free_number(void)
{
    ramfs_log_globals();
    for (uint32_t n = 0; n < RAMFS_MAX_INODES - 2; n++) {
        uint32_t ino = cursor;
        cursor = cursor + 1 < RAMFS_MAX_INODES ? cursor + 1 : 2;
        if (!ramfs_iget(ino))
            return ino;
    }
    return 0;
}

static struct ramfs_inode *ialloc_at(uint32_t ino, uint32_t mode)
{
    struct ramfs_inode *ip = ramfs_alloc(sizeof(*ip));
    if (!ip)
        return 0;
    if (iset(ino, ip) < 0) {
        ramfs_free(ip, sizeof(*ip));
        return 0;
    }
    ip->ino = ino;
    ip->mode = mode;
    ip->atime = ip->mtime = ip->ctime = ramfs_now();
    ramfs_changed(ip); /* a reused number gets a version never seen with it */
    ramfs_log_globals();
    nr_inodes++;
    return ip;
}

struct ramfs_inode *ramfs_ialloc(uint32_t mode)
{
    if (nr_inodes >= RAMFS_MAX_INODES - 1)
        return 0;
    uint32_t ino = free_number();
    return ino ? ialloc_at(ino, mode) : 0;
}

int ramfs_root_init(void)
{
    struct ramfs_inode *root = ialloc_at(FS_ROOT_INO, S_IFDIR | 0755);
    if (!root)
        return -LX_ENOSPC;
    root->nlink = 2;
    root->parent = FS_ROOT_INO;
    /* vfs knows the root without a lookup; it is never freed */
    return 0;
}

void ramfs_iput_check(struct ramfs_inode *ip)
{
    if (!ip || ip->nlink || ip->refs || ip->ino == FS_ROOT_INO)
        return;
    if (RAMFS_ISDIR(ip))
        ramfs_dir_free_all(ip); /* normally empty already */
    ramfs_free_blocks(ip, 0);
    if (ip->target)
        ramfs_free(ip->target, ip->size + 1);
    iset(ip->ino, 0); /* the page exists: cannot fail */
    ramfs_log_globals();
    nr_inodes--;
    ramfs_free(ip, sizeof(*ip));
}

/* ip's data changed (or is new): a version no inode had before (2^64 changes: never wraps). */
/*
 * A new data version; logs the inode's version, size and times (one record: they lie together).
 * The counter itself is not logged: one 8-byte store that only goes up, so after an undo it may
 * stand past the versions the files hold, which keeps every version handed out new.
 */
void ramfs_changed(struct ramfs_inode *ip)
{
    ramfs_log(&ip->version,
              (uint64_t)((const uint8_t *)(&ip->ctime + 1) - (const uint8_t *)&ip->version));
    ip->version = ++RAMFS_ST->g.versions;
}

/* A read: atime now, logged only when it changes (times are in seconds). */
void ramfs_touch(struct ramfs_inode *ip)
{
    uint64_t now = ramfs_now();
    if (ip->atime != now) {
        ramfs_log(&ip->atime, sizeof(ip->atime));
        ip->atime = now;
    }
}

void ramfs_fill_stat(const struct ramfs_inode *ip, struct fs_stat *st)
{
    ramfs_zero(st, sizeof(*st));
    st->ino = ip->ino;
    st->mode = ip->mode;
    st->nlink = ip->nlink;
    st->uid = ip->uid;
    st->gid = ip->gid;
    /* a directory's size is nominal, 20 bytes an entry (as tmpfs does) */
    st->size = RAMFS_ISDIR(ip) ? 20ull * (ip->nent + 2) : ip->size;
    st->rdev = ip->rdev;
    st->blocks = (st->size + 511) / 512;
    st->atime = ip->atime;
    st->mtime = ip->mtime;
    st->ctime = ip->ctime;
    st->version = ip->version;
}

void ramfs_fill_statfs(struct fs_statfs *sf)
{
    uint64_t capp = ramfs_heap_pages_cap(), used = ramfs_heap_pages_used();
    ramfs_zero(sf, sizeof(*sf));
    sf->type = RAMFS_MAGIC;
    sf->bsize = RAMFS_BLOCK;
    sf->blocks = capp;
    sf->bfree = sf->bavail = used < capp ? capp - used : 0; /* nothing reserved for root */
    sf->files = RAMFS_MAX_INODES - 1;
    sf->ffree = RAMFS_MAX_INODES - 1 - nr_inodes;
    sf->namelen = FS_NAME_MAX;
}
