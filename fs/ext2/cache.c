/*
 * The block cache: EXT2_NBUF buffers of one block each, found by block
 * number through a hash table, kept on an LRU list. A buffer is pinned
 * between bget and bput and is never reused while pinned; the code pins at
 * most about twenty at once (an inode, a directory block, a bitmap, three
 * levels of indirect blocks, a read's EXT2_COPY_MAX blocks).
 *
 * Runs: every disk transfer of more than one block is a run of contiguous
 * blocks (at most CACHE_RUN_MAX: 1 MiB of 4 KiB blocks) in one request
 * (ext2_disk's xfer, the buffers as a vector). Reads: bget reads one block;
 * cache_read_run (file.c's read-ahead) reads a run into the least recently
 * used buffers, stopping before the first block already cached, so a
 * cached block, dirty or not, is never read over.
 *
 * Write-back: bdirty only marks a buffer. A dirty buffer reaches the disk
 * when it is the least recently used one and its buffer is wanted for
 * another block (write_cluster: with the dirty unpinned buffers of the
 * blocks around it, in one request, so the next evictions find clean
 * buffers), or at cache_flush (ext2_sync: sync, fsync, fdatasync, unmount,
 * and the server's periodic flush), which writes every dirty block in
 * ascending block order, contiguous runs in one request, then asks the
 * disk to flush. A write that fails leaves the buffers dirty (and answers
 * EIO; an eviction takes a clean buffer instead); nothing is ever written
 * outside the file system's blocks.
 */
#include "ext2.h"

#define HASH_SIZE 2048

static struct ext2_state *S; /* the buffers, their blocks and the undo log (state.c) */
static struct ext2_buf *hash[HASH_SIZE];
static struct ext2_buf *lru_head, *lru_tail; /* most and least recently used */
static uint32_t ndirty;

static int txn_on;           /* a transaction is open: bget logs what it hands out */
static uint32_t bufs_logged; /* in it: at most EXT2_LOG_MAX (they cannot be reused until it ends) */

/* Logged in the open transaction: kept (not reused, not discarded) until it ends. */
static int logged(const struct ext2_buf *b)
{
    return txn_on && b->txn == S->seq;
}

static uint32_t hash_of(uint32_t blk)
{
    return (blk * 2654435761u) % HASH_SIZE;
}

static void lru_unlink(struct ext2_buf *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        lru_head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        lru_tail = b->prev;
    b->prev = b->next = 0;
}

static void lru_front(struct ext2_buf *b)
{
    b->next = lru_head;
    b->prev = 0;
    if (lru_head)
        lru_head->prev = b;
    lru_head = b;
    if (!lru_tail)
        lru_tail = b;
}

static void hash_remove(struct ext2_buf *b)
{
    struct ext2_buf **pp = &hash[hash_of(b->blk)];
    while (*pp && *pp != b)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = b->hnext;
    b->hnext = 0;
}

void cache_forget(void)
{
    memset(hash, 0, sizeof(hash));
    lru_head = lru_tail = 0;
    for (uint32_t i = 0; i < EXT2_NBUF; i++) {
        S->bufs[i] = (struct ext2_buf){.data = S->memory[i]};
        lru_front(&S->bufs[i]);
    }
    ndirty = 0;
}

void cache_attach(struct ext2_state *s)
{
    S = s;
}

int cache_init(void)
{
    cache_forget();
    return 0;
}

uint32_t cache_dirty_count(void)
{
    return ndirty;
}

static uint64_t offset_of(uint32_t blk)
{
    return (uint64_t)blk << ext2.log_bs;
}

/* The disk range of block blk..blk+n-1, which must lie inside the file system. */
static int range_ok(uint32_t blk, uint32_t n)
{
    return (uint64_t)blk + n <= ext2.sb.blocks_count &&
           offset_of(blk) + (uint64_t)n * ext2.bs <= ext2.disk->size;
}

static struct ext2_buf *find(uint32_t blk)
{
    struct ext2_buf *b;
    for (b = hash[hash_of(blk)]; b; b = b->hnext)
        if (b->blk == blk && b->used)
            break;
    return b;
}

int cache_has(uint32_t blk)
{
    return find(blk) != 0;
}

/* Blocks blk..blk+n-1 between the disk and buffers v[0..n-1] (write = 1: to the disk): one
 * request, buffers adjacent in memory as one piece. 0 or -LX_EIO (logged). */
static int disk_run(int write, uint32_t blk, struct ext2_buf **v, uint32_t n)
{
    static struct ext2_iov iov[CACHE_RUN_MAX];
    int r = n && n <= CACHE_RUN_MAX && range_ok(blk, n) ? 0 : -LX_EIO;
    uint32_t k = 0;
    for (uint32_t i = 0; r == 0 && i < n; i++) {
        if (k && (uint8_t *)iov[k - 1].buf + iov[k - 1].len == v[i]->data)
            iov[k - 1].len += ext2.bs;
        else
            iov[k++] = (struct ext2_iov){v[i]->data, ext2.bs};
    }
    if (r == 0 && ext2.disk->xfer) {
        r = ext2.disk->xfer(ext2.disk, write, offset_of(blk), iov, k);
    } else {
        uint64_t off = offset_of(blk);
        for (uint32_t i = 0; r == 0 && i < k; off += iov[i].len, i++)
            r = write ? ext2.disk->write(ext2.disk, off, iov[i].buf, iov[i].len)
                      : ext2.disk->read(ext2.disk, off, iov[i].buf, iov[i].len);
    }
    if (r) {
        printf("ext2: cannot %s blocks %u..%u\n", write ? "write" : "read", blk, blk + n - 1);
        return -LX_EIO;
    }
    return 0;
}

/* Write dirty buffers v[0..n-1] (blocks v[0]->blk on, contiguous) and mark them clean. */
static int write_run(struct ext2_buf **v, uint32_t n)
{
    if (disk_run(1, v[0]->blk, v, n) < 0)
        return -LX_EIO; /* they stay dirty: a later sync tries again */
    for (uint32_t k = 0; k < n; k++)
        v[k]->dirty = 0;
    ndirty -= n;
    return 0;
}

/*
 * Write dirty buffer b, which is about to be reused, together with the dirty unpinned buffers
 * of the blocks around it (its neighbours by block number, up to CACHE_RUN_MAX in all) in one
 * request: a file written sequentially leaves runs of dirty blocks, and each eviction then
 * writes a run instead of one block, so the next evictions find clean buffers.
 */
static int write_cluster(struct ext2_buf *b)
{
    static struct ext2_buf *run[CACHE_RUN_MAX];
    uint32_t lo = b->blk, n = 1;
    struct ext2_buf *x;
    while (n < CACHE_RUN_MAX / 2 && lo > 0 && (x = find(lo - 1)) && x->dirty && !x->pins)
        lo--, n++;
    for (uint32_t i = 0; i < n; i++)
        run[i] = find(lo + i);
    while (n < CACHE_RUN_MAX && lo + n > lo && (x = find(lo + n)) && x->dirty && !x->pins)
        run[n++] = x;
    return write_run(run, n);
}

/* The least recently used unpinned buffer, emptied (written first if dirty; if that write fails,
 * the least recently used clean one), or 0. */
static struct ext2_buf *take_buffer(void)
{
    struct ext2_buf *b;
    for (b = lru_tail; b && (b->pins || logged(b)); b = b->prev)
        ;
    if (!b) {
        printf("ext2: every cache buffer is in use\n");
        return 0;
    }
    if (b->dirty && write_cluster(b) < 0) {
        /* The disk refused it (a bad block, a driver gone): it stays dirty, and goes to the
         * front (the next evictions do not try it again at once); a clean buffer further up the
         * list serves instead, so one unwritable block does not stop the rest. */
        struct ext2_buf *bad = b;
        for (b = b->prev; b && (b->pins || logged(b) || b->dirty); b = b->prev)
            ;
        lru_unlink(bad);
        lru_front(bad);
        if (!b)
            return 0;
    }
    if (b->used)
        hash_remove(b);
    b->used = 0;
    return b;
}

static void hash_add(struct ext2_buf *b, uint32_t blk)
{
    b->blk = blk;
    b->used = 1;
    b->hnext = hash[hash_of(blk)];
    hash[hash_of(blk)] = b;
}

/* Buffer b, on no list, at the LRU end. */
static void lru_append(struct ext2_buf *b)
{
    b->next = 0;
    b->prev = lru_tail;
    if (lru_tail)
        lru_tail->next = b;
    lru_tail = b;
    if (!lru_head)
        lru_head = b;
}

/* An empty buffer goes to the LRU end, to be reused first. */
static void lru_back(struct ext2_buf *b)
{
    lru_unlink(b);
    lru_append(b);
}

int bget(uint32_t blk, int how, struct ext2_buf **out)
{
    if (!range_ok(blk, 1))
        return ext2_corrupt("block %u outside the file system (%u blocks)", blk,
                            ext2.sb.blocks_count);
    struct ext2_buf *b = find(blk);
    if (!b) {
        if (!(b = take_buffer()))
            return -LX_EIO;
        if ((how & 3) == BGET_READ && disk_run(0, blk, &b, 1) < 0) {
            lru_back(b);
            return -LX_EIO;
        }
        hash_add(b, blk);
        if (how & BGET_NOLOG)
            ;
        else if ((how & 3) == BGET_READ)
            cache_log(b, 1); /* the disk's contents: a write in between is undone too */
        else
            cache_log(b, 0);
    } else if (!(how & BGET_NOLOG) && txn_on && b->whole != S->seq) { /* cache_log's test, here */
        cache_log(b, 1);
    }
    if ((how & 3) == BGET_NEW)
        memset(b->data, 0, ext2.bs);
    lru_unlink(b);
    lru_front(b);
    b->pins++;
    *out = b;
    return 0;
}

uint32_t cache_run_max(void)
{
    return EXT2_NBUF / 4 < CACHE_RUN_MAX ? EXT2_NBUF / 4 : CACHE_RUN_MAX;
}

uint32_t cache_read_run(uint32_t blk, uint32_t n)
{
    static struct ext2_buf *run[CACHE_RUN_MAX];
    if (n > cache_run_max())
        n = cache_run_max();
    if (blk >= ext2.sb.blocks_count)
        return 0;
    if (n > ext2.sb.blocks_count - blk)
        n = ext2.sb.blocks_count - blk;
    while (n && !range_ok(blk, n)) /* the device may end before the file system says */
        n--;
    uint32_t k = 0;
    while (k < n && !find(blk + k))
        k++;
    n = k;
    for (k = 0; k < n; k++) { /* pinned while gathered, so none is taken twice */
        if (!(run[k] = take_buffer()))
            break;
        run[k]->pins++;
        lru_unlink(run[k]);
        lru_front(run[k]);
    }
    n = k;
    int r = n ? disk_run(0, blk, run, n) : -LX_EIO;
    for (k = 0; k < n; k++) {
        run[k]->pins--;
        if (r == 0)
            hash_add(run[k], blk + k);
        else
            lru_back(run[k]);
    }
    return r == 0 ? n : 0;
}

void cache_discard(uint32_t blk)
{
    struct ext2_buf *b = find(blk);
    if (!b || b->pins || logged(b)) /* a logged one stays: an undo may need it */
        return;
    if (b->dirty)
        ndirty--;
    b->dirty = 0;
    hash_remove(b);
    b->used = 0;
    lru_back(b); /* reused first */
}

void bput(struct ext2_buf *b)
{
    if (b && b->pins)
        b->pins--;
}

void bdirty(struct ext2_buf *b)
{
    if (!b->dirty)
        ndirty++;
    b->dirty = 1;
}

/* Sort the dirty buffers by block number (shell sort: no allocation, no recursion). */
static void sort_by_block(struct ext2_buf **v, uint32_t n)
{
    for (uint32_t gap = n / 2; gap; gap /= 2)
        for (uint32_t i = gap; i < n; i++)
            for (uint32_t j = i; j >= gap && v[j - gap]->blk > v[j]->blk; j -= gap) {
                struct ext2_buf *t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
}

int cache_flush(void)
{
    static struct ext2_buf *dirty[EXT2_NBUF];
    uint32_t n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < EXT2_NBUF; i++)
        if (S->bufs[i].used && S->bufs[i].dirty)
            dirty[n++] = &S->bufs[i];
    sort_by_block(dirty, n);
    for (uint32_t i = 0; i < n;) {
        uint32_t run = 1;
        while (i + run < n && run < CACHE_RUN_MAX && dirty[i + run]->blk == dirty[i]->blk + run)
            run++;
        if (write_run(dirty + i, run) < 0)
            rc = -LX_EIO;
        i += run;
    }
    if (ext2.disk->flush && ext2.disk->flush(ext2.disk))
        rc = -LX_EIO;
    return rc;
}

/* ---- transactions (state.c): the undo log */
void cache_txn(int on)
{
    txn_on = on;
    bufs_logged = 0;
}

static void barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

/* Old bytes off..off+len of buffer b (present = 0: it held no block before) into the undo log,
 * then the log's count by one 8-byte store. A full log commits the change so far (ext2_txn_end)
 * and starts another. */
static void log_bytes(struct ext2_buf *b, int present, uint32_t off, uint32_t len)
{
    uint32_t n = (uint32_t)S->commit;
    uint32_t at = n ? S->undo[n - 1].at + S->undo[n - 1].len : 0;
    if (n >= EXT2_LOG_ENTRIES || len > sizeof(S->undo_data) - at ||
        (b->txn != S->seq && bufs_logged >= EXT2_LOG_MAX)) {
        S->split++;
        ext2_txn_end();
        ext2_txn_begin();
        n = at = 0;
    }
    S->undo[n] =
        (struct ext2_undo){(uint32_t)(b - S->bufs), b->blk, (uint32_t)present, off, len, at};
    memcpy(S->undo_data + at, b->data + off, len);
    bufs_logged += b->txn != S->seq;
    b->txn = S->seq;
    barrier();
    *(volatile uint64_t *)&S->commit = (S->commit & ~0xffffffffull) | (n + 1);
    if (ext2_txn_hook)
        ext2_txn_hook();
}

/* Buffer b, about to be handed out in the open transaction: the first time, its contents (or,
 * present = 0, that it held no block before) into the undo log. */
void cache_log(struct ext2_buf *b, int present)
{
    if (!txn_on || b->whole == S->seq)
        return;
    log_bytes(b, present, 0, present ? ext2.bs : 0);
    b->whole = S->seq;
}

/* Bytes p..p+len of buffer b, about to change (a bitmap's byte, a descriptor, an inode, a block
 * pointer): their old values into the undo log, unless the whole block is there already. */
void cache_log_range(struct ext2_buf *b, const void *p, uint32_t len)
{
    uint64_t off = (uint64_t)((const uint8_t *)p - b->data);
    if (!txn_on || b->whole == S->seq || off > ext2.bs || len > ext2.bs - off)
        return;
    uint32_t n = (uint32_t)S->commit, idx = (uint32_t)(b - S->bufs);
    for (uint32_t k = n; b->txn == S->seq && k-- > 0 && k + 8 >= n;) { /* logged just now (a
                                                                          bitmap's byte again) */
        const struct ext2_undo *u = &S->undo[k];
        if (u->buf == idx && u->present && off >= u->off && off + len <= u->off + u->len)
            return;
    }
    log_bytes(b, 1, (uint32_t)off, len);
}

/* After a death in a transaction: its n entries undone, the last first. A buffer with its old
 * contents back is dirty (the new ones may have been written); one that held no block before
 * is dropped. Entries naming no buffer are skipped (not counted). */
uint32_t cache_undo(uint32_t n)
{
    uint32_t done = 0;
    for (uint32_t i = n; i-- > 0;) {
        const struct ext2_undo *u = &S->undo[i];
        if (u->buf >= EXT2_NBUF)
            continue;
        struct ext2_buf *b = &S->bufs[u->buf];
        if (u->present && (u->off > ext2.bs || u->len > ext2.bs - u->off ||
                           u->at > sizeof(S->undo_data) - u->len)) {
            continue; /* not a range this log can hold */
        } else if (u->present) {
            memcpy(S->memory[u->buf] + u->off, S->undo_data + u->at, u->len);
            b->blk = u->blk;
            b->used = b->dirty = 1;
        } else {
            b->used = b->dirty = 0;
        }
        done++;
    }
    return done;
}

/* The cache as the region holds it, kept: hash, LRU list (used buffers first) and counts made
 * again from each buffer's block, use and dirty mark; a block outside the file system or cached
 * twice is dropped. */
void cache_rebuild(uint32_t *used, uint32_t *dirty, uint32_t *dropped)
{
    memset(hash, 0, sizeof(hash));
    lru_head = lru_tail = 0;
    ndirty = *used = *dropped = 0;
    for (uint32_t i = 0; i < EXT2_NBUF; i++) {
        struct ext2_buf *b = &S->bufs[i];
        uint32_t blk = b->blk;
        uint8_t was_dirty = b->dirty;
        int keep = b->used == 1 && was_dirty <= 1 && range_ok(blk, 1) && !find(blk);
        *dropped += b->used && !keep;
        *b = (struct ext2_buf){.data = S->memory[i]};
        if (keep) {
            b->dirty = was_dirty;
            hash_add(b, blk);
            lru_front(b);
            ndirty += was_dirty;
            (*used)++;
        }
    }
    for (uint32_t i = 0; i < EXT2_NBUF; i++) /* the empty ones at the end, reused first */
        if (!S->bufs[i].used)
            lru_append(&S->bufs[i]);
    *dirty = ndirty;
}
