/*
 * Directory entries. A directory is a file of whole blocks, each a chain of
 * entries (inode, rec_len, name_len, file_type, name) covering the block
 * exactly. Every block is checked when it is read (dir_block): rec_len at
 * least 8, a multiple of 4, inside the block and long enough for its name;
 * a block that fails is not used (EIO, logged). Entry inode numbers are
 * checked where they are followed (names.c).
 *
 * Entries are found by a linear scan. A directory that dir_index made into
 * a hash tree is read the same way (its index blocks look like empty
 * entries to a linear reader) and loses its index flag at the first change,
 * as e2fsck expects of a writer that does not keep the tree.
 * Adding takes the first gap large enough (a free entry, or the slack
 * after a live one), else a new block at the end; removing merges the
 * entry into the one before it in its block, or frees it if it is first.
 */
#include "ext2.h"

uint8_t ftype_of(uint32_t mode)
{
    if (!(ext2.sb.feature_incompat & EXT2_INCOMPAT_FILETYPE))
        return EXT2_FT_UNKNOWN;
    switch (mode & S_IFMT) {
    case S_IFREG:
        return EXT2_FT_REG;
    case S_IFDIR:
        return EXT2_FT_DIR;
    case S_IFCHR:
        return EXT2_FT_CHR;
    case 0060000:
        return EXT2_FT_BLK;
    case S_IFIFO:
        return EXT2_FT_FIFO;
    case S_IFSOCK:
        return EXT2_FT_SOCK;
    case S_IFLNK:
        return EXT2_FT_SYMLINK;
    }
    return EXT2_FT_UNKNOWN;
}

/* The number of blocks of directory ino, checked against what it holds. */
static int dir_blocks(uint32_t ino, const struct ext2_inode *ip, uint64_t *n)
{
    uint64_t size = ip->size;
    if (size % ext2.bs || (size >> ext2.log_bs) > ((uint64_t)ip->blocks >> (ext2.log_bs - 9)))
        return ext2_corrupt("directory %u: size %llu does not match its %u blocks", ino,
                            (unsigned long long)size, ip->blocks >> (ext2.log_bs - 9));
    *n = size >> ext2.log_bs;
    return 0;
}

/* Block lblk of directory ino, every entry in it checked. */
static int dir_block(uint32_t ino, struct ext2_inode *ip, uint64_t lblk, struct ext2_buf **b)
{
    uint32_t pblk;
    int r = bmap(ino, ip, lblk, 0, &pblk);
    if (r < 0)
        return r;
    if (!pblk)
        return ext2_corrupt("directory %u: a hole at block %llu", ino, (unsigned long long)lblk);
    if (block_is_meta(pblk)) /* entries are written in place: never over the metadata */
        return ext2_corrupt("directory %u: block %llu is metadata (%u)", ino,
                            (unsigned long long)lblk, pblk);
    if ((r = bget(pblk, BGET_READ | BGET_NOLOG, b)) < 0) /* the writers log what they change */
        return r;
    for (uint32_t off = 0; off < ext2.bs;) {
        struct ext2_dirent *de = (struct ext2_dirent *)((*b)->data + off);
        if (off + 8 > ext2.bs || de->rec_len < 8 || de->rec_len % 4 ||
            de->rec_len > ext2.bs - off || 8u + de->name_len > de->rec_len) {
            bput(*b);
            return ext2_corrupt("directory %u block %llu: bad entry at offset %u (rec_len %u, "
                                "name_len %u)",
                                ino, (unsigned long long)lblk, off, de->rec_len, de->name_len);
        }
        off += de->rec_len;
    }
    return 0;
}

#define ENTRY(b, off) ((struct ext2_dirent *)((b)->data + (off)))

static int name_is(const struct ext2_dirent *de, const char *name, uint32_t len)
{
    return de->inode && de->name_len == len && !memcmp(de->name, name, len);
}

/* Find name in directory dir (pinned as ip): its block's buffer (pinned), offset and the
 * offset of the entry before it in the block (~0u if first). */
static int find(uint32_t dir, struct ext2_inode *ip, const char *name, uint32_t len,
                struct ext2_buf **out, uint32_t *offset, uint32_t *prev)
{
    uint64_t n;
    int r = dir_blocks(dir, ip, &n);
    if (r < 0)
        return r;
    for (uint64_t lblk = 0; lblk < n; lblk++) {
        struct ext2_buf *b;
        if ((r = dir_block(dir, ip, lblk, &b)) < 0)
            return r;
        uint32_t before = ~0u;
        for (uint32_t off = 0; off < ext2.bs; before = off, off += ENTRY(b, off)->rec_len)
            if (name_is(ENTRY(b, off), name, len)) {
                *out = b;
                *offset = off;
                *prev = before;
                return 0;
            }
        bput(b);
    }
    return -LX_ENOENT;
}

int dir_find(uint32_t dir, const char *name, uint32_t len, uint32_t *ino, uint32_t *blk_index,
             uint32_t *offset)
{
    struct ext2_buf *ib, *b;
    struct ext2_inode *ip;
    uint32_t off, prev;
    int r = iget_look(dir, &ib, &ip);
    if (r < 0)
        return r;
    r = find(dir, ip, name, len, &b, &off, &prev);
    bput(ib);
    if (r < 0)
        return r;
    *ino = ENTRY(b, off)->inode;
    if (blk_index)
        *blk_index = b->blk;
    if (offset)
        *offset = off;
    bput(b);
    return 0;
}

static void dir_changed(struct ext2_inode *ip)
{
    ip->mtime = ip->ctime = ext2_time();
    ip->flags &= ~(uint32_t)EXT2_INDEX_FL;
}

static void fill(struct ext2_dirent *de, const char *name, uint32_t len, uint32_t ino,
                 uint32_t mode)
{
    de->inode = ino;
    de->name_len = (uint8_t)len;
    de->file_type = ftype_of(mode);
    memcpy(de->name, name, len);
}

int dir_add(uint32_t dir, const char *name, uint32_t len, uint32_t ino, uint32_t mode)
{
    struct ext2_buf *ib, *b;
    struct ext2_inode *ip;
    uint64_t n;
    uint32_t need = EXT2_DIRENT_SIZE(len);
    int r = iget(dir, &ib, &ip);
    if (r < 0)
        return r;
    if ((r = dir_blocks(dir, ip, &n)) < 0)
        goto out;
    for (uint64_t lblk = 0; lblk < n; lblk++) {
        if ((r = dir_block(dir, ip, lblk, &b)) < 0)
            goto out;
        for (uint32_t off = 0; off < ext2.bs; off += ENTRY(b, off)->rec_len) {
            struct ext2_dirent *de = ENTRY(b, off);
            uint32_t used = de->inode ? EXT2_DIRENT_SIZE(de->name_len) : 0;
            if (de->rec_len < used + need)
                continue;
            cache_log_range(b, de, used + need); /* this entry and the new one (state.c) */
            if (used) { /* split: the new entry takes the slack after this one */
                struct ext2_dirent *nd = ENTRY(b, off + used);
                nd->rec_len = (uint16_t)(de->rec_len - used);
                de->rec_len = (uint16_t)used;
                de = nd;
            }
            fill(de, name, len, ino, mode);
            bdirty(b);
            bput(b);
            dir_changed(ip);
            iput(ib, ip, 1);
            return 0;
        }
        bput(b);
    }
    /* No room: one more block. */
    if (((n + 1) << ext2.log_bs) > 0xffffffffull) {
        r = -LX_ENOSPC;
        goto out;
    }
    uint32_t pblk;
    if ((r = bmap(dir, ip, n, 1, &pblk)) < 0 || (r = bget(pblk, BGET_NEW, &b)) < 0) {
        itrunc_blocks(ip, n);
        iput(ib, ip, 1);
        return r;
    }
    ENTRY(b, 0)->rec_len = (uint16_t)ext2.bs;
    fill(ENTRY(b, 0), name, len, ino, mode);
    bdirty(b);
    bput(b);
    ip->size = (uint32_t)((n + 1) << ext2.log_bs);
    dir_changed(ip);
    iput(ib, ip, 1);
    return 0;
out:
    bput(ib);
    return r;
}

/* The entry name in dir, for a change: dir's inode (ib, ip) and the entry's block b with its
 * offset and its predecessor's (~0u: first in its block); 0, or an error with nothing held. */
static int entry_for_change(uint32_t dir, const char *name, uint32_t len, struct ext2_buf **ib,
                            struct ext2_inode **ip, struct ext2_buf **b, uint32_t *off,
                            uint32_t *prev)
{
    int r = iget(dir, ib, ip);
    if (r < 0)
        return r;
    if ((r = find(dir, *ip, name, len, b, off, prev)) < 0)
        bput(*ib);
    return r < 0 ? r : 0;
}

/* The change to b is made: write it back and give both back, dir's times changed. */
static int entry_changed(struct ext2_buf *ib, struct ext2_inode *ip, struct ext2_buf *b)
{
    bdirty(b);
    bput(b);
    dir_changed(ip);
    iput(ib, ip, 1);
    return 0;
}

int dir_remove(uint32_t dir, const char *name, uint32_t len)
{
    struct ext2_buf *ib, *b;
    struct ext2_inode *ip;
    uint32_t off, prev;
    int r = entry_for_change(dir, name, len, &ib, &ip, &b, &off, &prev);
    if (r < 0)
        return r;
    cache_log_range(b, ENTRY(b, prev != ~0u ? prev : off), 8); /* the header that changes */
    if (prev != ~0u)
        ENTRY(b, prev)->rec_len = (uint16_t)(ENTRY(b, prev)->rec_len + ENTRY(b, off)->rec_len);
    else
        ENTRY(b, off)->inode = 0;
    return entry_changed(ib, ip, b);
}

int dir_set(uint32_t dir, const char *name, uint32_t len, uint32_t ino, uint32_t mode)
{
    struct ext2_buf *ib, *b;
    struct ext2_inode *ip;
    uint32_t off, prev;
    int r = entry_for_change(dir, name, len, &ib, &ip, &b, &off, &prev);
    if (r < 0)
        return r;
    cache_log_range(b, ENTRY(b, off), 8); /* the header that changes (state.c) */
    ENTRY(b, off)->inode = ino;
    ENTRY(b, off)->file_type = ftype_of(mode);
    return entry_changed(ib, ip, b);
}

int dir_empty(uint32_t dir)
{
    struct ext2_buf *ib, *b;
    struct ext2_inode *ip;
    uint64_t n;
    int r = iget(dir, &ib, &ip);
    if (r < 0)
        return r;
    if ((r = dir_blocks(dir, ip, &n)) < 0)
        goto out;
    r = 1;
    for (uint64_t lblk = 0; lblk < n && r == 1; lblk++) {
        if ((r = dir_block(dir, ip, lblk, &b)) < 0)
            break;
        r = 1;
        for (uint32_t off = 0; off < ext2.bs; off += ENTRY(b, off)->rec_len)
            if (ENTRY(b, off)->inode && !name_is(ENTRY(b, off), ".", 1) &&
                !name_is(ENTRY(b, off), "..", 2))
                r = 0;
        bput(b);
    }
out:
    bput(ib);
    return r;
}

int dir_init(uint32_t dir, uint32_t parent, struct ext2_inode *ip)
{
    uint32_t pblk;
    struct ext2_buf *b;
    int r = bmap(dir, ip, 0, 1, &pblk);
    if (r < 0 || (r = bget(pblk, BGET_NEW, &b)) < 0) {
        itrunc_blocks(ip, 0);
        return r;
    }
    ENTRY(b, 0)->rec_len = 12;
    fill(ENTRY(b, 0), ".", 1, dir, S_IFDIR);
    ENTRY(b, 12)->rec_len = (uint16_t)(ext2.bs - 12);
    fill(ENTRY(b, 12), "..", 2, parent, S_IFDIR);
    bdirty(b);
    bput(b);
    ip->size = ext2.bs;
    return 0;
}

/* Linux's d_type from an entry's file_type. */
static uint8_t dtype_of(uint8_t ft)
{
    static const uint8_t dt[] = {0, 8, 4, 2, 6, 1, 12, 10};
    return ft < sizeof(dt) ? dt[ft] : 0;
}

struct linux_dirent64_head {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
} __attribute__((packed));

/*
 * Records from byte position *cookie of the directory on (an entry that starts before the
 * position is skipped, so a cookie stays good when entries come and go), as many whole
 * records as fit in len; *cookie moves past the last one given.
 */
int64_t ext2_getdents(uint32_t dir, uint64_t *cookie, const struct ext2_io *io, uint64_t len)
{
    static uint8_t out[4096];
    struct ext2_buf *ib, *b;
    struct ext2_inode *ip;
    uint64_t n, done = 0, fill_len = 0, pos = *cookie;
    int r = iget_live(dir, &ib, &ip);
    if (r < 0)
        return r;
    if ((ip->mode & S_IFMT) != S_IFDIR) {
        bput(ib);
        return -LX_ENOTDIR;
    }
    if (!ip->links_count || (r = dir_blocks(dir, ip, &n)) < 0) {
        bput(ib);
        return r;
    }
    int full = 0;
    for (uint64_t lblk = pos >> ext2.log_bs; lblk < n && !full; lblk++) {
        if ((r = dir_block(dir, ip, lblk, &b)) < 0)
            break;
        uint64_t base = lblk << ext2.log_bs;
        for (uint32_t off = 0; off < ext2.bs; off += ENTRY(b, off)->rec_len) {
            struct ext2_dirent *de = ENTRY(b, off);
            if (base + off < pos || !de->inode)
                continue;
            uint32_t reclen =
                (uint32_t)(sizeof(struct linux_dirent64_head) + de->name_len + 1 + 7) & ~7u;
            if (done + fill_len + reclen > len) {
                full = 1;
                break;
            }
            if (fill_len + reclen > sizeof(out)) {
                if ((r = io->copy(io, done, out, fill_len, 1)) < 0)
                    break;
                done += fill_len;
                fill_len = 0;
            }
            struct linux_dirent64_head h = {de->inode, (int64_t)(base + off + de->rec_len),
                                            (uint16_t)reclen, dtype_of(de->file_type)};
            memset(out + fill_len, 0, reclen);
            memcpy(out + fill_len, &h, sizeof(h));
            memcpy(out + fill_len + sizeof(h), de->name, de->name_len);
            fill_len += reclen;
            pos = base + off + de->rec_len;
        }
        bput(b);
        if (r < 0)
            break;
        if (!full)
            pos = (lblk + 1) << ext2.log_bs;
    }
    bput(ib);
    if (r >= 0 && fill_len && (r = io->copy(io, done, out, fill_len, 1)) == 0)
        done += fill_len;
    if (r < 0)
        return r;
    if (!done && full)
        return -LX_EINVAL;
    *cookie = pos;
    return (int64_t)done;
}
