/*
 * The memory map of a Linux process: brk above the program, anonymous
 * mmap regions placed top-down from MMAP_TOP in the first gap, the stack at
 * the top. pm keeps the regions (so PROT_NONE reservations, which musl
 * uses, can be made accessible later with mprotect); the kernel maps and
 * unmaps the pages and counts them. File-backed mappings are not supported
 * (ENODEV).
 *
 * Memory accounting: every way a process gets pages (exec, fork, brk,
 * mmap, mprotect of a reservation) asks mem_admit(), the one place that
 * decides: the process's page count (the kernel's, so munmap of brk or
 * program pages counts too) stays under its limit (MEM_LIMIT_PAGES and its
 * RLIMIT_AS and RLIMIT_DATA), and the new frames, with their page tables,
 * leave the reserve kept for the system servers free.
 */
#include "pm.h"

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define PAGE 4096ull
#define ROUND_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1)) /* callers make sure it cannot wrap */
#define BRK_GAP (64ull << 20) /* pm places mmap regions this far above the break at least */

/* A region entry: start, len; bit 0 of start marks "pages are mapped". */
#define R_MAPPED 1ull
#define R_START(r) ((r)->start & ~R_MAPPED)

/* Frames kept for the system servers: 8 MiB, or 1/32 of memory if that is more. */
static uint64_t reserve_frames(const struct sysinfo *s)
{
    return s->total_frames / 32 > 2048 ? s->total_frames / 32 : 2048;
}

/* The most pages mp may have: the system's limit, or a lower RLIMIT_AS or RLIMIT_DATA. */
uint64_t mem_limit_pages(const struct mproc *mp)
{
    uint64_t n = MEM_LIMIT_PAGES;
    n = mp->rlim_as[0] / PAGE < n ? mp->rlim_as[0] / PAGE : n;
    return mp->rlim_data[0] / PAGE < n ? mp->rlim_data[0] / PAGE : n;
}

/*
 * May a process with mp's limits own `total` pages, `fresh` of them frames
 * not in use now? 0 or -ENOMEM. The frames for their page tables (one in
 * 512, and a few more) are counted against the servers' reserve too.
 */
int64_t mem_admit(const struct mproc *mp, uint64_t total, uint64_t fresh)
{
    struct sysinfo s;
    if (total > mem_limit_pages(mp))
        return -LX_ENOMEM;
    if (!fresh)
        return 0;
    uint64_t need = fresh + fresh / 512 + 8;
    if (sys_sysinfo(&s) < 0 || s.free_frames < need || s.free_frames - need < reserve_frames(&s))
        return -LX_ENOMEM;
    return 0;
}

/* The pages the kernel counts for mp now, or -1 (then nothing is admitted). */
int64_t mem_pages(const struct mproc *mp)
{
    struct proc_info info;
    return sys_proc_info(mp->ep, &info) < 0 ? -1 : (int64_t)info.pages;
}

/* May mp map n more pages? */
static int64_t mem_grow(const struct mproc *mp, uint64_t n)
{
    int64_t have = mem_pages(mp);
    return have < 0 ? -LX_ENOMEM : mem_admit(mp, (uint64_t)have + n, n);
}

void mem_forget(struct mproc *mp)
{
    memset(mp->regions, 0, sizeof(mp->regions));
}

/* Free region entries: an operation that may need k of them checks first. */
static int regions_free(const struct mproc *mp)
{
    int n = 0;
    for (int i = 0; i < MAX_REGIONS; i++)
        n += !mp->regions[i].len;
    return n;
}

static struct region *region_new(struct mproc *mp, uint64_t start, uint64_t len, int mapped)
{
    for (int i = 0; i < MAX_REGIONS; i++)
        if (!mp->regions[i].len) {
            mp->regions[i] = (struct region){start | (mapped ? R_MAPPED : 0), len};
            return &mp->regions[i];
        }
    return 0;
}

/* A new mapping's region: joined to a neighbour in the same state, so that the table lasts. */
static void region_add(struct mproc *mp, uint64_t start, uint64_t len, int mapped)
{
    uint64_t flag = mapped ? R_MAPPED : 0;
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &mp->regions[i];
        if (!r->len || (r->start & R_MAPPED) != flag)
            continue;
        if (R_START(r) + r->len == start) {
            r->len += len;
            return;
        }
        if (start + len == R_START(r)) {
            r->start = start | flag;
            r->len += len;
            return;
        }
    }
    region_new(mp, start, len, mapped);
}

/* A region overlapping [a, b), or 0. */
static struct region *region_over(struct mproc *mp, uint64_t a, uint64_t b)
{
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &mp->regions[i];
        if (r->len && R_START(r) < b && a < R_START(r) + r->len)
            return r;
    }
    return 0;
}

/* Cut regions so that none straddles a or b (needs at most 2 free entries). */
static void region_cut(struct mproc *mp, uint64_t a, uint64_t b)
{
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &mp->regions[i];
        uint64_t s = R_START(r), e = s + r->len;
        for (int k = 0; k < 2 && r->len; k++) {
            uint64_t at = k ? b : a;
            if (at > s && at < e) {
                region_new(mp, at, e - at, (r->start & R_MAPPED) != 0);
                r->len = at - s;
                e = at;
            }
        }
    }
}

/* Forget the regions inside [a, b) (already cut). */
static void region_drop(struct mproc *mp, uint64_t a, uint64_t b)
{
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &mp->regions[i];
        if (r->len && R_START(r) >= a && R_START(r) + r->len <= b)
            r->len = 0;
    }
}

/* Where a new region of len bytes goes: the highest gap below MMAP_TOP, BRK_GAP above brk. */
static uint64_t mmap_place(struct mproc *mp, uint64_t len)
{
    uint64_t floor = ROUND_UP(mp->brk) + BRK_GAP, top = MMAP_TOP;
    for (;;) {
        if (len > top || top - len < floor)
            return 0;
        struct region *r = region_over(mp, top - len, top);
        if (!r)
            return top - len;
        top = R_START(r); /* below it: top only goes down, so this ends */
    }
}

/* An anonymous mapping of len bytes (page multiple), at addr if fixed (checked by the caller). */
static int64_t mem_map_anon(struct mproc *mp, uint64_t addr, uint64_t len, int prot, int fixed)
{
    if (!fixed && !(addr = mmap_place(mp, len)))
        return -LX_ENOMEM;
    if (regions_free(mp) < (fixed ? 3 : 1) || (prot && mem_grow(mp, len / PAGE) < 0))
        return -LX_ENOMEM;
    if (fixed) { /* replaces what was there */
        region_cut(mp, addr, addr + len);
        sys_mem_unmap(mp->ep, addr, len);
        region_drop(mp, addr, addr + len);
    }
    if (prot && sys_mem_map(mp->ep, addr, len, prot) < 0)
        return -LX_ENOMEM; /* not placed by pm over something it does not know of */
    region_add(mp, addr, len, prot != 0);
    return (int64_t)addr;
}

/* Linux's order of checks; addresses end at STACK_TOP (Linux's TASK_SIZE). */
int64_t do_mmap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3], off = a[5];
    int fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    if (!len || (off & (PAGE - 1)) || (prot & ~7ull) || !(flags & (MAP_SHARED | MAP_PRIVATE)))
        return -LX_EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return -LX_ENODEV;
    if (len > STACK_TOP)
        return -LX_ENOMEM; /* more than the address space (also: rounding cannot wrap) */
    len = ROUND_UP(len);
    if (fixed && addr > STACK_TOP - len)
        return -LX_ENOMEM;
    if (fixed && (addr & (PAGE - 1)))
        return -LX_EINVAL;
    if (fixed && addr < MIN_MAP_ADDR)
        return -LX_EPERM; /* Linux's mmap_min_addr */
    return mem_map_anon(mp, addr, len, (int)(prot & 7), fixed);
}

int64_t do_munmap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1];
    if ((addr & (PAGE - 1)) || addr > STACK_TOP || len > STACK_TOP - addr || !len)
        return -LX_EINVAL;
    len = ROUND_UP(len); /* addr + len stays <= STACK_TOP, a page boundary */
    if (regions_free(mp) < 2)
        return -LX_ENOMEM;
    region_cut(mp, addr, addr + len);
    sys_mem_unmap(mp->ep, addr, len);
    region_drop(mp, addr, addr + len);
    return 0;
}

int64_t do_mprotect(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1];
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
    /* reserved (PROT_NONE) regions in the range get pages when they become accessible */
    uint64_t pages = 0;
    for (int i = 0; i < MAX_REGIONS && prot; i++) {
        struct region *r = &mp->regions[i];
        uint64_t s = R_START(r), e = s + r->len;
        if (r->len && !(r->start & R_MAPPED) && e > addr && s < addr + len)
            pages += ((e < addr + len ? e : addr + len) - (s > addr ? s : addr)) / PAGE;
    }
    if (pages) {
        if (regions_free(mp) < 2 || mem_grow(mp, pages) < 0)
            return -LX_ENOMEM; /* decided before anything changed */
        region_cut(mp, addr, addr + len);
        for (int i = 0; i < MAX_REGIONS; i++) {
            struct region *r = &mp->regions[i];
            if (!r->len || (r->start & R_MAPPED) || R_START(r) < addr ||
                R_START(r) + r->len > addr + len)
                continue;
            if (sys_mem_map(mp->ep, R_START(r), r->len, prot) < 0)
                return -LX_ENOMEM;
            r->start |= R_MAPPED;
        }
    }
    return sys_mem_protect(mp->ep, addr, len, prot) < 0 ? -LX_ENOMEM : 0;
}

int64_t do_brk(struct mproc *mp, const uint64_t *a)
{
    uint64_t want = a[0];
    if (want < mp->brk_start || want > MMAP_TOP)
        return (int64_t)mp->brk;
    uint64_t top = ROUND_UP(mp->brk), new_top = ROUND_UP(want);
    if (new_top > top) {
        if (region_over(mp, top, new_top) || mem_grow(mp, (new_top - top) / PAGE) < 0 ||
            sys_mem_map(mp->ep, top, new_top - top, PROT_R | PROT_W) < 0)
            return (int64_t)mp->brk; /* unchanged: musl sees failure */
    } else if (new_top < top) {
        sys_mem_unmap(mp->ep, new_top, top - new_top);
    }
    mp->brk = want;
    return (int64_t)want;
}

/* Advice may be ignored by definition (POSIX_MADV_NORMAL and friends); the range is checked. */
int64_t do_madvise(struct mproc *mp, const uint64_t *a)
{
    (void)mp;
    uint64_t addr = a[0], len = a[1];
    if ((addr & (PAGE - 1)) || len > ~0ull - (PAGE - 1) || ROUND_UP(len) > ~0ull - addr)
        return -LX_EINVAL; /* unaligned, or a range that wraps */
    return len && addr + ROUND_UP(len) > STACK_TOP ? -LX_ENOMEM : 0;
}
