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

/* The slot that holds block blk's pointer; makes index pages if alloc. */
static void **slot_of(struct ramfs_inode *ip, uint64_t blk, int alloc)
{
    if (blk < RAMFS_NDIRECT)
        return &ip->direct[blk];
    blk -= RAMFS_NDIRECT;
    if (blk < RAMFS_PTRS) {
        if (!ip->ind && (!alloc || !(ip->ind = ramfs_page_alloc())))
            return 0;
        return &ip->ind[blk];
    }
    blk -= RAMFS_PTRS;
    if (blk >= (uint64_t)RAMFS_PTRS * RAMFS_PTRS)
        return 0;
    if (!ip->dind && (!alloc || !(ip->dind = ramfs_page_alloc())))
        return 0;
    void ***sub = &ip->dind[blk / RAMFS_PTRS];
    if (!*sub && (!alloc || !(*sub = ramfs_page_alloc())))
        return 0;
    return &(*sub)[blk % RAMFS_PTRS];
}

void *ramfs_block(struct ramfs_inode *ip, uint64_t blk, int alloc)
{
    void **s = slot_of(ip, blk, alloc);
    if (!s)
        return 0;
    if (!*s && alloc)
        *s = ramfs_page_alloc();
    return *s;
}

/* Free pointers [from, RAMFS_PTRS) of one index page; 1 if it is now unused. */
static int free_range(void **page, uint64_t from)
{
    for (uint64_t i = from; i < RAMFS_PTRS; i++) {
        ramfs_page_free(page[i]);
        page[i] = 0;
    }
    return from == 0;
}

/* Free every block with index >= from, and index pages no longer needed. */
void ramfs_free_blocks(struct ramfs_inode *ip, uint64_t from)
{
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
    ip->atime = ramfs_now();
    return (int64_t)done;
}

int64_t ramfs_write(struct ramfs_inode *ip, uint64_t off, endpoint_t ep, grant_id_t g,
                    uint64_t goff, uint64_t len)
{
    if (off >= RAMFS_MAX_SIZE)
        return len ? -LX_EFBIG : 0;
    if (len > RAMFS_MAX_SIZE - off)
        len = RAMFS_MAX_SIZE - off; /* a short write; the next one gets EFBIG */
    uint64_t done = 0;
    int err = 0;
    if (len)
        ramfs_changed(ip); /* first: a copy that fails half-way changed some blocks */
    while (done < len) {
        uint64_t pos = off + done, n = in_block(pos, len - done);
        uint8_t *page = ramfs_block(ip, pos / RAMFS_BLOCK, 1);
        if (!page) {
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

int ramfs_truncate(struct ramfs_inode *ip, uint64_t size)
{
    if (size > RAMFS_MAX_SIZE)
        return -LX_EFBIG;
    if (size < ip->size) {
        ramfs_free_blocks(ip, (size + RAMFS_BLOCK - 1) / RAMFS_BLOCK);
        uint8_t *last = size % RAMFS_BLOCK ? ramfs_block(ip, size / RAMFS_BLOCK, 0) : 0;
        if (last)
            ramfs_zero(last + size % RAMFS_BLOCK, RAMFS_BLOCK - size % RAMFS_BLOCK);
    }
    ip->size = size;
    ip->mtime = ip->ctime = ramfs_now();
    ramfs_changed(ip);
    return 0;
}
