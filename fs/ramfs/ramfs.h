/*
 * ramfs: the in-memory, writable root file system server (FS_* protocol of
 * samsara/fs.h). Internal interfaces shared by its files:
 *   heap.c   pages and small objects in a heap region it maps itself
 *   inode.c  the inode table, reference rules, stat/statfs
 *   data.c   file blocks: the block index, read, write, truncate
 *   dir.c    directory entries and getdents
 *   ops.c    name operations (lookup, create, link, unlink, rename...)
 *   cpio.c   filling the tree from the initramfs at start
 *   main.c   start-up and the callbacks of the file-server loop (lib/fsdriver)
 *
 * References (see docs/RAMFS.md): every reply that hands the requester an
 * inode number (LOOKUP, CREATE, SYMLINK) counts one reference in the
 * inode's `refs`; each FS_PUTNODE gives one back. (vfs keeps one server
 * reference per vnode: it returns the extra one at once when a lookup
 * finds an inode it already has, and the last when the vnode goes.) An
 * inode is freed when it has no links and no references; the root
 * directory is never freed.
 *
 * Functions return 0 or a byte count, or a negative Linux errno (LX_*).
 */
#ifndef RAMFS_H
#define RAMFS_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/root.h>
#include <samsara/manifest.h>
#include "sys.h"

#define RAMFS_BLOCK 4096
#define RAMFS_PTRS (RAMFS_BLOCK / 8) /* pointers in one index page */
#define RAMFS_NDIRECT 8
/* blocks reachable: direct, one indirect page, one double-indirect page */
#define RAMFS_MAX_BLOCKS ((uint64_t)RAMFS_NDIRECT + RAMFS_PTRS + (uint64_t)RAMFS_PTRS * RAMFS_PTRS)
#define RAMFS_MAX_SIZE (RAMFS_MAX_BLOCKS * RAMFS_BLOCK) /* about 1 GiB */
#define RAMFS_MAX_INODES 65536                          /* inode numbers 1..65535 */
#define RAMFS_SYMLINK_MAX 4095
#define RAMFS_LINK_MAX 65000
#define RAMFS_MAGIC 0x858458f6 /* Linux's ramfs magic, for statfs */

/*
 * The state region (docs/RAMFS.md, "Restarts"): rs's pages at MANIFEST_STATE_VADDR in every
 * instance (`state 65M grow` in ramfs.conf), so the pointers in it stay valid. Layout: the
 * header with every persistent global (struct ramfs_state), the undo log of the request being
 * served (log.c), then the heap, grown with ROOT_STATE_GROW in steps as pages are first needed.
 */
#define RAMFS_STATE_BASE MANIFEST_STATE_VADDR
#define RAMFS_HDR_SIZE (8ull << 10)
#define RAMFS_LOG_BASE (RAMFS_STATE_BASE + RAMFS_HDR_SIZE)
#define RAMFS_LOG_SIZE (1ull << 20)
#define RAMFS_HEAP_BASE (RAMFS_LOG_BASE + RAMFS_LOG_SIZE)
#define RAMFS_HEAP_CAP (63ull << 20)
#define RAMFS_HEAP_STEP (64ull << 10)
#define RAMFS_STATE_SIZE (RAMFS_HDR_SIZE + RAMFS_LOG_SIZE + RAMFS_HEAP_CAP) /* <= `state` */
#define RAMFS_WRITE_STEP (256ull << 10) /* a longer write is several transactions (data.c) */
#define RAMFS_SPARE (RAMFS_WRITE_STEP / RAMFS_BLOCK) /* heap.c's spare pages, at most */
#define RAMFS_SPARE_RING (2 * RAMFS_SPARE)           /* a power of two */
#define RAMFS_NR_CLASSES 8
#define RAMFS_ITAB_PAGES (RAMFS_MAX_INODES / RAMFS_PTRS)

/* The header at the region's start. magic..check are checked at start (checksum: FNV-1a). */
struct ramfs_state {
    uint64_t magic;  /* RAMFS_STATE_MAGIC */
    uint64_t layout; /* RAMFS_LAYOUT: this struct, the log's records, the heap's use */
    uint64_t length; /* RAMFS_STATE_SIZE */
    uint64_t check;  /* FNV-1a of the three above */
    uint64_t loaded; /* 1 once the initramfs is in: a death while loading starts fresh */
    /* heap.c: changed inside requests, logged once per request (ramfs_log_globals) */
    struct ramfs_globals {
        void *class_free[RAMFS_NR_CLASSES]; /* free small objects, by class */
        void *page_free;                    /* free pages, linked through their first word */
        uint64_t mapped;                    /* heap bytes rs mapped for us */
        uint64_t bumped;                    /* heap bytes handed out at least once */
        uint64_t free_pages;                /* pages on page_free */
        uint32_t cursor, nr_inodes;         /* inode.c: the next number to try; live inodes */
        uint64_t versions; /* inode.c: the last data version handed out (not logged: see there) */
    } g;
    struct ramfs_inode **itab[RAMFS_ITAB_PAGES]; /* inode.c: the table's pages (logged apart) */
    /* heap.c: free pages a shadowed write gave back, taken before the free list's: a ring of
     * RAMFS_SPARE_RING entries, [head, tail) in use (counts mod 2^32), at most RAMFS_SPARE of
     * them; both ends in one word, logged once a request (ramfs_log_spare) */
    union {
        struct {
            uint32_t head, tail;
        } at;
        uint64_t word;
    } spare_ends;
    void *spare[RAMFS_SPARE_RING];
};
#define RAMFS_STATE_MAGIC 0x31745373666d6172ull /* "ramfsSt1" */
#define RAMFS_LAYOUT 3
#define RAMFS_ST ((struct ramfs_state *)RAMFS_STATE_BASE)

struct ramfs_inode {
    uint32_t ino, mode, nlink;
    uint32_t refs;     /* references the requesters hold (see above) */
    uint32_t parent;   /* directories: the parent's inode number */
    uint32_t nent;     /* directories: live entries, "." and ".." excluded */
    uint32_t nslots;   /* directories: slots in use, holes included */
    uint32_t uid, gid; /* the owner, as vfs or the initramfs gave it */
    uint32_t pad;
    uint64_t version; /* the data's (struct fs_stat): ramfs_changed at every write and truncate */
    uint64_t size, rdev;
    uint64_t atime, mtime, ctime;
    char *target;                /* symlinks: the target (size bytes, NUL-terminated) */
    void *direct[RAMFS_NDIRECT]; /* block index (file data or dir slots) */
    void **ind;                  /* one page of RAMFS_PTRS block pointers */
    void ***dind;                /* one page of pointers to such pages */
};

struct ramfs_dirent {
    uint32_t ino;
    uint32_t hash;
    uint16_t len;
    char name[]; /* len bytes and a NUL */
};

#define RAMFS_ISDIR(ip) (((ip)->mode & S_IFMT) == S_IFDIR)
#define RAMFS_ISREG(ip) (((ip)->mode & S_IFMT) == S_IFREG)
#define RAMFS_ISLNK(ip) (((ip)->mode & S_IFMT) == S_IFLNK)

/* log.c: the undo log; every store into the region inside a request is logged first */
void ramfs_log(const void *p, uint64_t n);      /* the old bytes of [p, p + n), before a change */
void ramfs_log_zero(const void *p, uint64_t n); /* [p, p + n) holds zeros now: undone, zeros */
void ramfs_log_inode(const struct ramfs_inode *ip);
void ramfs_log_globals(void);     /* the whole of RAMFS_ST->g, once per request */
void ramfs_log_pages(void);       /* its page words only (heap.c's pages), once per request */
uint32_t ramfs_log_spare(void);   /* heap.c's spare ring's ends, once a request: its tail then */
uint32_t ramfs_spare_limit(void); /* the ring's entries from here on came in this request */
void ramfs_log_on(int on);        /* off while loading the initramfs */
void ramfs_commit(void);          /* the request is done: one 8-byte store empties the log */
struct fsdriver_last;
const struct fsdriver_last *ramfs_last(void);               /* exact replay (lib/fsdriver) */
void ramfs_commit_request(const struct fsdriver_last *rec); /* ramfs_commit, rec kept with it */
int64_t ramfs_undo(uint64_t have); /* at start: records undone, or -1 if the log is bad */
void ramfs_crash_at(uint64_t k);   /* test hook: die before the next request's k-th record */

/* heap.c */
/* Keep what the region holds (1: kept, the log undone) or start fresh (0); -1: no region. */
int ramfs_heap_init(const char *label);
void *ramfs_page_alloc(void); /* zeroed page, or 0 when out of memory */
void *ramfs_page_take(void);  /* a page whose bytes are left as they are, or 0 */
void ramfs_page_free(void *p);
void *ramfs_page_swap(void *old); /* a page for data.c's shadow block, old kept till the commit */
void ramfs_page_unswap(void *p);  /* the block was not written: p back, old stays the block's */
void *ramfs_alloc(uint64_t n);    /* zeroed, n <= RAMFS_BLOCK; or 0 */
void ramfs_free(void *p, uint64_t n); /* n as given to ramfs_alloc */
uint64_t ramfs_heap_pages_cap(void);  /* pages the heap may hold at most */
uint64_t ramfs_heap_pages_used(void); /* pages taken, small-object pages included */
void ramfs_zero(void *p, uint64_t n);
void ramfs_copy(void *d, const void *s, uint64_t n);

/* inode.c */
uint64_t ramfs_now(void);
struct ramfs_inode *ramfs_iget(uint64_t ino);    /* 0 if no such live inode */
struct ramfs_inode *ramfs_ialloc(uint32_t mode); /* nlink 0, refs 0; 0 if none */
void ramfs_iput_check(struct ramfs_inode *ip);   /* free if no links, no refs */
int ramfs_root_init(void);
void ramfs_changed(struct ramfs_inode *ip); /* also logs the size and times */
void ramfs_touch(struct ramfs_inode *ip);   /* atime now (a read) */
void ramfs_fill_stat(const struct ramfs_inode *ip, struct fs_stat *st);
void ramfs_fill_statfs(struct fs_statfs *sf);

/* data.c */
void *ramfs_block(struct ramfs_inode *ip, uint64_t blk, int alloc);
void ramfs_free_blocks(struct ramfs_inode *ip, uint64_t from);
int64_t ramfs_read(struct ramfs_inode *ip, uint64_t off, endpoint_t ep, grant_id_t g, uint64_t len);
int64_t ramfs_write(struct ramfs_inode *ip, uint64_t off, endpoint_t ep, grant_id_t g,
                    uint64_t goff, uint64_t len);
int ramfs_truncate(struct ramfs_inode *ip, uint64_t size);

/* dir.c */
uint32_t ramfs_hash(const char *name, uint64_t len);
struct ramfs_dirent *ramfs_dir_find(struct ramfs_inode *dir, const char *name, uint64_t len,
                                    uint32_t *slot);
/* The inode name names in dir (its slot in *slot unless slot is 0), or 0 if none. */
struct ramfs_inode *ramfs_dir_inode(struct ramfs_inode *dir, const char *name, uint64_t len,
                                    uint32_t *slot);
int ramfs_dir_add(struct ramfs_inode *dir, const char *name, uint64_t len, uint32_t ino);
void ramfs_dir_remove(struct ramfs_inode *dir, uint32_t slot);
struct ramfs_dirent *ramfs_dir_slot(struct ramfs_inode *dir, uint32_t slot);
void ramfs_dir_free_all(struct ramfs_inode *dir);
int64_t ramfs_getdents(struct ramfs_inode *dir, uint64_t *cookie, endpoint_t ep, grant_id_t g,
                       uint64_t len);

/* ops.c: name operations; names are checked by the caller (fsdriver_name_ok) */
int ramfs_lookup(struct ramfs_inode *dir, const char *name, uint64_t len, struct ramfs_inode **out);
int ramfs_create(struct ramfs_inode *dir, const char *name, uint64_t len, uint32_t mode,
                 uint64_t rdev, struct ramfs_inode **out);
int ramfs_symlink(struct ramfs_inode *dir, const char *name, uint64_t len, const char *target,
                  uint64_t tlen, struct ramfs_inode **out);
int ramfs_link(struct ramfs_inode *dir, const char *name, uint64_t len, struct ramfs_inode *ip);
int ramfs_unlink(struct ramfs_inode *dir, const char *name, uint64_t len);
int ramfs_rmdir(struct ramfs_inode *dir, const char *name, uint64_t len);
int ramfs_rename(struct ramfs_inode *odir, const char *oname, uint64_t olen,
                 struct ramfs_inode *ndir, const char *nname, uint64_t nlen);

/* cpio.c */
void ramfs_cpio_load(endpoint_t ep, grant_id_t g, uint64_t size, const char *label);

#endif
