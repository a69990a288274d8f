/*
 * File data: read, write and truncate of regular files. Blocks never
 * written are holes (read as zeros, cost nothing); bytes of the last block
 * past the end of the file are always zero (truncate clears them, new
 * blocks start zeroed), so growing a file shows zeros. A write that fails
 * part way (no space, a bad grant) keeps the bytes written before the
 * failure and frees whatever it allocated past the file's end. Reads do
 * not update atime (as Linux's noatime). A block pointer into the metadata
 * (superblock, descriptors, bitmaps, inode tables: only corruption makes
 * one) is read like any block but never written (EIO).
 */
#include "ext2.h"

static const uint8_t zeros[EXT2_MAX_BLOCK];

/* A regular file of a data request: EISDIR for a directory, EINVAL for another kind. */
static int file_get(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip)
{
    int r = iget_live(ino, b, ip);
    if (r < 0)
        return r;
    uint32_t type = (*ip)->mode & S_IFMT;
    if (type == S_IFREG)
        return 0;
    bput(*b);
    return type == S_IFDIR ? -LX_EISDIR : -LX_EINVAL;
}

int64_t ext2_read(uint32_t ino, uint64_t off, const struct ext2_io *io, uint64_t len)
{
    struct ext2_buf *ib;
    struct ext2_inode *ip;
    int r = file_get(ino, &ib, &ip);
    if (r < 0)
        return r;
    uint64_t size = isize(ip), done = 0;
    if (off >= size) {
        bput(ib);
        return 0;
    }
    if (len > size - off)
        len = size - off;
    while (done < len) {
        uint64_t pos = off + done, boff = pos & (ext2.bs - 1);
        uint64_t chunk = ext2.bs - boff < len - done ? ext2.bs - boff : len - done;
        uint32_t pblk;
        struct ext2_buf *b = 0;
        if ((r = bmap(ino, ip, pos >> ext2.log_bs, 0, &pblk)) < 0 ||
            (pblk && (r = bget(pblk, BGET_READ, &b)) < 0))
            break;
        r = io->copy(io, done, (void *)(b ? b->data + boff : zeros), chunk, 1);
        bput(b);
        if (r < 0)
            break;
        done += chunk;
    }
    bput(ib);
    return done ? (int64_t)done : r;
}

int64_t ext2_write(uint32_t ino, uint64_t off, const struct ext2_io *io, uint64_t len)
{
    struct ext2_buf *ib;
    struct ext2_inode *ip;
    int r = ext2_writable();
    if (r < 0 || (r = file_get(ino, &ib, &ip)) < 0)
        return r;
    if (len == 0) {
        bput(ib);
        return 0;
    }
    if (off >= ext2.max_size) {
        bput(ib);
        return -LX_EFBIG;
    }
    if (len > ext2.max_size - off)
        len = ext2.max_size - off;
    uint64_t size = isize(ip), done = 0;
    while (done < len) {
        uint64_t pos = off + done, boff = pos & (ext2.bs - 1), lblk = pos >> ext2.log_bs;
        uint64_t chunk = ext2.bs - boff < len - done ? ext2.bs - boff : len - done;
        uint32_t pblk;
        struct ext2_buf *b;
        if ((r = bmap(ino, ip, lblk, 0, &pblk)) < 0)
            break;
        int fresh = !pblk;
        if (!fresh && block_is_meta(pblk)) { /* a corrupt pointer: reads may, writes may not */
            r = ext2_corrupt("inode %u: block %u is metadata: not written", ino, pblk);
            break;
        }
        if (fresh && (r = bmap(ino, ip, lblk, 1, &pblk)) < 0)
            break;
        if ((r = bget(pblk, fresh || chunk == ext2.bs ? BGET_NEW : BGET_READ, &b)) < 0)
            break;
        r = io->copy(io, done, b->data + boff, chunk, 0);
        bdirty(b); /* a fresh block is zeros where the copy did not reach */
        bput(b);
        if (r < 0)
            break;
        done += chunk;
    }
    if (off + done > size)
        isize_set(ip, off + done);
    if (r < 0) /* nothing may stay allocated past the end */
        itrunc_blocks(ip, (isize(ip) + ext2.bs - 1) >> ext2.log_bs);
    if (done)
        ip->mtime = ip->ctime = ext2_time();
    iput(ib, ip, 1);
    return done ? (int64_t)done : r;
}

int ext2_trunc(uint32_t ino, uint64_t size)
{
    struct ext2_buf *ib;
    struct ext2_inode *ip;
    int r = ext2_writable();
    if (r < 0 || (r = file_get(ino, &ib, &ip)) < 0)
        return r;
    if (size > ext2.max_size) {
        bput(ib);
        return -LX_EFBIG;
    }
    uint64_t old = isize(ip);
    if (size < old) {
        uint32_t pblk;
        struct ext2_buf *b;
        uint64_t boff = size & (ext2.bs - 1);
        if (boff && bmap(ino, ip, size >> ext2.log_bs, 0, &pblk) == 0 && pblk &&
            !block_is_meta(pblk) && bget(pblk, BGET_READ, &b) == 0) {
            memset(b->data + boff, 0, ext2.bs - boff);
            bdirty(b);
            bput(b);
        }
        r = itrunc_blocks(ip, (size + ext2.bs - 1) >> ext2.log_bs);
    }
    isize_set(ip, size);
    ip->mtime = ip->ctime = ext2_time();
    iput(ib, ip, 1);
    return r;
}
