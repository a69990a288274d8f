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

/*
 * Read-ahead. A read that misses the cache fetches, in one disk request, the rest of what it
 * asked for and, when the file is read sequentially (a miss right after the block last read,
 * or at block 0), a window past it that grows with each sequential miss (RA_MIN, then 8
 * times larger, up to RA_MAX), as long as the blocks follow one another on the disk, are not
 * cached already (cache_read_run stops there: a cached or dirty block is never overwritten)
 * and lie before the file's end. A read elsewhere in the file starts the window again. One
 * state per file for the last RA_FILES files read.
 */
#define RA_MIN 8
#define RA_MAX CACHE_RUN_MAX
#define RA_FILES 8

static struct ra_state {
    uint32_t ino, window;
    uint64_t next; /* the block after the last one read */
} ra[RA_FILES];
static uint32_t ra_hand;

static struct ra_state *ra_of(uint32_t ino)
{
    for (uint32_t i = 0; i < RA_FILES; i++)
        if (ra[i].ino == ino)
            return &ra[i];
    struct ra_state *s = &ra[ra_hand++ % RA_FILES];
    *s = (struct ra_state){ino, 0, 0};
    return s;
}

uint32_t ra_window(uint32_t window, uint64_t lblk, uint64_t next)
{
    if (lblk != next) /* a read elsewhere; one from the start begins again */
        return lblk == 0 ? RA_MIN : 0;
    return !window ? RA_MIN : window >= RA_MAX / 8 ? RA_MAX : window * 8;
}

/*
 * The blocks of the files after inode ino (in inode order: files made one after another) that
 * continue a run of k disk blocks from `start` (none of them cached), until n blocks in all: the
 * run's new length. Only the direct blocks of regular files count; an empty file or another
 * kind is passed over; a free inode, or a file block elsewhere, ends the run. So a read-ahead
 * across files reads only blocks some file holds, before that file's end, and looks at no more
 * inodes than the files it reads plus one.
 */
static uint32_t next_files(uint32_t ino, uint32_t start, uint32_t k, uint32_t n)
{
    for (uint32_t i = ino + 1; k < n && ino_ok(i); i++) {
        struct ext2_buf *b;
        struct ext2_inode *ip;
        if (iget(i, &b, &ip) < 0)
            break;
        int used = ip->links_count && (ip->mode & S_IFMT);
        uint64_t blocks =
            (ip->mode & S_IFMT) == S_IFREG ? (isize(ip) + ext2.bs - 1) >> ext2.log_bs : 0;
        uint64_t j = 0;
        while (j < blocks && j < EXT2_NDIR && k < n && ip->block[j] == start + k &&
               !cache_has(start + k))
            j++, k++;
        bput(b);
        if (!used || (j < blocks && k < n)) /* the end of the files, or a block elsewhere */
            break;
    }
    return k;
}

/* Block lblk (at disk block pblk, not cached) is missed by a read that wants `want` blocks from
 * it on: read it and what follows it on the disk in one request. When the disk is being read in
 * order across files (the miss is on the block after the last run read), the run goes on into
 * the next files' blocks (next_files), with a window of its own. */
static void read_ahead(uint32_t ino, struct ext2_inode *ip, struct ra_state *st, uint64_t lblk,
                       uint32_t pblk, uint64_t want)
{
    static uint32_t disk_next, disk_window; /* the block after the last run read; its window */
    st->window = ra_window(st->window, lblk, st->next);
    disk_window = pblk == disk_next ? ra_window(disk_window, 1, 1) : 0;
    uint64_t n = want > st->window ? want : st->window;
    uint64_t end = (isize(ip) + ext2.bs - 1) >> ext2.log_bs; /* blocks in the file */
    if (n > end - lblk)
        n = end - lblk;
    if (n > cache_run_max())
        n = cache_run_max();
    uint32_t k = 1, p, got;
    while (k < n && bmap(ino, ip, lblk + k, 0, &p) == 0 && p == pblk + k && !cache_has(p))
        k++;
    if (k == end - lblk && disk_window > k) /* the file's end, on a disk read in order */
        k = next_files(ino, pblk, k, disk_window < cache_run_max() ? disk_window : cache_run_max());
    got = k > 1 ? cache_read_run(pblk, k) : 0;
    disk_next = pblk + (got ? got : 1);
}
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

/* Copy the n pieces of v (consecutive in the requester's buffer from off) out to it (out = 1)
 * or in from it: one call where the requester has copyv. 0 or the copy's error. */
static int copy_pieces(const struct ext2_io *io, uint64_t off, const struct ext2_iov *v, uint32_t n,
                       int out)
{
    if (io->copyv && n > 1)
        return io->copyv(io, off, v, n, out);
    int r = 0;
    for (uint32_t i = 0; r == 0 && i < n; off += v[i].len, i++)
        r = io->copy(io, off, v[i].buf, v[i].len, out);
    return r;
}

static void bput_all(struct ext2_buf **b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        bput(b[i]);
}

int64_t ext2_read(uint32_t ino, uint64_t off, const struct ext2_io *io, uint64_t len)
{
    struct ext2_buf *ib;
    struct ext2_inode *ip;
    int r = file_get(ino, &ib, &ip);
    if (r < 0)
        return r;
    uint64_t size = isize(ip), done = 0, ahead = 0; /* copied; gathered for the next copy */
    if (off >= size) {
        bput(ib);
        return 0;
    }
    if (len > size - off)
        len = size - off;
    struct ra_state *st = ra_of(ino);
    uint64_t last = (off + len - 1) >> ext2.log_bs; /* the request's last block */
    struct ext2_buf *held[EXT2_COPY_MAX];
    struct ext2_iov v[EXT2_COPY_MAX];
    uint32_t n = 0;
    while (done + ahead < len) {
        uint64_t pos = off + done + ahead, boff = pos & (ext2.bs - 1), lblk = pos >> ext2.log_bs;
        uint64_t chunk = ext2.bs - boff < len - done - ahead ? ext2.bs - boff : len - done - ahead;
        uint32_t pblk;
        struct ext2_buf *b = 0;
        if ((r = bmap(ino, ip, lblk, 0, &pblk)) < 0)
            break;
        if (pblk && !cache_has(pblk))
            read_ahead(ino, ip, st, lblk, pblk, last - lblk + 1);
        if (pblk && (r = bget(pblk, BGET_READ | BGET_NOLOG, &b)) < 0)
            break;
        v[n] = (struct ext2_iov){(void *)(b ? b->data + boff : zeros), chunk};
        held[n++] = b;
        ahead += chunk;
        st->next = lblk + 1;
        if (n == EXT2_COPY_MAX || done + ahead == len) { /* the gathered blocks in one copy */
            r = copy_pieces(io, done, v, n, 1);
            bput_all(held, n);
            n = 0;
            if (r < 0)
                break;
            done += ahead;
            ahead = 0;
        }
    }
    if (n && copy_pieces(io, done, v, n, 1) == 0) /* what was gathered before an error */
        done += ahead;
    bput_all(held, n);
    bput(ib);
    return done ? (int64_t)done : r;
}

/*
 * A write's blocks gathered for one copy from the requester: newly allocated blocks only (a
 * block already in the file is copied alone), so a copy that fails leaves what one block at a
 * time would have: the pieces before the failing one copied (found again piece by piece), the
 * rest zeros (a new block never shows what its buffer held before). Every block is marked dirty
 * and unpinned; *done grows by the bytes copied. 0 or the copy's error.
 */
struct write_batch {
    const struct ext2_io *io;
    struct ext2_buf *held[EXT2_COPY_MAX];
    struct ext2_iov v[EXT2_COPY_MAX];
    uint8_t whole[EXT2_COPY_MAX]; /* BGET_FULL: neither read nor zeroed before the copy */
    uint32_t n;
    uint64_t ahead; /* bytes gathered */
};

static int batch_copy(struct write_batch *w, uint64_t *done)
{
    if (!w->n)
        return 0;
    uint32_t ok = w->n;
    int r = copy_pieces(w->io, *done, w->v, w->n, 0);
    if (r < 0 && w->n > 1) /* how far one piece at a time gets */
        for (ok = 0;
             ok < w->n && (r = w->io->copy(w->io, *done, w->v[ok].buf, w->v[ok].len, 0)) == 0; ok++)
            *done += w->v[ok].len;
    else if (r < 0)
        ok = 0;
    else
        *done += w->ahead;
    for (uint32_t i = 0; i < w->n; i++) {
        if (i >= ok && w->whole[i]) /* what the buffer held before must not reach the disk */
            memset(w->held[i]->data, 0, ext2.bs);
        bdirty(w->held[i]); /* a fresh block is zeros where the copy did not reach */
        bput(w->held[i]);
    }
    w->n = 0;
    w->ahead = 0;
    return r;
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
    struct write_batch w = {.io = io};
    while (done + w.ahead < len) {
        uint64_t pos = off + done + w.ahead, boff = pos & (ext2.bs - 1), lblk = pos >> ext2.log_bs;
        uint64_t chunk =
            ext2.bs - boff < len - done - w.ahead ? ext2.bs - boff : len - done - w.ahead;
        uint32_t pblk;
        struct ext2_buf *b;
        if ((r = bmap(ino, ip, lblk, 0, &pblk)) < 0)
            break;
        int fresh = !pblk;
        if (!fresh && block_is_meta(pblk)) { /* a corrupt pointer: reads may, writes may not */
            r = ext2_corrupt("inode %u: block %u is metadata: not written", ino, pblk);
            break;
        }
        if ((!fresh && w.n) || w.n == EXT2_COPY_MAX) { /* a block in place: copied alone */
            if ((r = batch_copy(&w, &done)) < 0)
                break;
            continue;
        }
        if (fresh && (r = bmap(ino, ip, lblk, 1, &pblk)) < 0)
            break;
        int how = chunk == ext2.bs ? BGET_FULL : fresh ? BGET_NEW : BGET_READ;
        if ((r = bget(pblk, how | BGET_NOLOG, &b)) < 0)
            break;
        w.v[w.n] = (struct ext2_iov){b->data + boff, chunk};
        w.whole[w.n] = how == BGET_FULL;
        w.held[w.n++] = b;
        w.ahead += chunk;
        if (!fresh && (r = batch_copy(&w, &done)) < 0)
            break;
    }
    int c = batch_copy(&w, &done); /* what was gathered, also before an error */
    r = r < 0 ? r : c;
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
