/*
 * The ext2 file system, independent of how blocks arrive (disk.h) and of
 * how requests arrive (main.c serves them over the FS protocol; the host
 * test calls them directly). One file system is mounted at a time; its
 * state is the global `ext2` below.
 *
 * Inode numbers here are ext2's own (the root is 2). Every function that
 * changes the file system first checks that it can (kinds, names, space
 * limits), so a refusal changes nothing; running out of blocks in the
 * middle of a write keeps what was written and nothing past the file's end.
 * Results are 0, a byte count, or a negative errno (LX_*). Anything the
 * image says that cannot be right (a block pointer outside the file
 * system, a directory entry that overruns its block, an inode number out
 * of range) is logged ("ext2: corrupt: ...") and answered with EIO; it is
 * never followed.
 *
 * Who calls what: main.c (the server) and tests/host/test_ext2.c. The
 * files: cache.c (the block cache), super.c (mount, sync, statfs, group
 * descriptors), alloc.c (bitmaps), inode.c (inode access, references,
 * block map, truncation), file.c (read, write), dir.c (directory entries),
 * names.c (the name operations and attributes).
 */
#ifndef EXT2_EXT2_H
#define EXT2_EXT2_H

#include "port.h"
#include "disk.h"
#include "layout.h"

#define EXT2_MAX_BLOCK 4096 /* 1, 2 and 4 KiB blocks are served */
#ifndef EXT2_NBUF
#define EXT2_NBUF 1024 /* cache buffers: 4 MiB with 4 KiB blocks */
#endif
#define EXT2_MAX_REFS 8192 /* inodes the client may hold references to at once */

/* What a LOOKUP, CREATE or SYMLINK answer says of the inode it hands over. */
struct ext2_node {
    uint64_t ino, mode, rdev, size, uid, gid;
};

/* A requester's buffer: copy moves len bytes at offset off of it to (out = 1) or from buf;
 * copyv (optional) moves n <= EXT2_COPY_MAX pieces, consecutive in the buffer from off, in one
 * call, all or none (a read's or write's blocks: one kernel copy instead of one per block). */
#define EXT2_COPY_MAX 16
struct ext2_io {
    int (*copy)(const struct ext2_io *io, uint64_t off, void *buf, uint64_t len, int out);
    int (*copyv)(const struct ext2_io *io, uint64_t off, const struct ext2_iov *v, uint32_t n,
                 int out);
};

/* The client's inode numbers are ext2's own: the root is 2 (EXT2_ROOT_INO), what FS_MOUNT
 * answers, as st_ino on Linux. A number past 32 bits becomes 0, which every call refuses (as it
 * refuses the reserved inodes: inode.c, ino_ok). */
static inline uint32_t ext2_ino_of_client(uint64_t ino)
{
    return ino > 0xffffffffull ? 0 : (uint32_t)ino;
}

/* Mount flags */
#define EXT2_MOUNT_RO 1

struct ext2_fs {
    struct ext2_disk *disk;
    int sb_dirty, readonly, mounted;
    uint32_t bs, log_bs; /* block size in bytes, and its log2 */
    uint32_t ngroups, gdt_block, desc_per_block;
    uint32_t inode_size, inodes_per_block, itable_blocks; /* per group */
    uint32_t inode_logged;   /* EXT2_INODE_LOGGED, or inode_size if smaller */
    uint32_t first_ino, ppb; /* first non-reserved inode; block pointers per block */
    uint64_t max_size;       /* the largest file the block map and i_blocks allow */
    uint64_t (*now)(void);   /* seconds, for times */
    uint32_t generation;     /* for new inodes */
    uint32_t corrupt_logged;
    uint32_t last_ino, last_blk; /* the last block allocated, and for which inode (the goal) */
    /* The primary superblock, written back at sync. Last: a commit copies the struct up to its
     * first EXT2_SB_HOT bytes (state.c, keep). */
    struct ext2_super sb;
};
extern struct ext2_fs ext2;

/* ---- the public operations (the FS protocol's, on ext2 inode numbers) */
int ext2_mount(struct ext2_disk *disk, int flags, uint64_t (*now)(void));
int ext2_unmount(void); /* flush everything and mark the file system clean */
int ext2_sync(void);    /* write every dirty block and the superblock, then flush the disk */
int ext2_fsync(uint32_t ino);
int ext2_lookup(uint32_t dir, const char *name, uint32_t len, struct ext2_node *out);
int ext2_create(uint32_t dir, const char *name, uint32_t len, uint32_t mode, uint64_t rdev,
                uint32_t uid, uint32_t gid, struct ext2_node *out);
int ext2_symlink(uint32_t dir, const char *name, uint32_t len, const char *target, uint32_t tlen,
                 uint32_t uid, uint32_t gid, struct ext2_node *out);
int ext2_link(uint32_t dir, const char *name, uint32_t len, uint32_t ino);
int ext2_unlink(uint32_t dir, const char *name, uint32_t len);
int ext2_rmdir(uint32_t dir, const char *name, uint32_t len);
int ext2_rename(uint32_t odir, const char *oname, uint32_t olen, uint32_t ndir, const char *nname,
                uint32_t nlen);
int64_t ext2_read(uint32_t ino, uint64_t off, const struct ext2_io *io, uint64_t len);
int64_t ext2_write(uint32_t ino, uint64_t off, const struct ext2_io *io, uint64_t len);
int ext2_trunc(uint32_t ino, uint64_t size);
int64_t ext2_getdents(uint32_t dir, uint64_t *cookie, const struct ext2_io *io, uint64_t len);
int64_t ext2_readlink(uint32_t ino, const struct ext2_io *io, uint64_t len);
int ext2_stat(uint32_t ino, struct fs_stat *st);
int ext2_statfs(struct fs_statfs *sf);
int ext2_chmod(uint32_t ino, uint32_t mode);
int ext2_chown(uint32_t ino, uint32_t uid, uint32_t gid, uint32_t mode);
int ext2_utime(uint32_t ino, uint64_t atime, uint64_t mtime);
int ext2_putnode(uint32_t ino);
uint32_t ext2_refs(uint32_t ino); /* references the client holds (for tests) */

/* ---- inside the file system */
/* Log a corruption (the first 64, then every 1024th) and return -LX_EIO. */
int ext2_corrupt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cache.c: a buffer holds one block; it stays put while pinned (bget .. bput). */
struct ext2_buf {
    uint32_t blk;
    uint16_t pins;
    uint8_t dirty, used;
    uint64_t txn, whole; /* the transaction (state.c) that logged part of it, and all of it */
    struct ext2_buf *hnext, *prev, *next; /* hash chain; LRU list, most recent first */
    uint8_t *data;
};
#define CACHE_RUN_MAX 256 /* blocks in one disk request: 1 MiB of 4 KiB (BDEV_TRANSFER_MAX) */
#define BGET_READ 0       /* the block's contents from the disk */
#define BGET_NEW 1        /* a block about to be filled: zeros, nothing read */
#define BGET_FULL 2       /* a block the caller overwrites whole at once: neither read nor zeroed */
/* (or'ed in) not in the undo log (state.c): file data, or a block its caller logs (cache_log)
 * before it changes it */
#define BGET_NOLOG 4
int cache_init(void);
int bget(uint32_t blk, int how, struct ext2_buf **out);
void bput(struct ext2_buf *b);
void bdirty(struct ext2_buf *b);
int cache_flush(void);   /* write every dirty block; 0 or -LX_EIO */
void cache_forget(void); /* drop everything (after unmount) */
uint32_t cache_dirty_count(void);
void cache_discard(uint32_t blk); /* a freed block: its buffer, unless pinned, is dropped */
int cache_has(uint32_t blk);      /* the block is in the cache (clean or dirty) */
/* Read-ahead: blocks blk.. (at most n and cache_run_max()) up to the first
 * one already cached, in one disk request, into the least recently used buffers: how many (0 if
 * none, or if the read failed: nothing changed then). */
uint32_t cache_read_run(uint32_t blk, uint32_t n);
uint32_t cache_run_max(void); /* the longest run read: CACHE_RUN_MAX, or a quarter of the cache */

/*
 * state.c: what must outlive the server (docs/EXT2.md, "Restarts"): the cache's buffers, their
 * headers and dirty marks, the file system's state (`ext2`, at the end of each change) and the
 * undo log of the change in progress, in one region (the server's state region; the host test's
 * memory). Each change (a request that may write) is a transaction: ext2_txn_begin, then bget
 * logs each buffer the first time it hands it out (its contents before any change; a block not
 * cached before: dropped on undo), then ext2_txn_end keeps `ext2` and empties the log by one
 * 8-byte store (`commit`). A change that needs more than EXT2_LOG_MAX buffers is committed in
 * pieces (counted in `split`).
 */
#define EXT2_LOG_MAX                                                                               \
    (EXT2_NBUF / 4 < 256 ? EXT2_NBUF / 4 : 256) /* buffers (and blocks of bytes)                   \
                                                 */
#define EXT2_LOG_ENTRIES 1024                   /* undo entries */
#define EXT2_STATE_MAGIC 0x3165746174533245ull  /* "E2State1" */
#define EXT2_STATE_VERSION 3
struct ext2_state_id { /* which file system a region belongs to */
    char dev[16];      /* the driver's label */
    uint32_t minor, pad;
    uint64_t size;    /* the device's bytes */
    uint8_t uuid[16]; /* the superblock's */
};
struct ext2_state_header {
    uint64_t magic;
    uint32_t version, len; /* the layout's; sizeof(struct ext2_state) */
    struct ext2_state_id id;
    uint64_t check; /* FNV-1a of the fields above */
};
struct ext2_undo {
    uint32_t buf, blk; /* the buffer's index and block */
    uint32_t present;  /* 1: the old bytes off..off+len are in undo_data at `at`; 0: not cached */
    uint32_t off, len, at;
};
#define EXT2_LAST_WORDS 9 /* sizeof(struct fsdriver_last) / 8 (main.c checks) */
struct ext2_state {
    struct ext2_state_header h; /* first: what rs's SVC_SCRAMBLE garbles */
    uint64_t commit;    /* low 32 bits: entries in the undo log; bit 32: which fs[] holds `ext2` */
    uint64_t seq;       /* the current transaction's number (ext2_buf.txn) */
    uint64_t split;     /* changes committed in pieces (too many buffers for the log) */
    uint64_t test_died; /* main.c's test hook fired: not again at once (a replayed request) */
    /* The record of the last request committed (lib/fsdriver's struct fsdriver_last: exact
     * replay), one per copy of `ext2`: the commit that names fs[i] names last[i] too. */
    uint64_t last[2][EXT2_LAST_WORDS];
    uint8_t memory[EXT2_NBUF][EXT2_MAX_BLOCK] __attribute__((aligned(4096))); /* the blocks */
    uint8_t undo_data[EXT2_LOG_MAX * EXT2_MAX_BLOCK]; /* old bytes of logged buffers */
    struct ext2_fs fs[2];
    struct ext2_undo undo[EXT2_LOG_ENTRIES];
    struct ext2_buf bufs[EXT2_NBUF];
};
void ext2_state_attach(struct ext2_state *s); /* before any mount */
/* Mount: the region's file system if its header is right and names this one (id: dev, minor,
 * size; the uuid is read from the disk), the change in progress undone; else a fresh mount
 * (a bad header logged) whose state the region then keeps. */
int ext2_state_mount(struct ext2_disk *disk, int flags, uint64_t (*now)(void),
                     const struct ext2_state_id *id);
void ext2_state_forget(void); /* after an unmount: the region names no file system */
/* The superblock's bytes a change may alter (counts, times, state, features), all before the
 * UUID; the rest is set at mount only. ext2_txn_end keeps these (state.c: keep). */
#define EXT2_SB_HOT offsetof(struct ext2_super, uuid)
int ext2_state_kept(void); /* the mount adopted a dead instance's state (lib/fsdriver) */
void ext2_txn_begin(void);
void ext2_txn_end(void);
/* ext2_txn_end, and rec (EXT2_LAST_WORDS words; 0: none) is the new record of the last request
 * in the same commit. ext2_last: the record committed. */
void ext2_txn_commit(const uint64_t *rec);
const uint64_t *ext2_last(void);
extern void (*ext2_txn_hook)(void); /* tests: called at each buffer logged */
/* cache.c's side */
void cache_attach(struct ext2_state *s);
void cache_txn(int on);
void cache_log(struct ext2_buf *b, int present);                       /* the whole block */
void cache_log_range(struct ext2_buf *b, const void *p, uint32_t len); /* bytes p.. of it */
uint32_t cache_undo(uint32_t n); /* undo n entries; how many were applied */
void cache_rebuild(uint32_t *used, uint32_t *dirty, uint32_t *dropped);

/* super.c */
int group_get(uint32_t g, struct ext2_buf **b, struct ext2_group **gd);
int block_ok(uint32_t blk);      /* inside the file system's data area */
int block_is_meta(uint32_t blk); /* a superblock, descriptor, bitmap or inode table block */
int group_has_super(uint32_t g);
uint32_t ext2_time(void);
int ext2_writable(void); /* 0, or -LX_EROFS */

/* alloc.c */
int balloc(uint32_t goal, uint32_t *out);
void bfree(uint32_t blk);
int ialloc(uint32_t dir_ino, int isdir, uint32_t *out);
void ifree(uint32_t ino, int isdir);

/* inode.c */
int ino_ok(uint32_t ino); /* in range and not reserved (the root is fine) */
/* The bytes of an inode this code ever writes: the 128 of the old format and the EXT2_INODE_EXTRA
 * after them (extra_isize, the times' extra bits, crtime). What lies past them changes only in
 * inode_new's zeroing, which logs it itself; iget logs these bytes only (state.c). */
#define EXT2_INODE_LOGGED (EXT2_GOOD_OLD_INODE_SIZE + EXT2_INODE_EXTRA)
int iget(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip);
/* Inode ino only to read (a lookup's directory, a type or size checked), never written through
 * *ip: not logged (state.c), which saves a change the cost of logging it. */
int iget_look(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip);
int iget_live_look(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip); /* + in use */
void iput(struct ext2_buf *b, struct ext2_inode *ip, int dirty);
int iget_live(uint32_t ino, struct ext2_buf **b, struct ext2_inode **ip); /* + in use */
uint64_t isize(const struct ext2_inode *ip);
void isize_set(struct ext2_inode *ip, uint64_t size);
uint32_t iuid(const struct ext2_inode *ip);
uint32_t igid(const struct ext2_inode *ip);
int bmap(uint32_t ino, struct ext2_inode *ip, uint64_t lblk, int alloc, uint32_t *pblk);
int itrunc_blocks(struct ext2_inode *ip, uint64_t from); /* free blocks from lblk `from` on */
int is_fast_symlink(const struct ext2_inode *ip);
int holds_blocks(const struct ext2_inode *ip);
int ref_add(uint32_t ino);
int ref_full(void); /* no room for a reference to one more inode */
uint32_t ref_count(uint32_t ino);
int ref_drop(uint32_t ino);
int ifree_if_unused(uint32_t ino); /* no links and no references: free it */
void ext2_refs_reset(void);
int ifree_orphans(void); /* at unmount: free unlinked inodes still referenced */

/* file.c: read-ahead's next window (blocks) after `window`, for a miss at file block lblk when
 * the last block read was next - 1: 0 when not sequential */
uint32_t ra_window(uint32_t window, uint64_t lblk, uint64_t next);

/* dir.c */
int dir_find(uint32_t dir, const char *name, uint32_t len, uint32_t *ino, uint32_t *blk_index,
             uint32_t *offset);
int dir_add(uint32_t dir, const char *name, uint32_t len, uint32_t ino, uint32_t mode);
int dir_remove(uint32_t dir, const char *name, uint32_t len);
int dir_set(uint32_t dir, const char *name, uint32_t len, uint32_t ino, uint32_t mode);
int dir_empty(uint32_t dir); /* 1 if only . and .., 0 if not, or an error */
int dir_init(uint32_t dir, uint32_t parent, struct ext2_inode *ip);
int dir_iter_check(struct ext2_inode *ip, uint32_t ino);
uint8_t ftype_of(uint32_t mode);

#endif
