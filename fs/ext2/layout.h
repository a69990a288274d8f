/*
 * The ext2 on-disk format, revision 0 and 1, as e2fsprogs writes it
 * (little-endian; this code runs on x86-64 only). Field names follow the
 * ext2 documentation (Dave Poirier's "The Second Extended File System")
 * without their s_/bg_/i_ prefixes.
 */
#ifndef EXT2_LAYOUT_H
#define EXT2_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define EXT2_MAGIC 0xef53
#define EXT2_SUPER_OFFSET 1024 /* bytes from the start of the device */
#define EXT2_ROOT_INO 2
#define EXT2_GOOD_OLD_FIRST_INO 11
#define EXT2_GOOD_OLD_INODE_SIZE 128
#define EXT2_LINK_MAX 32000
#define EXT2_NDIR 12 /* direct block pointers; then single, double, triple indirect */
#define EXT2_IND 12
#define EXT2_DIND 13
#define EXT2_TIND 14
#define EXT2_NBLOCKS 15

/* s_state */
#define EXT2_VALID_FS 1 /* unmounted cleanly */
#define EXT2_ERROR_FS 2 /* errors were detected */

/* Features. compat: a reader or writer that does not know them may ignore them. */
#define EXT2_COMPAT_DIR_PREALLOC 0x0001
#define EXT2_COMPAT_IMAGIC_INODES 0x0002
#define EXT2_COMPAT_HAS_JOURNAL 0x0004
#define EXT2_COMPAT_EXT_ATTR 0x0008
#define EXT2_COMPAT_RESIZE_INODE 0x0010
#define EXT2_COMPAT_DIR_INDEX 0x0020
/* ro_compat: a writer must know them; a reader may ignore them. */
#define EXT2_RO_COMPAT_SPARSE_SUPER 0x0001
#define EXT2_RO_COMPAT_LARGE_FILE 0x0002
#define EXT2_RO_COMPAT_SUPPORTED (EXT2_RO_COMPAT_SPARSE_SUPER | EXT2_RO_COMPAT_LARGE_FILE)
/* incompat: anyone must know them. */
#define EXT2_INCOMPAT_COMPRESSION 0x0001
#define EXT2_INCOMPAT_FILETYPE 0x0002
#define EXT2_INCOMPAT_RECOVER 0x0004
#define EXT2_INCOMPAT_JOURNAL_DEV 0x0008
#define EXT2_INCOMPAT_META_BG 0x0010
#define EXT2_INCOMPAT_EXTENTS 0x0040
#define EXT2_INCOMPAT_64BIT 0x0080
#define EXT2_INCOMPAT_MMP 0x0100
#define EXT2_INCOMPAT_FLEX_BG 0x0200
#define EXT2_INCOMPAT_EA_INODE 0x0400
#define EXT2_INCOMPAT_DIRDATA 0x1000
#define EXT2_INCOMPAT_CSUM_SEED 0x2000
#define EXT2_INCOMPAT_LARGEDIR 0x4000
#define EXT2_INCOMPAT_INLINE_DATA 0x8000
#define EXT2_INCOMPAT_ENCRYPT 0x10000
#define EXT2_INCOMPAT_CASEFOLD 0x20000
#define EXT2_INCOMPAT_SUPPORTED EXT2_INCOMPAT_FILETYPE

struct ext2_super {
    uint32_t inodes_count, blocks_count, r_blocks_count, free_blocks_count, free_inodes_count;
    uint32_t first_data_block, log_block_size, log_frag_size, blocks_per_group, frags_per_group;
    uint32_t inodes_per_group, mtime, wtime;
    uint16_t mnt_count;
    int16_t max_mnt_count;
    uint16_t magic, state, errors, minor_rev_level;
    uint32_t lastcheck, checkinterval, creator_os, rev_level;
    uint16_t def_resuid, def_resgid;
    /* revision 1 */
    uint32_t first_ino;
    uint16_t inode_size, block_group_nr;
    uint32_t feature_compat, feature_incompat, feature_ro_compat;
    uint8_t uuid[16];
    char volume_name[16], last_mounted[64];
    uint32_t algorithm_usage_bitmap;
    uint8_t prealloc_blocks, prealloc_dir_blocks;
    uint16_t reserved_gdt_blocks;
    uint8_t rest[1024 - 208];
};
_Static_assert(sizeof(struct ext2_super) == 1024, "the superblock is 1 KiB");
_Static_assert(offsetof(struct ext2_super, magic) == 56, "s_magic at 56");
_Static_assert(offsetof(struct ext2_super, first_ino) == 84, "s_first_ino at 84");
_Static_assert(offsetof(struct ext2_super, feature_compat) == 92, "features at 92");
_Static_assert(offsetof(struct ext2_super, reserved_gdt_blocks) == 206, "at 206");

struct ext2_group {
    uint32_t block_bitmap, inode_bitmap, inode_table;
    uint16_t free_blocks_count, free_inodes_count, used_dirs_count, flags;
    uint32_t reserved[3];
};
_Static_assert(sizeof(struct ext2_group) == 32, "a group descriptor is 32 bytes");

struct ext2_inode {
    uint16_t mode, uid;
    uint32_t size, atime, ctime, mtime, dtime;
    uint16_t gid, links_count;
    uint32_t blocks; /* 512-byte units, indirect and attribute blocks included */
    uint32_t flags, osd1;
    uint32_t block[EXT2_NBLOCKS];
    uint32_t generation, file_acl, size_high, faddr;
    uint16_t blocks_hi, file_acl_high, uid_high, gid_high, checksum_lo, reserved;
    /* inodes larger than 128 bytes */
    uint16_t extra_isize, checksum_hi;
    uint32_t ctime_extra, mtime_extra, atime_extra, crtime, crtime_extra;
};
_Static_assert(offsetof(struct ext2_inode, block) == 40, "i_block at 40");
_Static_assert(offsetof(struct ext2_inode, extra_isize) == 128, "i_extra_isize at 128");
#define EXT2_INODE_EXTRA 32 /* i_extra_isize of new inodes (what mke2fs writes) */

/* i_flags */
#define EXT2_INDEX_FL 0x1000 /* hashed directory (dir_index) */

/* An extended-attribute block (i_file_acl): its header starts with these. */
#define EXT2_XATTR_MAGIC 0xea020000u

struct ext2_dirent {
    uint32_t inode;
    uint16_t rec_len;
    uint8_t name_len, file_type;
    char name[];
};
#define EXT2_DIRENT_SIZE(namelen) ((8u + (namelen) + 3u) & ~3u)

enum ext2_ftype {
    EXT2_FT_UNKNOWN,
    EXT2_FT_REG,
    EXT2_FT_DIR,
    EXT2_FT_CHR,
    EXT2_FT_BLK,
    EXT2_FT_FIFO,
    EXT2_FT_SOCK,
    EXT2_FT_SYMLINK,
};

#endif
