/*
 * The memory of a Linux process: brk above the program, anonymous mmap
 * regions placed top-down from MMAP_TOP in the highest gap, the stack at
 * the top. pm keeps the regions (region.c: a sorted list that merges and
 * splits, as Linux's VMAs); the kernel keeps the page tables.
 *
 * Demand-zero: anonymous memory (mmap, brk, the stack) is mapped with
 * MEM_LAZY: the kernel writes markers, allocates nothing, and gives a page
 * its zeroed frame at the first touch (kernel/vm.c: vm_fault, on a page
 * fault or when a copy reaches the page), without a message to pm. A
 * region that has been PROT_NONE from the start has no markers (`backed`
 * 0), so a large reservation costs no page tables; mprotect gives it
 * markers when it becomes accessible.
 *
 * Admission, decided before anything changes: RLIMIT_AS bounds the pages
 * in regions (Linux's total_vm), RLIMIT_DATA the private writable ones
 * that are not the stack (data_vm); a mapping that may be written must fit
 * in the free frames above the servers' reserve (USER_RESERVE_FRAMES) as if
 * it were all touched (Linux's heuristic overcommit, measured against free
 * memory, so that a program that allocates and touches gets ENOMEM from
 * mmap or brk, not a kill). Mappings made before are not counted: if
 * touches of memory admitted earlier find no frame above the reserve, the
 * kernel kills the toucher (DEATH_NOMEM, logged; pm reports SIGKILL), as
 * Linux's OOM killer would.
 *
 * MAP_SHARED memory and mapped files (R_SHARED, R_FILE, R_FSHARED) get
 * their pages when mapped, from mapfile.c: shared frames the kernel keeps
 * shared across fork, or a private copy of the file's pages; their
 * admission counts those frames. munmap, msync, exit and exec write a
 * shared file mapping back (write_back).
 */
#include "pm.h"

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_SHARED_VALIDATE 0x03 /* MAP_SHARED, and unknown flags are EOPNOTSUPP (files only) */
#define MAP_TYPE 0x0f
#define MAP_KNOWN 0x407f933ull /* Linux's LEGACY_MAP_MASK: what MAP_SHARED_VALIDATE accepts */
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_POPULATE 0x8000
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4
#define ROUND_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1)) /* callers make sure it cannot wrap */
#define BRK_GAP (64ull << 20) /* pm places mmap regions this far above the break at least */

/*
 * May `frames` frames be taken now, with the page tables for `mapped`
 * pages, leaving the servers' reserve free? 0 or -ENOMEM.
 */
static int64_t admit(uint64_t frames, uint64_t mapped)
{
    struct sysinfo s;
    uint64_t need = frames + mapped / 512 + 8;
    if (sys_sysinfo(&s) < 0 || s.free_frames < need ||
        s.free_frames - need < USER_RESERVE_FRAMES(s.total_frames))
        return -LX_ENOMEM;
    return 0;
}

/* May `fresh` new frames be taken now (exec)? */
int64_t mem_admit(uint64_t fresh)
{
    return admit(fresh, fresh);
}

/*
 * May a process with `pages` pages fork? The kernel shares its frames copy-on-write, so only the
 * copy's page tables are taken now; the copies that writes make later are like first touches of
 * demand-zero memory (Linux's heuristic overcommit charges a fork nothing it could refuse).
 */
int64_t mem_admit_fork(uint64_t pages)
{
    return admit(0, pages);
}

/* A new accessible mapping of n demand-zero pages: tables now, frames if it may be written. */
static int64_t admit_lazy(uint64_t n, int prot)
{
    return prot ? admit(prot & PROT_W ? n : 0, n) : 0;
}

/* Would mp stay within RLIMIT_AS and RLIMIT_DATA growing by `pages`, `data` of them data? */
static int64_t within_limits(const struct mproc *mp, int64_t pages, int64_t data)
{
    if (pages > 0 && mp->vm_pages + (uint64_t)pages > mp->rlim_as[0] / PAGE)
        return -LX_ENOMEM;
    if (data > 0 && mp->data_pages + (uint64_t)data > mp->rlim_data[0] / PAGE)
        return -LX_ENOMEM;
    return 0;
}

/* The pages the kernel counts for mp now, or -1 (then nothing is admitted). */
int64_t mem_pages(const struct mproc *mp)
{
    struct proc_info info;
    return sys_proc_info(mp->ep, &info) < 0 ? -1 : (int64_t)info.pages;
}

static int64_t write_back(struct mproc *mp, uint64_t a, uint64_t b);

/* mp's address space is gone (exec, exit): its regions too, its shared files written back. */
void mem_forget(struct mproc *mp)
{
    write_back(mp, 0, STACK_TOP);
    region_free_all(mp);
}

/* A page fault at addr killed mp with sig: SIGBUS if it was past the end of a mapped file. */
int mem_fault_signal(struct mproc *mp, uint64_t addr, int sig)
{
    struct region *r = region_from(mp, addr);
    if (sig == SIGSEGV && !region_is_end(mp, r) && r->start <= addr && r->file &&
        mfile_past_end(r->file, r->off + (addr - r->start)))
        return SIGBUS;
    return sig;
}

/* A new process: no regions, Linux's first limits (RLIMIT_STACK 8 MiB soft). */
void mem_limits_init(struct mproc *mp)
{
    region_init(mp);
    mp->rlim_as[0] = mp->rlim_as[1] = RLIM_INFINITY;
    mp->rlim_data[0] = mp->rlim_data[1] = RLIM_INFINITY;
    mp->rlim_stack[0] = STACK_DEFAULT;
    mp->rlim_stack[1] = RLIM_INFINITY;
}

/* Write the shared file mappings in [a, b) back to their files: 0, or the first error. */
static int64_t write_back(struct mproc *mp, uint64_t a, uint64_t b)
{
    int64_t err = 0;
    for (struct region *r = region_from(mp, a); !region_is_end(mp, r) && r->start < b;
         r = r->next) {
        uint64_t s = r->start > a ? r->start : a, e = r->end < b ? r->end : b;
        int64_t x =
            r->kind == R_FSHARED ? mfile_writeback(r->file, r->off + (s - r->start), e - s) : 0;
        err = err ? err : x;
    }
    return err;
}

/*
 * Unmap [a, b) in the kernel and in the regions (2 entries reserved); shared files written back.
 * -LX_ENOMEM if the kernel has no frame to split a demand-zero span at an end (regions kept).
 */
static int64_t unmap_range(struct mproc *mp, uint64_t a, uint64_t b)
{
    region_cut(mp, a, b);
    write_back(mp, a, b);
    if (sys_mem_unmap(mp->ep, a, b - a) < 0)
        return -LX_ENOMEM;
    region_drop(mp, a, b);
    return 0;
}

/* How far from a the regions cover [a, b) without a hole: a if a itself is not mapped. */
static uint64_t covered_to(struct mproc *mp, uint64_t a, uint64_t b)
{
    uint64_t at = a;
    for (struct region *r = region_from(mp, a); !region_is_end(mp, r) && r->start <= at && at < b;
         r = r->next)
        at = r->end;
    return at < b ? at : b;
}

/*
 * Map [a, a+len) (free, or emptied first by the caller) as `how` says (its
 * kind, prot, and file and offset at a): anonymous private memory
 * demand-zero (eager frames if populate), shared and file memory from
 * mapfile.c; and add its region (1 entry reserved). 0 or -errno.
 */
static int64_t map_region(struct mproc *mp, uint64_t a, uint64_t len, const struct region *how,
                          int populate)
{
    int prot = how->prot;
    int64_t r = 0;
    if (how->kind == R_SHARED)
        r = mfile_map_anon_shared(mp, a, len, prot);
    else if (how->file)
        r = mfile_map(mp, a, len, prot, how->kind == R_FSHARED, how->file, how->off);
    else if (prot && sys_mem_map(mp->ep, a, len, prot | (populate ? 0 : MEM_LAZY)) < 0)
        r = -LX_ENOMEM;
    if (r < 0)
        return r;
    struct region h = *how;
    h.backed = prot != 0 || how->kind == R_SHARED || how->file;
    region_add(mp, a, a + len, &h);
    return 0;
}

static int64_t map_anon(struct mproc *mp, uint64_t a, uint64_t len, int prot, int kind,
                        int populate)
{
    return map_region(mp, a, len, &(struct region){.prot = (uint8_t)prot, .kind = (uint8_t)kind},
                      populate);
}

/* May len bytes be mapped as `how` says: the frames it takes at once, the tables? */
static int64_t admit_region(const struct region *how, uint64_t len, int populate)
{
    uint64_t n = len / PAGE;
    if (how->kind == R_SHARED)
        return mem_admit(n); /* every page now */
    if (how->file)
        return admit(mfile_new_pages(how->file, how->off, len, how->kind == R_FSHARED), n);
    return populate && how->prot ? mem_admit(n) : admit_lazy(n, how->prot);
}

/* mmap's [addr, addr+len) as `how` says, replacing what was there: limits and admission first. */
static int64_t map_new(struct mproc *mp, uint64_t addr, uint64_t len, const struct region *how,
                       int populate)
{
    uint64_t n = len / PAGE, old = region_pages_in(mp, addr, addr + len, 0);
    int64_t data = (how->prot & PROT_W) && !region_kind_shared(how->kind) ? (int64_t)n : 0;
    data -= (int64_t)region_pages_in(mp, addr, addr + len, 1);
    if (within_limits(mp, (int64_t)(n - old), data) < 0 || region_reserve(3) < 0 ||
        admit_region(how, len, populate) < 0)
        return -LX_ENOMEM;
    if (old && unmap_range(mp, addr, addr + len) < 0) /* MAP_FIXED replaces what was there */
        return -LX_ENOMEM;
    return map_region(mp, addr, len, how, populate);
}

/* Linux's order of checks; addresses end at STACK_TOP (Linux's TASK_SIZE). */
int64_t do_mmap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1], flags = a[3], off = a[5];
    int prot = (int)(a[2] & 7), fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    int file = !(flags & MAP_ANONYMOUS),
        shared =
            (flags & MAP_TYPE) == MAP_SHARED || (file && (flags & MAP_TYPE) == MAP_SHARED_VALIDATE);
    if (off & (PAGE - 1))
        return -LX_EINVAL; /* checked first, even before the descriptor */
    if (file && (int32_t)a[4] < 0)
        return -LX_EBADF;
    if (!len || (!shared && (flags & MAP_TYPE) != MAP_PRIVATE))
        return -LX_EINVAL;
    if (len > STACK_TOP)
        return -LX_ENOMEM; /* more than the address space (also: rounding cannot wrap) */
    len = ROUND_UP(len);
    if (file && off > (uint64_t)INT64_MAX - len)
        return -LX_EOVERFLOW; /* past the largest file offset */
    if (fixed && addr > STACK_TOP - len)
        return -LX_ENOMEM;
    if (fixed && (addr & (PAGE - 1)))
        return -LX_EINVAL;
    if (fixed && addr < MIN_MAP_ADDR)
        return -LX_EPERM; /* Linux's mmap_min_addr */
    if (!fixed && !(addr = region_gap(mp, len, ROUND_UP(mp->brk) + BRK_GAP, MMAP_TOP)))
        return -LX_ENOMEM;
    if ((flags & MAP_FIXED_NOREPLACE) && region_pages_in(mp, addr, addr + len, 0))
        return -LX_EEXIST;
    static uint64_t shared_objects; /* R_SHARED memory made so far: its number (futex keys) */
    struct region how = {.prot = (uint8_t)prot, .kind = shared ? R_SHARED : R_ANON};
    if ((flags & MAP_TYPE) == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN))
        return -LX_EOPNOTSUPP;
    if (file) { /* the descriptor: vfs checks it (EBADF, EACCES, ENODEV) */
        int writable;
        int64_t r = mfile_open(mp, (int32_t)a[4], shared && (prot & PROT_W), &how.file, &writable);
        if (r < 0)
            return r;
        if (r == VFS_MAP_FILE) { /* else /dev/zero: anonymous memory */
            how.kind = shared ? R_FSHARED : R_FILE;
            how.off = off;
            how.maywrite = (uint8_t)(!shared || writable);
        }
    }
    if (how.kind == R_SHARED)
        how.obj = ++shared_objects;
    int64_t r = map_new(mp, addr, len, &how, (flags & MAP_POPULATE) != 0);
    mfile_drop(how.file); /* the region holds it now, or nothing does */
    return r < 0 ? r : (int64_t)addr;
}

int64_t do_munmap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1];
    if ((addr & (PAGE - 1)) || addr > STACK_TOP || len > STACK_TOP - addr || !len)
        return -LX_EINVAL;
    len = ROUND_UP(len); /* addr + len stays <= STACK_TOP, a page boundary */
    if (region_reserve(2) < 0)
        return -LX_ENOMEM; /* splitting a region needs an entry */
    return unmap_range(mp, addr, addr + len);
}

/* Pages of [a, b) (all mapped) that prot would make data, and that would need markers. */
static void prot_growth(struct mproc *mp, uint64_t a, uint64_t b, int prot, uint64_t *data,
                        uint64_t *unbacked)
{
    *data = *unbacked = 0;
    for (struct region *r = region_from(mp, a); !region_is_end(mp, r) && r->start < b;
         r = r->next) {
        uint64_t n = ((r->end < b ? r->end : b) - (r->start > a ? r->start : a)) / PAGE;
        if ((prot & PROT_W) && !(r->prot & PROT_W) && r->kind != R_STACK &&
            !region_kind_shared(r->kind))
            *data += n;
        if (prot && !r->backed)
            *unbacked += n;
    }
}

/*
 * As Linux: the mapped part of the range from addr on gets prot; a hole
 * (or nothing mapped at addr) is ENOMEM, after the part before it changed.
 */
int64_t do_mprotect(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1], data, unbacked;
    int prot = (int)(a[2] & 7);
    if (addr & (PAGE - 1))
        return -LX_EINVAL;
    if (!len)
        return 0;
    if (len > ~0ull - (PAGE - 1) || ROUND_UP(len) > ~0ull - addr)
        return -LX_ENOMEM; /* wraps */
    len = ROUND_UP(len);
    if (a[2] & ~7ull)
        return -LX_EINVAL;
    if (addr + len > STACK_TOP)
        return -LX_ENOMEM; /* nothing is mapped there */
    uint64_t end = covered_to(mp, addr, addr + len);
    if (end == addr)
        return -LX_ENOMEM;
    for (struct region *r = region_from(mp, addr); !region_is_end(mp, r) && r->start < end;
         r = r->next)
        if ((prot & PROT_W) && ((r->kind == R_FSHARED && !r->maywrite) || r->kind == R_VDSO))
            return -LX_EACCES; /* a shared file whose descriptor could not write; the clock */
    prot_growth(mp, addr, end, prot, &data, &unbacked);
    if (within_limits(mp, 0, (int64_t)data) < 0 || admit_lazy(unbacked, prot) < 0 ||
        region_reserve(2) < 0)
        return -LX_ENOMEM; /* decided before anything changed */
    region_cut(mp, addr, end);
    if (sys_mem_protect(mp->ep, addr, end - addr, prot) < 0) /* pages and markers */
        return -LX_ENOMEM;
    struct region *r = region_from(mp, addr);
    for (; !region_is_end(mp, r) && r->start < end; r = r->next) {
        if (prot && !r->backed &&
            sys_mem_map(mp->ep, r->start, r->end - r->start, prot | MEM_LAZY) < 0)
            return -LX_ENOMEM;
        region_set(mp, r, prot, r->backed || prot);
        if (r->kind == R_FSHARED && (prot & PROT_W))
            mfile_writable(r->file);
    }
    for (r = region_from(mp, addr); !region_is_end(mp, r) && r->start < end; r = r->next)
        r = region_merge(mp, r);
    if (!region_is_end(mp, r))
        region_merge(mp, r); /* the one after may join the last */
    return end < addr + len ? -LX_ENOMEM : 0;
}

int64_t do_brk(struct mproc *mp, const uint64_t *a)
{
    uint64_t want = a[0];
    if (want < mp->brk_start || want > MMAP_TOP)
        return (int64_t)mp->brk;
    uint64_t top = ROUND_UP(mp->brk), new_top = ROUND_UP(want), n = (new_top - top) / PAGE;
    if (new_top > top) {
        if (region_pages_in(mp, top, new_top, 0) || within_limits(mp, (int64_t)n, (int64_t)n) < 0 ||
            admit_lazy(n, PROT_R | PROT_W) < 0 || region_reserve(1) < 0 ||
            map_anon(mp, top, new_top - top, PROT_R | PROT_W, R_BRK, 0) < 0)
            return (int64_t)mp->brk; /* unchanged: musl sees failure */
    } else if (new_top < top) {
        if (region_reserve(2) < 0 || unmap_range(mp, new_top, top) < 0)
            return (int64_t)mp->brk;
    }
    mp->brk = want;
    return (int64_t)want;
}

/*
 * Drop the pages of the mapped [a, b) (Linux's DONTNEED): touching them
 * again gives zeros, or the file's pages again for a private file mapping;
 * shared pages stay, as Linux keeps them in the shared object.
 */
static void drop_pages(struct mproc *mp, uint64_t a, uint64_t b)
{
    for (struct region *r = region_from(mp, a); !region_is_end(mp, r) && r->start < b;
         r = r->next) {
        uint64_t s = r->start > a ? r->start : a, e = r->end < b ? r->end : b;
        if (!r->backed || region_kind_shared(r->kind))
            continue;
        sys_mem_unmap(mp->ep, s, e - s); /* its page tables stay: the markers need no frame */
        if (r->kind == R_FILE) {         /* read again (if that fails, a touch is SIGBUS) */
            mfile_map(mp, s, e - s, r->prot, 0, r->file, r->off + (s - r->start));
            continue;
        }
        sys_mem_map(mp->ep, s, e - s, (r->prot ? r->prot : PROT_R) | MEM_LAZY);
        if (!r->prot)
            sys_mem_protect(mp->ep, s, e - s, 0);
    }
}

/* Advice Linux knows (MADV_NORMAL ... MADV_POPULATE_WRITE), except the ones it has not. */
static int advice_known(uint64_t advice)
{
    return advice <= MADV_DONTNEED || (advice >= MADV_FREE && advice <= 23);
}

/*
 * DONTNEED and FREE drop the pages (zeros after); other advice may be
 * ignored by definition. A hole in the range is ENOMEM, after the rest.
 */
int64_t do_madvise(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1], advice = a[2];
    if ((addr & (PAGE - 1)) || !advice_known(advice) || len > ~0ull - (PAGE - 1) ||
        ROUND_UP(len) > ~0ull - addr)
        return -LX_EINVAL; /* unaligned, unknown, or a range that wraps */
    if (!len)
        return 0;
    uint64_t b = addr + ROUND_UP(len);
    for (struct region *r = region_from(mp, addr); !region_is_end(mp, r) && r->start < b;
         r = r->next)
        if (advice == MADV_FREE && (region_kind_shared(r->kind) || r->file))
            return -LX_EINVAL; /* private anonymous memory only, as Linux */
    if (advice == MADV_DONTNEED || advice == MADV_FREE)
        drop_pages(mp, addr, b);
    return region_pages_in(mp, addr, b, 0) < (b - addr) / PAGE ? -LX_ENOMEM : 0;
}

/* The flags and the range are checked; shared file mappings in it are written back (-EIO). */
int64_t do_msync(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], flags = a[2], len = (a[1] + PAGE - 1) & ~(PAGE - 1); /* may wrap to 0 */
    if ((flags & ~(uint64_t)(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) || (addr & (PAGE - 1)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -LX_EINVAL;
    if (len > ~0ull - addr)
        return -LX_ENOMEM;
    if (covered_to(mp, addr, addr + len) < addr + len)
        return -LX_ENOMEM;
    return write_back(mp, addr, addr + len) < 0 ? -LX_EIO : 0;
}

/*
 * mremap: shrink in place, grow in place if the pages after are free, or
 * (MREMAP_MAYMOVE) move: the kernel moves the page table entries, pages and
 * demand-zero markers alike (KC_MEM_MOVE), so no page is copied or touched.
 * MREMAP_FIXED moves to new_addr, replacing what was there.
 */
int64_t do_mremap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], old_len = a[1], new_len = a[2], flags = a[3], to = a[4];
    if ((flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
        ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) || (addr & (PAGE - 1)))
        return -LX_EINVAL;
    if (old_len > STACK_TOP || new_len > STACK_TOP)
        return -LX_EINVAL;
    old_len = ROUND_UP(old_len);
    new_len = ROUND_UP(new_len);
    if (!new_len || !old_len)
        return -LX_EINVAL; /* old_len 0 is for shared mappings only */
    if ((flags & MREMAP_FIXED) &&
        ((to & (PAGE - 1)) || to > STACK_TOP - new_len || to < MIN_MAP_ADDR ||
         (to < addr + old_len && addr < to + new_len)))
        return -LX_EINVAL;
    if (!(flags & MREMAP_FIXED) && old_len >= new_len) { /* Linux looks at nothing else */
        if (old_len > new_len && addr < STACK_TOP && new_len < STACK_TOP - addr) {
            if (region_reserve(2) < 0)
                return -LX_ENOMEM;
            uint64_t e = old_len > STACK_TOP - addr ? STACK_TOP : addr + old_len;
            unmap_range(mp, addr + new_len, e);
        }
        return (int64_t)addr;
    }
    struct region *r = region_from(mp, addr);
    if (region_is_end(mp, r) || r->start > addr || old_len > r->end - addr)
        return -LX_EFAULT;         /* not all in one region */
    struct region how = *r, grown; /* as the region at addr, and as its growth past old_len */
    how.off = region_has_offset(r) ? r->off + (addr - r->start) : 0;
    grown = how;
    grown.off += region_has_offset(r) ? old_len : 0;
    uint64_t grow = new_len > old_len ? (new_len - old_len) / PAGE : 0;
    int64_t data = (how.prot & PROT_W) && how.kind != R_STACK && !region_kind_shared(how.kind)
                       ? (int64_t)grow
                       : 0;
    if (within_limits(mp, (int64_t)grow, data) < 0 || admit_region(&grown, grow * PAGE, 0) < 0 ||
        region_reserve(6) < 0) /* two cuts at each end, the moved region, its growth */
        return -LX_ENOMEM;
    uint64_t end = addr + old_len;
    if (!(flags & MREMAP_FIXED) && new_len - old_len <= STACK_TOP - end &&
        !region_pages_in(mp, end, addr + new_len, 0)) { /* in place */
        int64_t e = map_region(mp, end, new_len - old_len, &grown, 0);
        return e < 0 ? e : (int64_t)addr;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -LX_ENOMEM;
    if (!(flags & MREMAP_FIXED) &&
        !(to = region_gap(mp, new_len, ROUND_UP(mp->brk) + BRK_GAP, MMAP_TOP)))
        return -LX_ENOMEM;
    if (flags & MREMAP_FIXED)
        unmap_range(mp, to, to + new_len);
    uint64_t keep = old_len < new_len ? old_len : new_len;
    if (how.backed && sys_mem_move(mp->ep, addr, to, keep) < 0)
        return -LX_ENOMEM;
    mfile_hold(how.file); /* while no region names it */
    unmap_range(mp, addr, addr + old_len);
    region_add(mp, to, to + keep, &how);
    mfile_drop(how.file);
    int64_t e = new_len > keep ? map_region(mp, to + keep, new_len - keep, &grown, 0) : 0;
    return e < 0 ? e : (int64_t)to;
}

/*
 * exec: the stack's length (RLIMIT_STACK's soft limit, at most STACK_MAX,
 * and at least the arguments' pages and STACK_MIN below them) and the
 * admission of the new image: RLIMIT_AS for all of it, frames for the
 * program's pages and the arguments' (the rest of the stack is
 * demand-zero). Entries for the regions are reserved. 0 or -ENOMEM.
 */
int64_t mem_exec_layout(struct mproc *mp, uint64_t image_pages, uint64_t arg_bytes,
                        uint64_t *stack_len)
{
    uint64_t args = ROUND_UP(arg_bytes), want = mp->rlim_stack[0] & ~(PAGE - 1);
    want = want < STACK_MAX ? want : STACK_MAX;
    *stack_len = want > args + STACK_MIN ? want : args + STACK_MIN;
    uint64_t total = image_pages + *stack_len / PAGE, fresh = image_pages + args / PAGE;
    int64_t old = mem_pages(mp);
    if (old < 0 || total > mp->rlim_as[0] / PAGE || region_reserve(80) < 0 || /* 73 segments */
        (fresh > (uint64_t)old && mem_admit(fresh - (uint64_t)old) < 0))
        return -LX_ENOMEM;
    return 0;
}

/* exec, after the point of no return: the image's regions, then the stack's (demand-zero). */
int64_t mem_exec_stack(struct mproc *mp, uint64_t stack_len)
{
    return map_anon(mp, STACK_TOP - stack_len, stack_len, PROT_R | PROT_W, R_STACK, 0);
}

void mem_exec_segment(struct mproc *mp, uint64_t addr, uint64_t len, int prot)
{
    region_add(mp, addr, addr + len,
               &(struct region){.prot = (uint8_t)prot, .kind = R_IMAGE, .backed = 1});
}
