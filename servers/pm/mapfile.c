/*
 * Shared memory and mapped files (mmap with MAP_SHARED, or of a file).
 *
 * Frames mapped in more than one process are the kernel's shared frames
 * (PTE_SHARED, KC_MEM_SHARE, docs/IPC-SYSV.md): each mapping is counted,
 * fork maps them into the child instead of copying them, and the last
 * mapping to go frees them. KC_MEM_SHARE shares the caller's own pages, so
 * pm makes such pages in its own address space first:
 *
 * - MAP_SHARED|MAP_ANONYMOUS (and MAP_SHARED of /dev/zero): zeroed pages at
 *   SCRATCH, shared into the process, then unmapped from pm, so only the
 *   processes hold them (the parent and every child forked after).
 * - A file: vfs holds it for pm (VFS_PM_MAP_OPEN gives a handle), one
 *   struct mfile per file (its device and inode), counted by the regions
 *   that name it (region.c holds and drops it). A MAP_SHARED mapping's
 *   pages are the file's pages in pm's window for it, [0, loaded) of the
 *   file read once (VFS_PM_MAP_IO) and shared into every process that maps
 *   the file shared: they all see each other's stores at once. msync,
 *   munmap, exit and exec write the mapped range back from the window
 *   (only if some mapping of the file was writable); the window goes with
 *   the file's last region. A MAP_PRIVATE mapping gets its own copy of the
 *   file's pages: from the window if the file is loaded there (so it sees
 *   the shared mappings' stores), else read from the file.
 *
 * Pages are loaded when mapped (not at the first touch), bounded by the
 * file's size: pages of a mapping past the end of the file are left
 * unmapped, and a touch there is SIGBUS (mem_fault_signal), as on Linux.
 * read() and write() go to the file server, not to these pages: see
 * docs/USERLAND.md (Memory) for what is coherent and what is not.
 */
#include "pm.h"

#define SCRATCH 0x0000580000000000ull     /* pm's own: shared anonymous pages on their way */
#define SCRATCH_CHUNK (4ull << 20)        /* ... this many at a time */
#define WINDOW_BASE 0x0000600000000000ull /* pm's own: mfile i's pages at + i * WINDOW_SPAN */
#define WINDOW_SPAN (1ull << 36)          /* 64 GiB of a file shared at most */
#define BOUNCE (256ull << 10)             /* a private mapping's file data on its way */
#define ROUND_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

static uint8_t bounce[BOUNCE];

static uint64_t window(const struct mfile *f)
{
    return WINDOW_BASE + (uint64_t)(f - mfiles) * WINDOW_SPAN;
}

/* One VFS_PM_MAP_IO of f's [off, off+len) to or from pm's buf: bytes moved, or -errno. */
static int64_t file_io(const struct mfile *f, int write, uint64_t off, void *buf, uint64_t len)
{
    grant_id_t g = grant_alloc(vfs_ep, buf, len, write ? GRANT_READ : GRANT_WRITE);
    if (g < 0)
        return -LX_ENOMEM;
    message_t m = {.type = VFS_PM_MAP_IO,
                   .u.vfs_pm.map_io = {
                       .handle = f->handle, .write = write, .grant = g, .offset = off, .len = len}};
    int64_t r;
    vfs_request(&m, &r);
    grant_free(g);
    return r > (int64_t)len ? -LX_EIO : r;
}

void mfile_hold(struct mfile *f)
{
    if (f)
        f->refs++;
}

/* One reference less; the last one lets the window and vfs's handle go. */
void mfile_drop(struct mfile *f)
{
    if (!f || --f->refs)
        return;
    if (f->loaded)
        sys_mem_unmap(SELF, window(f), f->loaded); /* the processes' mappings keep their frames */
    message_t m = {.type = VFS_PM_MAP_CLOSE, .u.vfs_pm.map_close.handle = f->handle};
    vfs_request(&m, 0);
    *f = (struct mfile){0};
}

/*
 * The file behind mp's descriptor fd, for a mapping (need_write: shared and
 * writable): VFS_MAP_FILE with *out held once for the caller, VFS_MAP_ZERO
 * (/dev/zero: anonymous), or -errno (EBADF, EACCES, ENODEV as Linux; ENFILE
 * when pm maps too many files). *writable: the descriptor may write.
 */
int64_t mfile_open(struct mproc *mp, int fd, int need_write, struct mfile **out, int *writable)
{
    message_t m = {.type = VFS_PM_MAP_OPEN,
                   .u.vfs_pm.map_open = {.ep = mp->ep, .fd = fd, .need_write = need_write}};
    const struct msg_vfs_pm_map_open_reply *o = &m.u.vfs_pm.map_open_reply;
    if (ipc_sendrec(vfs_ep, &m) < 0)
        return -LX_EIO;
    *writable = o->writable;
    if (o->result != VFS_MAP_FILE)
        return o->result;
    struct mfile *f = 0, *free_one = 0;
    for (int i = 0; i < NR_MFILES && !f; i++) {
        if (mfiles[i].refs && mfiles[i].dev == o->dev && mfiles[i].ino == o->ino)
            f = &mfiles[i];
        else if (!mfiles[i].refs && !free_one)
            free_one = &mfiles[i];
    }
    if (f || !free_one) { /* pm holds it already (or cannot): one handle is enough */
        message_t c = {.type = VFS_PM_MAP_CLOSE, .u.vfs_pm.map_close.handle = o->handle};
        uint64_t size = o->size;
        vfs_request(&c, 0);
        if (!f)
            return -LX_ENFILE;
        f->size = size;
    } else {
        f = free_one;
        *f = (struct mfile){.handle = o->handle, .dev = o->dev, .ino = o->ino, .size = o->size};
    }
    f->refs++;
    *out = f;
    return VFS_MAP_FILE;
}

/* Which file f is, as vfs named it at VFS_PM_MAP_OPEN (for /proc/PID/maps). */
void mfile_id(const struct mfile *f, uint64_t *dev, uint64_t *ino)
{
    *dev = f ? f->dev : 0;
    *ino = f ? f->ino : 0;
}

/* Bytes of a mapping of len bytes at file offset off that lie in the file's pages. */
static uint64_t in_file(const struct mfile *f, uint64_t off, uint64_t len)
{
    uint64_t end = ROUND_UP(f->size);
    return off >= end ? 0 : end - off < len ? end - off : len;
}

/* New frames a mapping would take (pm's window, or the process's own copy). */
uint64_t mfile_new_pages(const struct mfile *f, uint64_t off, uint64_t len, int shared)
{
    uint64_t n = in_file(f, off, len);
    if (!shared || !n)
        return n / PAGE;
    return off + n > f->loaded ? (off + n - f->loaded) / PAGE : 0;
}

/* [0, end) of f in its window: 0 or -errno (ENOMEM past WINDOW_SPAN or without memory). */
static int64_t load(struct mfile *f, uint64_t end)
{
    if (end <= f->loaded)
        return 0;
    if (end > WINDOW_SPAN)
        return -LX_ENOMEM;
    uint64_t at = window(f) + f->loaded, len = end - f->loaded;
    if (sys_mem_map(SELF, at, len, PROT_R | PROT_W) < 0)
        return -LX_ENOMEM;
    int64_t r = file_io(f, 0, f->loaded, (void *)at, len); /* short at the end: zeros after */
    if (r < 0) {
        sys_mem_unmap(SELF, at, len);
        return r;
    }
    f->loaded = end;
    return 0;
}

/* Make the pages at a PROT_NONE if that was asked (they were mapped readable). */
static void none_if_asked(struct mproc *mp, uint64_t a, uint64_t len, int prot)
{
    if (!prot && len)
        sys_mem_protect(mp->ep, a, len, 0);
}

/* A private copy of f's [off, off+len) at a in mp (the pages in the file only): 0 or -errno. */
static int64_t map_private(struct mproc *mp, uint64_t a, uint64_t len, int prot, struct mfile *f,
                           uint64_t off)
{
    uint64_t n = in_file(f, off, len), done = 0;
    int p = prot ? prot : PROT_R;
    if (n && off + n <= f->loaded) /* the shared pages, with their stores */
        done = sys_mem_map_fill(mp->ep, a, n, p, (void *)(window(f) + off), n) < 0 ? 0 : n;
    while (done < n) {
        uint64_t step = n - done < BOUNCE ? n - done : BOUNCE;
        int64_t r = file_io(f, 0, off + done, bounce, step);
        if (r < 0 || sys_mem_map_fill(mp->ep, a + done, step, p, bounce, (uint64_t)r) < 0) {
            sys_mem_unmap(mp->ep, a, done);
            return r < 0 ? r : -LX_ENOMEM;
        }
        done += step;
    }
    none_if_asked(mp, a, n, prot);
    return 0;
}

/* Zeroed pages shared into mp at [a, a+len), held only by mp (and its children after a fork). */
int64_t mfile_map_anon_shared(struct mproc *mp, uint64_t a, uint64_t len, int prot)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t step = len - done < SCRATCH_CHUNK ? len - done : SCRATCH_CHUNK;
        int r = sys_mem_map(SELF, SCRATCH, step, PROT_R | PROT_W);
        if (r == 0)
            r = sys_mem_share(mp->ep, a + done, step, prot ? prot : PROT_R, SCRATCH);
        sys_mem_unmap(SELF, SCRATCH, step);
        if (r < 0) {
            sys_mem_unmap(mp->ep, a, done);
            return -LX_ENOMEM;
        }
        done += step;
    }
    none_if_asked(mp, a, len, prot);
    return 0;
}

/*
 * f's [off, off+len) at a in mp: shared (the window's pages) or a private
 * copy. Pages past the file's end stay unmapped. 0 or -errno.
 */
int64_t mfile_map(struct mproc *mp, uint64_t a, uint64_t len, int prot, int shared, struct mfile *f,
                  uint64_t off)
{
    if (!shared)
        return map_private(mp, a, len, prot, f, off);
    uint64_t n = in_file(f, off, len);
    int64_t r = n ? load(f, off + n) : 0;
    if (r < 0)
        return r;
    if (n && sys_mem_share(mp->ep, a, n, prot ? prot : PROT_R, window(f) + off) < 0)
        return -LX_ENOMEM;
    if (prot & PROT_W)
        f->written = 1;
    none_if_asked(mp, a, n, prot);
    return 0;
}

/* A shared mapping of f may now be written (mprotect). */
void mfile_writable(struct mfile *f)
{
    f->written = 1;
}

/* Write f's [off, off+len) back from the window, if a shared mapping could change it. */
int64_t mfile_writeback(struct mfile *f, uint64_t off, uint64_t len)
{
    if (!f->written || off >= f->loaded)
        return 0;
    len = f->loaded - off < len ? f->loaded - off : len;
    int64_t r = file_io(f, 1, off, (void *)(window(f) + off), len); /* vfs cuts at the size */
    return r < 0 ? r : 0;
}

/* Is file offset off past the pages of f a mapping got (its end when mapped)? */
int mfile_past_end(const struct mfile *f, uint64_t off)
{
    return off >= ROUND_UP(f->size);
}
