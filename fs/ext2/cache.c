/*
 * The block cache: EXT2_NBUF buffers of one block each, found by block
 * number through a hash table, kept on an LRU list. A buffer is pinned
 * between bget and bput and is never reused while pinned; the code pins at
 * most a handful at once (an inode, a directory block, a bitmap, three
 * levels of indirect blocks).
 *
 * Write-back: bdirty only marks a buffer. A dirty buffer reaches the disk
 * when it is the least recently used one and its buffer is wanted for
 * another block, or at cache_flush (ext2_sync: sync, fsync, fdatasync,
 * unmount, and the server's periodic flush), which writes every dirty block
 * in ascending block order, contiguous runs in one disk write, then asks
 * the disk to flush. A write that fails leaves the buffer dirty (and
 * answers EIO); nothing is ever written outside the file system's blocks.
 */
#include "ext2.h"

#define HASH_SIZE 2048
#define RUN_MAX 32 /* blocks in one disk write at flush */

static uint8_t memory[EXT2_NBUF][EXT2_MAX_BLOCK] __attribute__((aligned(4096)));
static uint8_t run_buf[RUN_MAX * EXT2_MAX_BLOCK] __attribute__((aligned(4096)));
static struct ext2_buf bufs[EXT2_NBUF];
static struct ext2_buf *hash[HASH_SIZE];
static struct ext2_buf *lru_head, *lru_tail; /* most and least recently used */
static uint32_t ndirty;

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
        bufs[i] = (struct ext2_buf){.data = memory[i]};
        lru_front(&bufs[i]);
    }
    ndirty = 0;
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

static int write_out(struct ext2_buf *b)
{
    if (!range_ok(b->blk, 1) || ext2.disk->write(ext2.disk, offset_of(b->blk), b->data, ext2.bs)) {
        printf("ext2: cannot write block %u\n", b->blk);
        return -LX_EIO;
    }
    b->dirty = 0;
    ndirty--;
    return 0;
}

int bget(uint32_t blk, int how, struct ext2_buf **out)
{
    if (!range_ok(blk, 1))
        return ext2_corrupt("block %u outside the file system (%u blocks)", blk,
                            ext2.sb.blocks_count);
    struct ext2_buf *b;
    for (b = hash[hash_of(blk)]; b; b = b->hnext)
        if (b->blk == blk && b->used)
            break;
    if (!b) {
        for (b = lru_tail; b && b->pins; b = b->prev)
            ;
        if (!b) {
            printf("ext2: every cache buffer is in use\n");
            return -LX_EIO;
        }
        if (b->dirty && write_out(b) < 0)
            return -LX_EIO;
        if (b->used)
            hash_remove(b);
        b->used = 0;
        if (how == BGET_READ && ext2.disk->read(ext2.disk, offset_of(blk), b->data, ext2.bs)) {
            printf("ext2: cannot read block %u\n", blk);
            return -LX_EIO;
        }
        b->blk = blk;
        b->used = 1;
        b->hnext = hash[hash_of(blk)];
        hash[hash_of(blk)] = b;
    }
    if (how == BGET_NEW)
        memset(b->data, 0, ext2.bs);
    lru_unlink(b);
    lru_front(b);
    b->pins++;
    *out = b;
    return 0;
}

void cache_discard(uint32_t blk)
{
    for (struct ext2_buf *b = hash[hash_of(blk)]; b; b = b->hnext) {
        if (b->blk != blk || !b->used || b->pins)
            continue;
        if (b->dirty)
            ndirty--;
        b->dirty = 0;
        hash_remove(b);
        b->used = 0;
        lru_unlink(b);
        b->next = 0;
        b->prev = lru_tail; /* reused first */
        if (lru_tail)
            lru_tail->next = b;
        lru_tail = b;
        if (!lru_head)
            lru_head = b;
        return;
    }
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
        if (bufs[i].used && bufs[i].dirty)
            dirty[n++] = &bufs[i];
    sort_by_block(dirty, n);
    for (uint32_t i = 0; i < n;) {
        uint32_t run = 1;
        while (i + run < n && run < RUN_MAX && dirty[i + run]->blk == dirty[i]->blk + run)
            run++;
        if (run == 1) {
            rc = write_out(dirty[i]) < 0 ? -LX_EIO : rc;
        } else if (!range_ok(dirty[i]->blk, run)) {
            rc = -LX_EIO;
        } else {
            for (uint32_t k = 0; k < run; k++)
                memcpy(run_buf + (uint64_t)k * ext2.bs, dirty[i + k]->data, ext2.bs);
            if (ext2.disk->write(ext2.disk, offset_of(dirty[i]->blk), run_buf,
                                 (uint64_t)run * ext2.bs)) {
                printf("ext2: cannot write blocks %u..%u\n", dirty[i]->blk,
                       dirty[i]->blk + run - 1);
                rc = -LX_EIO;
            } else {
                for (uint32_t k = 0; k < run; k++)
                    dirty[i + k]->dirty = 0;
                ndirty -= run;
            }
        }
        i += run;
    }
    if (ext2.disk->flush && ext2.disk->flush(ext2.disk))
        rc = -LX_EIO;
    return rc;
}
