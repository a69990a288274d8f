/*
 * Mounting, syncing and unmounting; the superblock and the group
 * descriptors. ext2_mount checks everything later code relies on before it
 * accepts an image (docs/EXT2.md, "What is checked"): the magic, revision,
 * block size (1, 2 or 4 KiB), group geometry, that the image holds every
 * block the superblock claims, every group descriptor's bitmaps and inode
 * table inside its own group, and the features: an incompat feature other
 * than filetype refuses the mount, a ro_compat one other than sparse_super
 * and large_file makes it read-only.
 *
 * A writable mount marks the superblock "not clean" on the disk at once
 * (s_state without EXT2_VALID_FS, as Linux does) and clean again at
 * unmount, so e2fsck knows a crash happened. The free counts of the
 * superblock and descriptors are kept exact at every allocation.
 */
#include <stdarg.h>
#include "ext2.h"

struct ext2_fs ext2;

/* Corruption found: logged (not all of a flood), and the superblock says so from the next sync on
 * (EXT2_ERROR_FS, as Linux's ext2_error: e2fsck then checks the file system at once). */
int ext2_corrupt(const char *fmt, ...)
{
    uint32_t n = ext2.corrupt_logged++;
    if (ext2.mounted && !ext2.readonly && !(ext2.sb.state & EXT2_ERROR_FS)) {
        ext2.sb.state |= EXT2_ERROR_FS;
        ext2.sb_dirty = 1;
    }
    if (n < 64 || n % 1024 == 0) {
        va_list ap;
        va_start(ap, fmt);
        printf("ext2: corrupt: ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
    }
    return -LX_EIO;
}

uint32_t ext2_time(void)
{
    uint64_t t = ext2.now ? ext2.now() : 0;
    return t > 0xffffffffull ? 0xffffffffu : (uint32_t)t;
}

int ext2_writable(void)
{
    return ext2.readonly ? -LX_EROFS : 0;
}

int block_ok(uint32_t blk)
{
    return blk >= ext2.sb.first_data_block && blk < ext2.sb.blocks_count;
}

/* Does group g hold a copy of the superblock (sparse_super: 0, 1 and powers of 3, 5, 7)? */
int group_has_super(uint32_t g)
{
    if (g <= 1 || !(ext2.sb.feature_ro_compat & EXT2_RO_COMPAT_SPARSE_SUPER))
        return 1;
    for (uint32_t p = 3; p <= 7; p += 2) {
        uint64_t x = p;
        while (x < g)
            x *= p;
        if (x == g)
            return 1;
    }
    return 0;
}

/* Blocks at the start of a group that has a superblock copy: it, the descriptors, the reserve. */
static uint32_t super_area(void)
{
    return 1 + (ext2.ngroups + ext2.desc_per_block - 1) / ext2.desc_per_block +
           ext2.sb.reserved_gdt_blocks;
}

int group_get(uint32_t g, struct ext2_buf **b, struct ext2_group **gd)
{
    if (g >= ext2.ngroups)
        return ext2_corrupt("group %u of %u", g, ext2.ngroups);
    /* not logged (state.c): alloc.c, the only writer, logs it before each change */
    int r = bget(ext2.gdt_block + g / ext2.desc_per_block, BGET_READ | BGET_NOLOG, b);
    if (r < 0)
        return r;
    *gd = (struct ext2_group *)(*b)->data + g % ext2.desc_per_block;
    return 0;
}

int block_is_meta(uint32_t blk)
{
    if (!block_ok(blk))
        return 1;
    uint32_t g = (blk - ext2.sb.first_data_block) / ext2.sb.blocks_per_group;
    uint32_t first = ext2.sb.first_data_block + g * ext2.sb.blocks_per_group;
    if (group_has_super(g) && blk - first < super_area())
        return 1;
    struct ext2_buf *b;
    struct ext2_group *gd;
    if (group_get(g, &b, &gd) < 0)
        return 1;
    int meta = blk == gd->block_bitmap || blk == gd->inode_bitmap ||
               (blk >= gd->inode_table && blk - gd->inode_table < ext2.itable_blocks);
    bput(b);
    return meta;
}

/* The names of the features in mask that this code does not know, for the refusal. */
static void feature_names(uint32_t mask, int incompat, char *out, size_t size)
{
    static const char *const inc[] = {"compression",
                                      "filetype",
                                      "needs_recovery",
                                      "journal_dev",
                                      "meta_bg",
                                      "(bit 5)",
                                      "extent",
                                      "64bit",
                                      "mmp",
                                      "flex_bg",
                                      "ea_inode",
                                      "(bit 11)",
                                      "dirdata",
                                      "metadata_csum_seed",
                                      "large_dir",
                                      "inline_data",
                                      "encrypt",
                                      "casefold"};
    static const char *const ro[] = {"sparse_super", "large_file", "btree_dir",     "huge_file",
                                     "uninit_bg",    "dir_nlink",  "extra_isize",   "(bit 7)",
                                     "quota",        "bigalloc",   "metadata_csum", "replica",
                                     "read-only",    "project",    "shared_blocks", "verity"};
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t bit = 0; bit < 32; bit++) {
        if (!(mask & (1u << bit)))
            continue;
        const char *name =
            incompat ? (bit < 18 ? inc[bit] : "(unknown)") : (bit < 16 ? ro[bit] : "(unknown)");
        for (const char *p = n ? " " : ""; *p && n + 1 < size; p++)
            out[n++] = *p;
        for (const char *p = name; *p && n + 1 < size; p++)
            out[n++] = *p;
        out[n] = '\0';
    }
}

static int refuse(const char *why, uint64_t a, uint64_t b)
{
    printf("ext2: refusing the image: %s (%llu, %llu)\n", why, (unsigned long long)a,
           (unsigned long long)b);
    return -LX_EINVAL;
}

/* The superblock's own numbers, before any block is read through the cache. */
static int check_super(const struct ext2_super *s, uint64_t disk_size)
{
    if (s->magic != EXT2_MAGIC)
        return refuse("no ext2 magic", s->magic, EXT2_MAGIC);
    if (s->rev_level > 1)
        return refuse("revision above 1", s->rev_level, 1);
    if (s->log_block_size > 2)
        return refuse("block size above 4 KiB (log2 - 10, limit)", s->log_block_size, 2);
    uint32_t bs = 1024u << s->log_block_size;
    if (s->first_data_block != (bs == 1024 ? 1u : 0u))
        return refuse("first data block", s->first_data_block, bs == 1024);
    if (s->blocks_count <= s->first_data_block + 1 || (uint64_t)s->blocks_count * bs > disk_size)
        return refuse("block count does not fit the device (blocks, device bytes)", s->blocks_count,
                      disk_size);
    if (s->blocks_per_group < 8 || s->blocks_per_group > 8 * bs || s->blocks_per_group % 8)
        return refuse("blocks per group", s->blocks_per_group, 8 * bs);
    if (s->inodes_per_group == 0 || s->inodes_per_group > 8 * bs || s->inodes_per_group % 8)
        return refuse("inodes per group", s->inodes_per_group, 8 * bs);
    uint32_t isz = s->rev_level ? s->inode_size : EXT2_GOOD_OLD_INODE_SIZE;
    if (isz < EXT2_GOOD_OLD_INODE_SIZE || isz > bs || (isz & (isz - 1)))
        return refuse("inode size", isz, bs);
    uint64_t groups =
        (s->blocks_count - s->first_data_block + s->blocks_per_group - 1) / s->blocks_per_group;
    if ((uint64_t)s->inodes_count != groups * s->inodes_per_group)
        return refuse("inode count is not groups x inodes per group", s->inodes_count,
                      groups * s->inodes_per_group);
    uint32_t first_ino = s->rev_level ? s->first_ino : EXT2_GOOD_OLD_FIRST_INO;
    if (first_ino < EXT2_GOOD_OLD_FIRST_INO || first_ino >= s->inodes_count)
        return refuse("first inode", first_ino, s->inodes_count);
    if (s->free_blocks_count > s->blocks_count || s->free_inodes_count > s->inodes_count)
        return refuse("free counts above the totals", s->free_blocks_count, s->free_inodes_count);
    uint64_t gdt_blocks = (groups * sizeof(struct ext2_group) + bs - 1) / bs;
    if (1 + gdt_blocks + s->reserved_gdt_blocks >= s->blocks_per_group)
        return refuse("group descriptors fill the first group", gdt_blocks, s->reserved_gdt_blocks);
    if (s->rev_level == 0 && (s->feature_compat || s->feature_incompat || s->feature_ro_compat))
        return refuse("features in a revision 0 file system", s->feature_incompat,
                      s->feature_ro_compat);
    return 0;
}

/* Every group's bitmaps and inode table inside the group; counts within the group's size. */
static int check_groups(void)
{
    for (uint32_t g = 0; g < ext2.ngroups; g++) {
        struct ext2_buf *b;
        struct ext2_group *gd;
        int r = group_get(g, &b, &gd);
        if (r < 0)
            return r;
        uint32_t first = ext2.sb.first_data_block + g * ext2.sb.blocks_per_group;
        uint32_t last = first + ext2.sb.blocks_per_group; /* one past */
        if (last > ext2.sb.blocks_count || last < first)
            last = ext2.sb.blocks_count;
        uint64_t itable_end = (uint64_t)gd->inode_table + ext2.itable_blocks;
        if (group_has_super(g))
            first += super_area(); /* the superblock copy and the descriptors come first */
        int bad = gd->block_bitmap < first || gd->block_bitmap >= last ||
                  gd->inode_bitmap < first || gd->inode_bitmap >= last || gd->inode_table < first ||
                  itable_end > last || gd->block_bitmap == gd->inode_bitmap ||
                  (gd->block_bitmap >= gd->inode_table && gd->block_bitmap < itable_end) ||
                  (gd->inode_bitmap >= gd->inode_table && gd->inode_bitmap < itable_end);
        int bad_counts = gd->free_blocks_count > ext2.sb.blocks_per_group ||
                         gd->free_inodes_count > ext2.sb.inodes_per_group ||
                         gd->used_dirs_count > ext2.sb.inodes_per_group;
        uint32_t bb = gd->block_bitmap, ib = gd->inode_bitmap, it = gd->inode_table;
        bput(b);
        if (bad) {
            printf("ext2: refusing the image: group %u's bitmaps (%u, %u) or inode table (%u) "
                   "lie outside blocks %u..%u\n",
                   g, bb, ib, it, first, last - 1);
            return -LX_EINVAL;
        }
        if (bad_counts)
            return refuse("group counts above the group's size (group)", g, 0);
    }
    return 0;
}

/* The root inode must be a directory with blocks (Linux's ext2_fill_super checks the same): a
 * file system whose root is anything else cannot be walked. */
static int check_root(void)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    ext2.mounted = 1; /* iget's condition */
    int r = iget(EXT2_ROOT_INO, &b, &ip);
    ext2.mounted = 0;
    if (r < 0)
        return r;
    uint32_t mode = ip->mode, blocks = ip->blocks, size = ip->size;
    bput(b);
    if ((mode & S_IFMT) == S_IFDIR && blocks && size)
        return 0;
    return refuse("the root inode is not a directory with blocks (mode, size)", mode, size);
}

int ext2_mount(struct ext2_disk *disk, int flags, uint64_t (*now)(void))
{
    static struct ext2_super s __attribute__((aligned(8)));
    if (ext2.mounted)
        return -LX_EBUSY;
    if (disk->size < EXT2_SUPER_OFFSET + sizeof(s) ||
        disk->read(disk, EXT2_SUPER_OFFSET, &s, sizeof(s))) {
        printf("ext2: cannot read the superblock\n");
        return -LX_EIO;
    }
    int r = check_super(&s, disk->size);
    if (r < 0)
        return r;
    uint32_t incompat = s.feature_incompat & ~EXT2_INCOMPAT_SUPPORTED;
    char names[160];
    if (incompat) {
        feature_names(incompat, 1, names, sizeof(names));
        printf("ext2: refusing the image: unsupported incompatible features: %s (0x%x)\n", names,
               incompat);
        return -LX_EINVAL;
    }
    memset(&ext2, 0, sizeof(ext2));
    ext2.disk = disk;
    ext2.sb = s;
    ext2.now = now;
    ext2.log_bs = 10 + s.log_block_size;
    ext2.bs = 1u << ext2.log_bs;
    ext2.ngroups =
        (s.blocks_count - s.first_data_block + s.blocks_per_group - 1) / s.blocks_per_group;
    ext2.gdt_block = s.first_data_block + 1;
    ext2.desc_per_block = ext2.bs / sizeof(struct ext2_group);
    ext2.inode_size = s.rev_level ? s.inode_size : EXT2_GOOD_OLD_INODE_SIZE;
    ext2.inodes_per_block = ext2.bs / ext2.inode_size;
    ext2.inode_logged = ext2.inode_size < EXT2_INODE_LOGGED ? ext2.inode_size : EXT2_INODE_LOGGED;
    ext2.itable_blocks = (s.inodes_per_group + ext2.inodes_per_block - 1) / ext2.inodes_per_block;
    ext2.first_ino = s.rev_level ? s.first_ino : EXT2_GOOD_OLD_FIRST_INO;
    ext2.ppb = ext2.bs / 4;
    /* The block map's reach, and i_blocks (32 bits of 512-byte units) with the index blocks. */
    uint64_t p = ext2.ppb, reach = EXT2_NDIR + p + p * p + p * p * p;
    uint64_t by_iblocks = (0xffffffffull >> (ext2.log_bs - 9)) - (3 + p + p * p);
    ext2.max_size = (reach < by_iblocks ? reach : by_iblocks) << ext2.log_bs;
    if (!(s.feature_ro_compat & EXT2_RO_COMPAT_LARGE_FILE) && s.rev_level == 0)
        ext2.max_size = ext2.max_size < 0x7fffffffull ? ext2.max_size : 0x7fffffffull;
    ext2.generation = s.wtime ^ s.mtime;
    cache_init();
    ext2_refs_reset();
    if ((r = check_groups()) < 0 || (r = check_root()) < 0) {
        cache_forget();
        return r;
    }
    uint32_t ro = s.feature_ro_compat & ~EXT2_RO_COMPAT_SUPPORTED;
    ext2.readonly = (flags & EXT2_MOUNT_RO) != 0;
    if (ro) {
        feature_names(ro, 0, names, sizeof(names));
        printf("ext2: read-only: unsupported read-only-compatible features: %s (0x%x)\n", names,
               ro);
        ext2.readonly = 1;
    }
    if (!(s.state & EXT2_VALID_FS) || (s.state & EXT2_ERROR_FS))
        printf("ext2: the file system was not cleanly unmounted or has errors: run e2fsck\n");
    ext2.mounted = 1;
    if (!ext2.readonly) {
        ext2.sb.state &= (uint16_t)~EXT2_VALID_FS;
        ext2.sb.mnt_count++;
        ext2.sb.mtime = ext2_time();
        ext2.sb_dirty = 1;
        if ((r = ext2_sync()) < 0) {
            printf("ext2: cannot write the superblock: mounting read-only\n");
            ext2.readonly = 1;
        }
    }
    printf("ext2: mounted %u blocks of %u bytes, %u inodes, %u groups%s\n", s.blocks_count, ext2.bs,
           s.inodes_count, ext2.ngroups, ext2.readonly ? " (read-only)" : "");
    return 0;
}

/* The superblock into its cache buffer (block 1 with 1 KiB blocks, else block 0 at 1024). */
static int super_write(void)
{
    if (!ext2.sb_dirty)
        return 0;
    struct ext2_buf *b;
    uint32_t blk = EXT2_SUPER_OFFSET >> ext2.log_bs;
    int r = bget(blk, BGET_READ, &b);
    if (r < 0)
        return r;
    ext2.sb.wtime = ext2_time();
    memcpy(b->data + (EXT2_SUPER_OFFSET - ((uint64_t)blk << ext2.log_bs)), &ext2.sb,
           sizeof(ext2.sb));
    bdirty(b);
    bput(b);
    ext2.sb_dirty = 0;
    return 0;
}

int ext2_sync(void)
{
    if (!ext2.mounted)
        return -LX_EINVAL;
    if (ext2.readonly)
        return 0;
    int r = super_write();
    int f = cache_flush();
    return r < 0 ? r : f;
}

int ext2_fsync(uint32_t ino)
{
    struct ext2_buf *b;
    struct ext2_inode *ip;
    int r = iget(ino, &b, &ip);
    if (r < 0)
        return r;
    iput(b, ip, 0);
    return ext2_sync();
}

int ext2_unmount(void)
{
    if (!ext2.mounted)
        return -LX_EINVAL;
    int r = 0;
    if (!ext2.readonly) {
        r = ifree_orphans();
        ext2.sb.state |= EXT2_VALID_FS; /* EXT2_ERROR_FS, if set, stays: e2fsck must look */
        ext2.sb_dirty = 1;
        int s = ext2_sync();
        r = r < 0 ? r : s;
    }
    cache_forget();
    ext2_state_forget(); /* the region names no file system now: the next mount is fresh */
    ext2.mounted = 0;
    return r;
}

int ext2_statfs(struct fs_statfs *sf)
{
    if (!ext2.mounted)
        return -LX_EINVAL;
    /* Linux's count (ext2_statfs, bsddf): the boot block, each group's bitmaps and inode
     * table, and the superblock and descriptor copies (not the reserved GDT blocks) are not
     * data blocks. */
    uint64_t gdt = (ext2.ngroups + ext2.desc_per_block - 1) / ext2.desc_per_block;
    uint64_t meta = ext2.sb.first_data_block + (uint64_t)ext2.ngroups * (2 + ext2.itable_blocks);
    for (uint32_t g = 0; g < ext2.ngroups; g++)
        meta += group_has_super(g) ? 1 + gdt : 0;
    uint64_t total = ext2.sb.blocks_count, free = ext2.sb.free_blocks_count;
    *sf = (struct fs_statfs){.type = EXT2_MAGIC,
                             .bsize = ext2.bs,
                             .blocks = total > meta ? total - meta : 0,
                             .bfree = free,
                             .files = ext2.sb.inodes_count,
                             .ffree = ext2.sb.free_inodes_count,
                             .namelen = 255,
                             .bavail =
                                 free > ext2.sb.r_blocks_count ? free - ext2.sb.r_blocks_count : 0};
    return 0;
}
