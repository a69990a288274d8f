/*
 * File contents. Each inode has a block index like a classic Unix inode:
 * RAMFS_NDIRECT direct block pointers, one indirect page of 512 pointers
 * and one double-indirect page (512 pages of 512), about 1 GiB in all.
 * Blocks are 4 KiB heap pages; index pages are made when first needed.
 * Directories use the same index for their pages of entry slots (dir.c).
 *
 * Files are sparse: a block never written is absent and reads as zeros.
 * Invariant: every byte of an allocated block past the file's size is
 * zero (new pages are zeroed, truncate clears the tail of the last block),
 * so growing a file, by a write past the end or by truncate, shows zeros.
 * Data moves straight between the blocks and the requester's grant, one
 * KC_SAFECOPY per block.
 */
#include "ramfs.h"

static const uint8_t zeros[RAMFS_BLOCK];

/* *slot, made a new zeroed page if it is none and alloc says so; the change logged. */
static void *index_page(void *slot, int alloc)
{
    void **s = slot;
    if (!*s && alloc) {
        void *page = ramfs_page_alloc();
        if (page) {
            ramfs_log(s, sizeof(*s));
            *s = page;
        }
    }
    return *s;
}

/* The slot that holds block blk's pointer; makes index pages if alloc. */
static void **slot_of(struct ramfs_inode *ip, uint64_t blk, int alloc)
{
    if (blk < RAMFS_NDIRECT)
        return &ip->direct[blk];
    blk -= RAMFS_NDIRECT;
    if (blk < RAMFS_PTRS) {
        void **ind = index_page(&ip->ind, alloc);
        return ind ? &ind[blk] : 0;
    }
    blk -= RAMFS_PTRS;
    if (blk >= (uint64_t)RAMFS_PTRS * RAMFS_PTRS)
        return 0;
    void ***dind = index_page(&ip->dind, alloc);
    void **sub = dind ? index_page(&dind[blk / RAMFS_PTRS], alloc) : 0;
    return sub ? &sub[blk % RAMFS_PTRS] : 0;
}

void *ramfs_block(struct ramfs_inode *ip, uint64_t blk, int alloc)
{
    void **s = slot_of(ip, blk, alloc);
    return s ? index_page(s, alloc) : 0;
}

/* Free pointers [from, RAMFS_PTRS) of one index page; 1 if it is now unused. */
static int free_range(void **page, uint64_t from)
{
    if (from < RAMFS_PTRS) /* from may lie past this page: nothing to free in it */
        ramfs_log(&page[from], (RAMFS_PTRS - from) * sizeof(*page));
    for (uint64_t i = from; i < RAMFS_PTRS; i++) {
        ramfs_page_free(page[i]);
        page[i] = 0;
    }
    return from == 0;
}

/* Free every block with index >= from, and index pages no longer needed. */
void ramfs_free_blocks(struct ramfs_inode *ip, uint64_t from)
{
    ramfs_log_inode(ip);
    for (uint64_t i = from; i < RAMFS_NDIRECT; i++) {
        ramfs_page_free(ip->direct[i]);
        ip->direct[i] = 0;
    }
    uint64_t base = RAMFS_NDIRECT;
    if (ip->ind && free_range(ip->ind, from > base ? from - base : 0)) {
        ramfs_page_free(ip->ind);
        ip->ind = 0;
    }
    base += RAMFS_PTRS;
    if (!ip->dind)
        return;
    for (uint64_t k = 0; k < RAMFS_PTRS; k++) {
        uint64_t start = base + k * RAMFS_PTRS;
        if (!ip->dind[k] || from >= start + RAMFS_PTRS)
            continue;
        if (free_range(ip->dind[k], from > start ? from - start : 0)) {
            ramfs_page_free(ip->dind[k]);
            ramfs_log(&ip->dind[k], sizeof(ip->dind[k]));
            ip->dind[k] = 0;
        }
    }
    if (from <= base) {
        ramfs_page_free(ip->dind);
        ip->dind = 0;
    }
}

/* How many of the left bytes from pos lie in pos's block. */
static uint64_t in_block(uint64_t pos, uint64_t left)
{
    uint64_t n = RAMFS_BLOCK - pos % RAMFS_BLOCK;
    return n < left ? n : left;
}

int64_t ramfs_read(struct ramfs_inode *ip, uint64_t off, endpoint_t ep, grant_id_t g, uint64_t len)
{
    if (off >= ip->size)
        return 0;
    if (len > ip->size - off)
        len = ip->size - off;
    uint64_t done = 0;
    while (done < len) {
        uint64_t pos = off + done, n = in_block(pos, len - done);
        const uint8_t *page = ramfs_block(ip, pos / RAMFS_BLOCK, 0);
        const uint8_t *src = page ? page + pos % RAMFS_BLOCK : zeros;
        if (sys_safecopy_to(ep, g, done, src, n) < 0)
            break;
        done += n;
    }
    if (done == 0 && len)
        return -LX_EFAULT;
    ramfs_touch(ip);
    return (int64_t)done;
}

/* How many slots block blk's index array (the direct pointers or one index page) has from
 * blk's on. */
static uint64_t slots_from(uint64_t blk)
{
    if (blk < RAMFS_NDIRECT)
        return RAMFS_NDIRECT - blk;
    blk -= RAMFS_NDIRECT;
    return RAMFS_PTRS - (blk < RAMFS_PTRS ? blk : (blk - RAMFS_PTRS) % RAMFS_PTRS);
}

/*
 * A block written whole over an old one (a shadow block): the new bytes go into a page taken
 * from the heap, then the block's pointer is swapped, and the old page is kept until the
 * request is committed (heap.c ramfs_page_swap). Logged: the pointer and the heap's words, not the
 * old 4 KiB; the pointers of the part's blocks in the same index array as one record, the first
 * time one is swapped (run: the slots logged so far; the part goes up block by block, so a
 * pointer past them has not changed yet). 0 done, 1 if it cannot be done so (the
 * caller overwrites in place), or a negative errno.
 */
static int shadow(void **slot, uint64_t blk, uint64_t blocks, void **run[2], endpoint_t ep,
                  grant_id_t g, uint64_t goff)
{
    uint8_t *fresh = ramfs_page_swap(*slot);
    if (!fresh)
        return 1;
    if (sys_safecopy_from(ep, g, goff, fresh, RAMFS_BLOCK) < 0) {
        ramfs_page_unswap(fresh); /* nothing moved: never seen by the file */
        return -LX_EFAULT;
    }
    if (slot < run[0] || slot >= run[1]) {
        uint64_t n = slots_from(blk);
        n = n < blocks ? n : blocks;
        ramfs_log(slot, n * sizeof(*slot));
        run[0] = slot;
        run[1] = slot + n;
    }
    *slot = fresh;
    return 0;
}

/*
 * One transaction's part of a write: block by block, a block written whole over an old one
 * shadowed, else the old bytes of a block that was there logged before they are overwritten
 * (a new block needs none: undone, it is free again).
 */
static int64_t write_part(struct ramfs_inode *ip, uint64_t off, endpoint_t ep, grant_id_t g,
                          uint64_t goff, uint64_t len)
{
    uint64_t done = 0, last = (off + len - 1) / RAMFS_BLOCK; /* len > 0 */
    void **run[2] = {0, 0}; /* the block pointers logged (shadow) */
    int err = 0;
    ramfs_changed(ip); /* first: a copy that fails half-way changed some blocks; logs the times */
    while (done < len) {
        uint64_t pos = off + done, n = in_block(pos, len - done), blk = pos / RAMFS_BLOCK;
        void **slot = slot_of(ip, blk, 0);
        uint8_t *page = slot ? *slot : 0;
        if (page && n == RAMFS_BLOCK) {
            int r = shadow(slot, blk, last - blk + 1, run, ep, g, goff + done);
            if (r < 0) {
                err = r;
                break;
            }
            if (r == 0) {
                done += n;
                continue;
            }
        }
        if (page) { /* old bytes before the file's end; past it zeros (the invariant above) */
            uint64_t old = pos < ip->size ? (ip->size - pos < n ? ip->size - pos : n) : 0;
            ramfs_log(page + pos % RAMFS_BLOCK, old);
            ramfs_log_zero(page + pos % RAMFS_BLOCK + old, n - old);
        } else if (!(page = ramfs_block(ip, pos / RAMFS_BLOCK, 1))) {
            err = -LX_ENOSPC;
            break;
        }
        /* the kernel checks the whole range first: a failed copy moves nothing */
        if (sys_safecopy_from(ep, g, goff + done, page + pos % RAMFS_BLOCK, n) < 0) {
            err = -LX_EFAULT;
            break;
        }
        done += n;
    }
    if (done && off + done > ip->size)
        ip->size = off + done;
    if (err) /* blocks and index pages made past the end for bytes that never came */
        ramfs_free_blocks(ip, (ip->size + RAMFS_BLOCK - 1) / RAMFS_BLOCK);
    if (done == 0 && err)
        return err;
    if (done)
        ip->mtime = ip->ctime = ramfs_now();
    return (int64_t)done;
}

/*
 * A write of more than RAMFS_WRITE_STEP bytes is committed in parts of that size, so the undo
 * log holds one part's old data: a death in the middle keeps the parts before (vfs's replay
 * of the whole write makes it whole).
 */
int64_t ramfs_write(struct ramfs_inode *ip, uint64_t off, endpoint_t ep, grant_id_t g,
                    uint64_t goff, uint64_t len)
{
    if (off >= RAMFS_MAX_SIZE)
        return len ? -LX_EFBIG : 0;
    if (len > RAMFS_MAX_SIZE - off)
        len = RAMFS_MAX_SIZE - off; /* a short write; the next one gets EFBIG */
    uint64_t done = 0;
    while (done < len) {
        uint64_t n = len - done < RAMFS_WRITE_STEP ? len - done : RAMFS_WRITE_STEP;
        if (done)
            ramfs_commit(); /* the parts before are done */
        int64_t r = write_part(ip, off + done, ep, g, goff + done, n);
        if (r < 0)
            return done ? (int64_t)done : r;
        done += (uint64_t)r;
        if ((uint64_t)r < n)
            break;
    }
    return (int64_t)done;
}

int ramfs_truncate(struct ramfs_inode *ip, uint64_t size)
{
    if (size > RAMFS_MAX_SIZE)
        return -LX_EFBIG;
    ramfs_log_inode(ip);
    if (size < ip->size) {
        ramfs_free_blocks(ip, (size + RAMFS_BLOCK - 1) / RAMFS_BLOCK);
        uint8_t *last = size % RAMFS_BLOCK ? ramfs_block(ip, size / RAMFS_BLOCK, 0) : 0;
        if (last) {
            ramfs_log(last + size % RAMFS_BLOCK, RAMFS_BLOCK - size % RAMFS_BLOCK);
            ramfs_zero(last + size % RAMFS_BLOCK, RAMFS_BLOCK - size % RAMFS_BLOCK);
        }
    }
    ip->size = size;
    ip->mtime = ip->ctime = ramfs_now();
    ramfs_changed(ip);
    return 0;
}
