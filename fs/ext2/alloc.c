/*
 * Block and inode allocation on the group bitmaps. Every allocation and
 * free changes the bitmap, the group descriptor's count and the
 * superblock's count together, so the three agree at every sync. A bitmap
 * that says "free" for a block holding metadata (superblock copy,
 * descriptors, bitmaps, inode table) or a reserved inode is not believed:
 * the bit is skipped and the corruption logged. Freeing what is already
 * free, or what lies outside the file system, is logged and ignored.
 *
 * Placement: a block near the goal (the file's previous block, or its
 * inode's group); a directory's inode in the group with the most free
 * blocks among those with free inodes; a file's inode in its directory's
 * group when it has room.
 */
#include "ext2.h"

static uint32_t group_blocks(uint32_t g)
{
    uint32_t first = ext2.sb.first_data_block + g * ext2.sb.blocks_per_group;
    uint32_t left = ext2.sb.blocks_count - first;
    return left < ext2.sb.blocks_per_group ? left : ext2.sb.blocks_per_group;
}

/* The first clear bit of bitmap map in [from, to), or to. Full 64-bit words are passed over
 * whole (a group's bitmap is mostly full where files are being made: one word per 64 blocks). */
static uint32_t find_clear(const uint8_t *map, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        uint64_t word;
        if (!(i & 63) && i + 64 <= to) {
            memcpy(&word, map + (i >> 3), sizeof(word));
            if (word == ~0ull) {
                i += 63;
                continue;
            }
        }
        if (!(i & 7) && map[i >> 3] == 0xff && i + 8 <= to) {
            i += 7;
            continue;
        }
        if (!(map[i >> 3] & (1u << (i & 7))))
            return i;
    }
    return to;
}

/* One free block of group g at or after bit `from`, taken: 0, or -LX_ENOSPC / -LX_EIO. */
static int take_block(uint32_t g, uint32_t from, uint32_t *out)
{
    struct ext2_buf *gb, *mb;
    struct ext2_group *gd;
    int r = group_get(g, &gb, &gd);
    if (r < 0)
        return r;
    if (!gd->free_blocks_count) {
        bput(gb);
        return -LX_ENOSPC;
    }
    if ((r = bget(gd->block_bitmap, BGET_READ | BGET_NOLOG, &mb)) < 0) {
        bput(gb);
        return r;
    }
    uint32_t n = group_blocks(g), first = ext2.sb.first_data_block + g * ext2.sb.blocks_per_group;
    r = -LX_ENOSPC;
    for (uint32_t bit = find_clear(mb->data, from, n); bit < n;
         bit = find_clear(mb->data, bit + 1, n)) {
        if (block_is_meta(first + bit)) {
            ext2_corrupt("block %u (metadata) is free in its bitmap", first + bit);
            continue;
        }
        /* bitmaps and descriptors are read unlogged: the bytes that change are logged */
        cache_log_range(mb, &mb->data[bit >> 3], 1);
        cache_log_range(gb, gd, sizeof(*gd));
        mb->data[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        bdirty(mb);
        gd->free_blocks_count--;
        bdirty(gb);
        if (ext2.sb.free_blocks_count)
            ext2.sb.free_blocks_count--;
        ext2.sb_dirty = 1;
        *out = first + bit;
        r = 0;
        break;
    }
    if (r == -LX_ENOSPC && from == 0)
        ext2_corrupt("group %u counts %u free blocks; its bitmap has none", g,
                     gd->free_blocks_count);
    bput(mb);
    bput(gb);
    return r;
}

int balloc(uint32_t goal, uint32_t *out)
{
    int r = ext2_writable();
    if (r < 0)
        return r;
    if (!ext2.sb.free_blocks_count)
        return -LX_ENOSPC;
    if (!block_ok(goal))
        goal = ext2.sb.first_data_block;
    uint32_t g0 = (goal - ext2.sb.first_data_block) / ext2.sb.blocks_per_group;
    uint32_t bit0 = (goal - ext2.sb.first_data_block) % ext2.sb.blocks_per_group;
    for (uint32_t i = 0; i <= ext2.ngroups; i++) {
        uint32_t g = (g0 + i) % ext2.ngroups;
        r = take_block(g, i == 0 ? bit0 : 0, out);
        if (r != -LX_ENOSPC)
            return r;
    }
    return -LX_ENOSPC;
}

void bfree(uint32_t blk)
{
    if (block_is_meta(blk)) {
        ext2_corrupt("freeing block %u: outside the data area or metadata", blk);
        return;
    }
    uint32_t g = (blk - ext2.sb.first_data_block) / ext2.sb.blocks_per_group;
    uint32_t bit = (blk - ext2.sb.first_data_block) % ext2.sb.blocks_per_group;
    struct ext2_buf *gb, *mb;
    struct ext2_group *gd;
    if (group_get(g, &gb, &gd) < 0)
        return;
    if (bget(gd->block_bitmap, BGET_READ | BGET_NOLOG, &mb) < 0) {
        bput(gb);
        return;
    }
    if (!(mb->data[bit >> 3] & (1u << (bit & 7)))) {
        ext2_corrupt("freeing block %u, which is free", blk);
    } else {
        cache_log_range(mb, &mb->data[bit >> 3], 1);
        cache_log_range(gb, gd, sizeof(*gd));
        mb->data[bit >> 3] &= (uint8_t) ~(1u << (bit & 7));
        bdirty(mb);
        cache_discard(blk);
        if (gd->free_blocks_count < group_blocks(g))
            gd->free_blocks_count++;
        bdirty(gb);
        if (ext2.sb.free_blocks_count < ext2.sb.blocks_count)
            ext2.sb.free_blocks_count++;
        ext2.sb_dirty = 1;
    }
    bput(mb);
    bput(gb);
}

/* One free inode of group g, taken. */
static int take_inode(uint32_t g, int isdir, uint32_t *out)
{
    struct ext2_buf *gb, *mb;
    struct ext2_group *gd;
    int r = group_get(g, &gb, &gd);
    if (r < 0)
        return r;
    if (!gd->free_inodes_count) {
        bput(gb);
        return -LX_ENOSPC;
    }
    if ((r = bget(gd->inode_bitmap, BGET_READ | BGET_NOLOG, &mb)) < 0) {
        bput(gb);
        return r;
    }
    uint32_t n = ext2.sb.inodes_per_group;
    r = -LX_ENOSPC;
    for (uint32_t bit = find_clear(mb->data, 0, n); bit < n;
         bit = find_clear(mb->data, bit + 1, n)) {
        uint32_t ino = g * n + bit + 1;
        if (ino < ext2.first_ino) {
            ext2_corrupt("reserved inode %u is free in its bitmap", ino);
            continue;
        }
        /* bitmaps and descriptors are read unlogged: the bytes that change are logged */
        cache_log_range(mb, &mb->data[bit >> 3], 1);
        cache_log_range(gb, gd, sizeof(*gd));
        mb->data[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        bdirty(mb);
        gd->free_inodes_count--;
        if (isdir)
            gd->used_dirs_count++;
        bdirty(gb);
        if (ext2.sb.free_inodes_count)
            ext2.sb.free_inodes_count--;
        ext2.sb_dirty = 1;
        *out = ino;
        r = 0;
        break;
    }
    if (r == -LX_ENOSPC)
        ext2_corrupt("group %u counts %u free inodes; its bitmap has none", g,
                     gd->free_inodes_count);
    bput(mb);
    bput(gb);
    return r;
}

/* The group for a new inode: see the top of the file. */
static uint32_t pick_group(uint32_t dir_ino, int isdir)
{
    uint32_t parent = (dir_ino - 1) / ext2.sb.inodes_per_group, best = parent;
    int64_t best_free = -1;
    for (uint32_t i = 0; i < ext2.ngroups; i++) {
        uint32_t g = (parent + i) % ext2.ngroups;
        struct ext2_buf *b;
        struct ext2_group *gd;
        if (group_get(g, &b, &gd) < 0)
            continue;
        int64_t fi = gd->free_inodes_count, fb = gd->free_blocks_count;
        bput(b);
        if (!fi)
            continue;
        if (!isdir && fb)
            return g; /* the parent's group first, then the next with room */
        if (fb > best_free) {
            best_free = fb;
            best = g;
        }
    }
    return best;
}

int ialloc(uint32_t dir_ino, int isdir, uint32_t *out)
{
    int r = ext2_writable();
    if (r < 0)
        return r;
    if (!ext2.sb.free_inodes_count)
        return -LX_ENOSPC;
    uint32_t g0 = pick_group(dir_ino, isdir);
    for (uint32_t i = 0; i < ext2.ngroups; i++) {
        r = take_inode((g0 + i) % ext2.ngroups, isdir, out);
        if (r != -LX_ENOSPC)
            return r;
    }
    return -LX_ENOSPC;
}

void ifree(uint32_t ino, int isdir)
{
    uint32_t g = (ino - 1) / ext2.sb.inodes_per_group, bit = (ino - 1) % ext2.sb.inodes_per_group;
    struct ext2_buf *gb, *mb;
    struct ext2_group *gd;
    if (group_get(g, &gb, &gd) < 0)
        return;
    if (bget(gd->inode_bitmap, BGET_READ | BGET_NOLOG, &mb) < 0) {
        bput(gb);
        return;
    }
    if (!(mb->data[bit >> 3] & (1u << (bit & 7)))) {
        ext2_corrupt("freeing inode %u, which is free", ino);
    } else {
        cache_log_range(mb, &mb->data[bit >> 3], 1);
        cache_log_range(gb, gd, sizeof(*gd));
        mb->data[bit >> 3] &= (uint8_t) ~(1u << (bit & 7));
        bdirty(mb);
        if (gd->free_inodes_count < ext2.sb.inodes_per_group)
            gd->free_inodes_count++;
        if (isdir && gd->used_dirs_count)
            gd->used_dirs_count--;
        bdirty(gb);
        if (ext2.sb.free_inodes_count < ext2.sb.inodes_count)
            ext2.sb.free_inodes_count++;
        ext2.sb_dirty = 1;
    }
    bput(mb);
    bput(gb);
}
