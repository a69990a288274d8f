/*
 * Inodes: where each lives in its group's inode table (read and changed in
 * place, in the cached block), the client's references, the block map
 * (12 direct pointers, then single, double and triple indirect blocks),
 * truncation, and freeing.
 *
 * References: every inode handed to the client (lookup, create, symlink)
 * counts one, given back by putnode. An inode is freed when it has neither
 * links nor references, so a file unlinked while open stays usable; at
 * unmount the unlinked ones still referenced are freed. A crash of the
 * server leaves such inodes allocated with no links (e2fsck reports them
 * as unattached: ext2 has no orphan list).
 */
#include "ext2.h"

#define REF_SLOTS (2 * EXT2_MAX_REFS) /* open addressing, a power of two */

static struct {
    uint32_t ino, refs;
} refs[REF_SLOTS];
static uint32_t nrefs;

int ino_ok(uint32_t ino)
{
    return ino >= 1 && ino <= ext2.sb.inodes_count &&
           (ino == EXT2_ROOT_INO || ino >= ext2.first_ino);
}

/* Inode ino in place in its cached block (bget's how: BGET_READ, or with BGET_NOLOG). */
static int iget_how(uint32_t ino, int how, struct ext2_buf **b, struct ext2_inode **ip)
{
    if (!ext2.mounted || !ino_ok(ino))
        return -LX_EINVAL;
    uint32_t g = (ino - 1) / ext2.sb.inodes_per_group, i = (ino - 1) % ext2.sb.inodes_per_group;
    struct ext2_buf *gb;
    struct ext2_group *gd;
    int r = group_get(g, &gb, &gd);
    if (r < 0)
        return r;
    uint32_t blk = gd->inode_table + i / ext2.inodes_per_block;
    bput(gb);
    if ((r = bget(blk, how | BGET_NOLOG, b)) < 0)
        return r;
    *ip = (struct ext2_inode *)((*b)->data + (i % ext2.inodes_per_block) * ext2.inode_size);
    if (!(how & BGET_NOLOG)) /* only this inode changes through *ip: logged, not its block */
        cache_log_range(*b, *ip, ext2.inode_logged);
    return 0;
}

int iget(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip)
{
    return iget_how(ino, BGET_READ, b, ip);
}

int iget_look(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip)
{
    return iget_how(ino, BGET_READ | BGET_NOLOG, b, ip);
}

void iput(struct ext2_buf *b, struct ext2_inode *ip, int dirty)
{
    (void)ip;
    if (dirty)
        bdirty(b);
    bput(b);
}

static int live_how(uint32_t ino, int how, struct ext2_buf **b, struct ext2_inode **ip)
{
    int r = iget_how(ino, how, b, ip);
    if (r < 0)
        return r;
    if (((*ip)->links_count == 0 && !ref_count(ino)) || !((*ip)->mode & S_IFMT)) {
        bput(*b);
        return -LX_EINVAL;
    }
    return 0;
}

int iget_live(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip)
{
    return live_how(ino, BGET_READ, b, ip);
}

int iget_live_look(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip)
{
    return live_how(ino, BGET_READ | BGET_NOLOG, b, ip);
}

uint64_t isize(const struct ext2_inode *ip)
{
    if ((ip->mode & S_IFMT) == S_IFREG)
        return ip->size | (uint64_t)ip->size_high << 32;
    return ip->size;
}

void isize_set(struct ext2_inode *ip, uint64_t size)
{
    ip->size = (uint32_t)size;
    if ((ip->mode & S_IFMT) == S_IFREG) {
        ip->size_high = (uint32_t)(size >> 32);
        if (size > 0x7fffffffull && !(ext2.sb.feature_ro_compat & EXT2_RO_COMPAT_LARGE_FILE)) {
            ext2.sb.feature_ro_compat |= EXT2_RO_COMPAT_LARGE_FILE;
            ext2.sb_dirty = 1;
        }
    }
}

uint32_t iuid(const struct ext2_inode *ip)
{
    return ip->uid | (uint32_t)ip->uid_high << 16;
}

uint32_t igid(const struct ext2_inode *ip)
{
    return ip->gid | (uint32_t)ip->gid_high << 16;
}

int is_fast_symlink(const struct ext2_inode *ip)
{
    return (ip->mode & S_IFMT) == S_IFLNK && ip->size < sizeof(ip->block);
}

/* Does ip's block array name blocks? Not a device's (block[0] is its number), a FIFO's, a
 * socket's or a fast symlink's (Linux's ext2_truncate_blocks looks at the same types). */
int holds_blocks(const struct ext2_inode *ip)
{
    uint32_t t = ip->mode & S_IFMT;
    return t == S_IFREG || t == S_IFDIR || (t == S_IFLNK && !is_fast_symlink(ip));
}

static void blocks_add(struct ext2_inode *ip, int64_t n)
{
    int64_t units = n * (int64_t)(ext2.bs / 512);
    if (units < 0 && (uint64_t)-units > ip->blocks) {
        ext2_corrupt("i_blocks %u below what the inode holds", ip->blocks);
        ip->blocks = 0;
        return;
    }
    ip->blocks = (uint32_t)(ip->blocks + units);
}

/* A new block for inode ino, zeroed in the cache when it will hold block pointers. */
static int new_block(uint32_t ino, struct ext2_inode *ip, int index, uint32_t *out)
{
    uint32_t goal;
    if (ext2.last_ino == ino && ext2.last_blk)
        goal = ext2.last_blk + 1;
    else
        goal = ext2.sb.first_data_block +
               (ino - 1) / ext2.sb.inodes_per_group * ext2.sb.blocks_per_group;
    uint32_t blk;
    int r = balloc(goal, &blk);
    if (r < 0)
        return r;
    if (index) {
        struct ext2_buf *b;
        if ((r = bget(blk, BGET_NEW, &b)) < 0) {
            bfree(blk);
            return r;
        }
        bdirty(b);
        bput(b);
    }
    *out = blk; /* only now: the slot never names a block given back */
    ext2.last_ino = ino;
    ext2.last_blk = blk;
    blocks_add(ip, 1);
    return 0;
}

/*
 * The disk block of file block lblk of inode ino (0: a hole). With alloc,
 * holes on the way are filled: the new index blocks are zeroed, a new data
 * block is not (the caller writes it); the caller marks the inode dirty.
 */
int bmap(uint32_t ino, struct ext2_inode *ip, uint64_t lblk, int alloc, uint32_t *pblk)
{
    uint64_t p = ext2.ppb;
    int levels;
    uint32_t *slot;
    if (lblk < EXT2_NDIR) {
        levels = 0, slot = &ip->block[lblk];
    } else if ((lblk -= EXT2_NDIR) < p) {
        levels = 1, slot = &ip->block[EXT2_IND];
    } else if ((lblk -= p) < p * p) {
        levels = 2, slot = &ip->block[EXT2_DIND];
    } else if ((lblk -= p * p) < p * p * p) {
        levels = 3, slot = &ip->block[EXT2_TIND];
    } else {
        *pblk = 0;
        return alloc ? -LX_EFBIG : 0;
    }
    int r;
    if (!*slot && alloc && (r = new_block(ino, ip, levels > 0, slot)) < 0)
        return r;
    uint32_t cur = *slot;
    if (cur && !block_ok(cur))
        return ext2_corrupt("inode %u: block pointer %u out of range", ino, cur);
    for (int level = levels; level > 0 && cur; level--) {
        uint64_t span = 1;
        for (int i = 1; i < level; i++)
            span *= p;
        struct ext2_buf *b;
        if ((r = bget(cur, BGET_READ | BGET_NOLOG, &b)) < 0)
            return r;
        uint32_t *e = (uint32_t *)b->data + (lblk / span) % p;
        if (!*e && alloc) {
            cache_log_range(b, e, sizeof(*e)); /* the one pointer that changes (state.c) */
            if ((r = new_block(ino, ip, level > 1, e)) < 0) {
                bput(b);
                return r;
            }
            bdirty(b);
        }
        cur = *e;
        bput(b);
        if (cur && !block_ok(cur))
            return ext2_corrupt("inode %u: block pointer %u out of range", ino, cur);
    }
    *pblk = cur;
    return 0;
}

/* Free the blocks of the index tree at blk (level 1: its entries are data blocks) that map
 * file blocks `from` and later (counted from the tree's first); *empty if nothing is left. */
static int trunc_tree(struct ext2_inode *ip, uint32_t blk, int level, uint64_t from, int *empty)
{
    uint64_t span = 1;
    for (int i = 1; i < level; i++)
        span *= ext2.ppb;
    struct ext2_buf *b;
    int r = bget(blk, BGET_READ, &b);
    if (r < 0)
        return r;
    uint32_t *e = (uint32_t *)b->data;
    int left = 0, changed = 0;
    for (uint64_t i = 0; i < ext2.ppb; i++) {
        if (!e[i])
            continue;
        uint64_t lo = i * span;
        if (lo + span <= from) {
            left = 1;
            continue;
        }
        changed = 1;
        if (!block_ok(e[i])) {
            ext2_corrupt("index block %u: pointer %u out of range (dropped)", blk, e[i]);
            e[i] = 0;
            continue;
        }
        if (level > 1) {
            int sub_empty = 0;
            r = trunc_tree(ip, e[i], level - 1, from > lo ? from - lo : 0, &sub_empty);
            if (r < 0 || !sub_empty) {
                left = 1;
                continue;
            }
        }
        bfree(e[i]);
        blocks_add(ip, -1);
        e[i] = 0;
    }
    if (changed)
        bdirty(b);
    bput(b);
    *empty = !left;
    return r < 0 ? r : 0;
}

int itrunc_blocks(struct ext2_inode *ip, uint64_t from)
{
    for (uint64_t i = from; i < EXT2_NDIR; i++)
        if (ip->block[i]) {
            bfree(ip->block[i]);
            blocks_add(ip, -1);
            ip->block[i] = 0;
        }
    uint64_t base = EXT2_NDIR, span = ext2.ppb;
    int rc = 0;
    for (int level = 1; level <= 3; level++, base += span, span *= ext2.ppb) {
        uint32_t *slot = &ip->block[EXT2_NDIR + level - 1];
        if (!*slot || from >= base + span)
            continue;
        if (!block_ok(*slot)) {
            ext2_corrupt("inode block pointer %u out of range (dropped)", *slot);
            *slot = 0;
            continue;
        }
        int empty = 0;
        int r = trunc_tree(ip, *slot, level, from > base ? from - base : 0, &empty);
        if (r < 0)
            rc = r;
        if (r == 0 && empty) {
            bfree(*slot);
            blocks_add(ip, -1);
            *slot = 0;
        }
    }
    return rc;
}

/* ---- references */
static uint32_t slot_of(uint32_t ino)
{
    uint32_t h = (ino * 2654435761u) & (REF_SLOTS - 1);
    while (refs[h].ino && refs[h].ino != ino)
        h = (h + 1) & (REF_SLOTS - 1);
    return h;
}

void ext2_refs_reset(void)
{
    memset(refs, 0, sizeof(refs));
    nrefs = 0;
}

uint32_t ref_count(uint32_t ino)
{
    uint32_t h = slot_of(ino);
    return refs[h].ino ? refs[h].refs : 0;
}

uint32_t ext2_refs(uint32_t ino)
{
    return ref_count(ino);
}

int ref_full(void)
{
    return nrefs >= EXT2_MAX_REFS;
}

int ref_add(uint32_t ino)
{
    uint32_t h = slot_of(ino);
    if (!refs[h].ino) {
        if (nrefs >= EXT2_MAX_REFS)
            return -LX_ENFILE;
        refs[h].ino = ino;
        refs[h].refs = 0;
        nrefs++;
    }
    if (refs[h].refs < 0xffffffffu)
        refs[h].refs++;
    return 0;
}

/* One reference less; the slot goes at zero (backward-shift deletion keeps the probes right). */
int ref_drop(uint32_t ino)
{
    uint32_t h = slot_of(ino);
    if (!refs[h].ino)
        return 0;
    if (--refs[h].refs)
        return 0;
    nrefs--;
    refs[h].ino = 0;
    for (uint32_t j = (h + 1) & (REF_SLOTS - 1); refs[j].ino; j = (j + 1) & (REF_SLOTS - 1)) {
        uint32_t want = (refs[j].ino * 2654435761u) & (REF_SLOTS - 1);
        /* move j's entry into the hole if its home is not in (h, j] */
        if ((j > h && (want <= h || want > j)) || (j < h && want <= h && want > j)) {
            refs[h] = refs[j];
            refs[j].ino = 0;
            h = j;
        }
    }
    return 0;
}

/* Release the extended-attribute block of a dying inode (one reference in its header). */
static void xattr_release(struct ext2_inode *ip)
{
    uint32_t blk = ip->file_acl;
    ip->file_acl = 0;
    if (!blk)
        return;
    struct ext2_buf *b;
    if (!block_ok(blk) || bget(blk, BGET_READ, &b) < 0) {
        ext2_corrupt("attribute block %u out of range", blk);
        return;
    }
    uint32_t *h = (uint32_t *)b->data;
    int last = 0;
    if (h[0] != EXT2_XATTR_MAGIC) {
        ext2_corrupt("attribute block %u without its magic", blk);
    } else if (h[1] > 1) {
        h[1]--;
        bdirty(b);
    } else {
        last = 1;
    }
    bput(b);
    if (last) {
        bfree(blk);
        blocks_add(ip, -1);
    }
}

int ifree_if_unused(uint32_t ino)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    if (ext2.readonly || ref_count(ino))
        return 0;
    int r = iget_how(ino, BGET_READ | BGET_NOLOG, &b, &ip); /* mostly: a look, no change */
    if (r < 0)
        return r;
    if (ip->links_count || !(ip->mode & S_IFMT) || ip->dtime) {
        bput(b);
        return 0;
    }
    cache_log_range(b, ip, ext2.inode_logged); /* it goes: logged before the change (state.c) */
    int isdir = (ip->mode & S_IFMT) == S_IFDIR;
    if (holds_blocks(ip))
        r = itrunc_blocks(ip, 0);
    xattr_release(ip);
    memset(ip->block, 0, sizeof(ip->block));
    ip->size = ip->size_high = 0;
    ip->dtime = ext2_time();
    iput(b, ip, 1);
    ifree(ino, isdir);
    return r;
}

int ifree_orphans(void)
{
    int rc = 0;
    for (uint32_t h = 0; h < REF_SLOTS; h++) {
        uint32_t ino = refs[h].ino;
        if (!ino)
            continue;
        refs[h].refs = 1;
        ref_drop(ino);
        int r = ifree_if_unused(ino);
        rc = r < 0 ? r : rc;
        h = (uint32_t)-1; /* the table moved: start again */
    }
    return rc;
}
