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

/* Heap: virtual region we map ourselves, grown in steps, under a cap that
 * leaves room in the 64 MiB max_pages for our image and stack. */
#define RAMFS_HEAP_BASE 0x10000000ull
#define RAMFS_HEAP_CAP (63ull << 20)
#define RAMFS_HEAP_STEP (64ull << 10)

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

/* heap.c */
void ramfs_heap_init(void);
void *ramfs_page_alloc(void); /* zeroed page, or 0 when out of memory */
void ramfs_page_free(void *p);
void *ramfs_alloc(uint64_t n);        /* zeroed, n <= RAMFS_BLOCK; or 0 */
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
void ramfs_changed(struct ramfs_inode *ip);
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
