/*
 * Directories. A directory is an array of slots, each a pointer to a
 * struct ramfs_dirent (inode number, name hash, name) or 0 for a hole;
 * the slot pages (512 pointers each) hang off the inode's block index
 * (data.c), so a directory holds up to about 134 million slots. Lookup
 * scans the slots comparing hashes first. A new entry takes the first
 * hole, so slots are stable while an entry lives; removing the last slots
 * shrinks nslots. "." and ".." are not stored: they come from the inode
 * itself and its `parent`.
 *
 * getdents cookies: 0 is ".", 1 is "..", 2 + i is slot i. Each record's
 * d_off is the cookie of the position after it, and the reply's w1 is the
 * cookie to continue from. Entries added or removed meanwhile may or may
 * not be seen, as POSIX allows; none is returned twice unless it is
 * removed and re-created.
 */
#include "ramfs.h"

struct linux_dirent64_hdr {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
} __attribute__((packed));

#define DIRENT_HDR 19 /* d_name starts here */
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12

uint32_t ramfs_hash(const char *name, uint64_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint64_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

static struct ramfs_dirent **slot_ptr(struct ramfs_inode *dir, uint32_t slot, int alloc)
{
    struct ramfs_dirent **page = ramfs_block(dir, slot / RAMFS_PTRS, alloc);
    return page ? &page[slot % RAMFS_PTRS] : 0;
}

struct ramfs_dirent *ramfs_dir_slot(struct ramfs_inode *dir, uint32_t slot)
{
    if (slot >= dir->nslots)
        return 0;
    struct ramfs_dirent **p = slot_ptr(dir, slot, 0);
    return p ? *p : 0;
}

struct ramfs_dirent *ramfs_dir_find(struct ramfs_inode *dir, const char *name, uint64_t len,
                                    uint32_t *slot)
{
    uint32_t h = ramfs_hash(name, len);
    for (uint32_t s = 0; s < dir->nslots; s++) {
        if (s % RAMFS_PTRS == 0 && !ramfs_block(dir, s / RAMFS_PTRS, 0)) {
            s += RAMFS_PTRS - 1; /* a whole page of holes */
            continue;
        }
        struct ramfs_dirent *e = *slot_ptr(dir, s, 0);
        if (e && e->hash == h && e->len == len && !memcmp(e->name, name, len)) {
            if (slot)
                *slot = s;
            return e;
        }
    }
    return 0;
}

struct ramfs_inode *ramfs_dir_inode(struct ramfs_inode *dir, const char *name, uint64_t len,
                                    uint32_t *slot)
{
    struct ramfs_dirent *e = ramfs_dir_find(dir, name, len, slot);
    return e ? ramfs_iget(e->ino) : 0;
}

static uint64_t dirent_size(uint64_t len)
{
    return sizeof(struct ramfs_dirent) + len + 1;
}

int ramfs_dir_add(struct ramfs_inode *dir, const char *name, uint64_t len, uint32_t ino)
{
    uint32_t s = 0;
    while (s < dir->nslots && ramfs_dir_slot(dir, s))
        s++;
    struct ramfs_dirent *e = ramfs_alloc(dirent_size(len));
    if (!e)
        return -LX_ENOSPC;
    struct ramfs_dirent **p = slot_ptr(dir, s, 1);
    if (!p) {
        ramfs_free(e, dirent_size(len));
        return -LX_ENOSPC;
    }
    e->ino = ino;
    e->hash = ramfs_hash(name, len);
    e->len = (uint16_t)len;
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    ramfs_log(p, sizeof(*p));
    ramfs_log_inode(dir);
    *p = e;
    if (s == dir->nslots)
        dir->nslots++;
    dir->nent++;
    dir->mtime = dir->ctime = ramfs_now();
    return 0;
}

void ramfs_dir_remove(struct ramfs_inode *dir, uint32_t slot)
{
    struct ramfs_dirent **p = slot < dir->nslots ? slot_ptr(dir, slot, 0) : 0;
    if (!p || !*p)
        return;
    ramfs_free(*p, dirent_size((*p)->len));
    ramfs_log(p, sizeof(*p));
    ramfs_log_inode(dir);
    *p = 0;
    dir->nent--;
    while (dir->nslots && !ramfs_dir_slot(dir, dir->nslots - 1))
        dir->nslots--;
    dir->mtime = dir->ctime = ramfs_now();
}

void ramfs_dir_free_all(struct ramfs_inode *dir)
{
    for (uint32_t s = 0; s < dir->nslots; s++) {
        struct ramfs_dirent *e = ramfs_dir_slot(dir, s);
        if (e)
            ramfs_free(e, dirent_size(e->len));
    }
    ramfs_log_inode(dir);
    dir->nslots = dir->nent = 0;
}

static uint8_t dtype(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return DT_DIR;
    case S_IFREG:
        return DT_REG;
    case S_IFLNK:
        return DT_LNK;
    case S_IFCHR:
        return DT_CHR;
    case S_IFBLK:
        return DT_BLK;
    case S_IFIFO:
        return DT_FIFO;
    case S_IFSOCK:
        return DT_SOCK;
    default:
        return 0;
    }
}

/*
 * Fill the requester's buffer with whole records from *cookie on, staging
 * them in a local buffer that is flushed with one safecopy when full.
 */
int64_t ramfs_getdents(struct ramfs_inode *dir, uint64_t *cookie, endpoint_t ep, grant_id_t g,
                       uint64_t len)
{
    static uint8_t stage[RAMFS_BLOCK];
    uint64_t staged = 0, flushed = 0, c = *cookie, end = 2 + (uint64_t)dir->nslots;
    if (dir->nlink == 0) /* removed: no entries, not even . and .. */
        return 0;
    for (; c < end; c++) {
        const char *name;
        uint64_t nlen, ino;
        uint8_t type;
        if (c < 2) {
            name = c ? ".." : ".";
            nlen = c + 1;
            ino = c ? dir->parent : dir->ino;
            type = DT_DIR;
        } else {
            struct ramfs_dirent *e = ramfs_dir_slot(dir, (uint32_t)(c - 2));
            if (!e)
                continue;
            struct ramfs_inode *ip = ramfs_iget(e->ino);
            name = e->name;
            nlen = e->len;
            ino = e->ino;
            type = ip ? dtype(ip->mode) : 0;
        }
        uint64_t reclen = (DIRENT_HDR + nlen + 1 + 7) & ~7ull;
        if (flushed + staged + reclen > len)
            break;
        if (staged + reclen > sizeof(stage)) {
            if (sys_safecopy_to(ep, g, flushed, stage, staged) < 0)
                return flushed ? (int64_t)flushed : -LX_EFAULT;
            flushed += staged;
            staged = 0;
            *cookie = c; /* everything before c is delivered */
        }
        struct linux_dirent64_hdr h = {ino, (int64_t)(c + 1), (uint16_t)reclen, type};
        ramfs_zero(stage + staged, reclen);
        memcpy(stage + staged, &h, DIRENT_HDR);
        memcpy(stage + staged + DIRENT_HDR, name, nlen);
        staged += reclen;
    }
    if (staged && sys_safecopy_to(ep, g, flushed, stage, staged) < 0)
        return flushed ? (int64_t)flushed : -LX_EFAULT;
    if (flushed + staged == 0 && c < end)
        return -LX_EINVAL; /* not even one record fits */
    *cookie = c;
    ramfs_touch(dir);
    return (int64_t)(flushed + staged);
}
