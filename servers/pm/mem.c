/*
 * The memory map of a Linux process: brk above the program, anonymous
 * mmap regions allocated downwards from MMAP_TOP, the stack at the top.
 * pm keeps the regions (so PROT_NONE reservations, which musl uses, can be
 * made accessible later with mprotect); the kernel maps and unmaps the
 * pages and counts them, and pm holds that count under MEM_LIMIT_PAGES (no
 * count of its own to drift: munmap of brk or program pages just works). File-backed
 * mappings are not supported (ENODEV).
 */
#include "pm.h"

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define PAGE 4096ull
#define ROUND_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* A region entry: start, len; bit 0 of start marks "pages are mapped". */
#define R_MAPPED 1ull
#define R_START(r) ((r)->start & ~R_MAPPED)

void mem_forget(struct mproc *mp)
{
    memset(mp->regions, 0, sizeof(mp->regions));
    mp->mmap_next = MMAP_TOP;
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

/* Cut regions so that none straddles a or b. */
static int region_cut(struct mproc *mp, uint64_t a, uint64_t b)
{
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &mp->regions[i];
        uint64_t s = R_START(r), e = s + r->len;
        for (int k = 0; k < 2 && r->len; k++) {
            uint64_t at = k ? b : a;
            if (at > s && at < e) {
                if (!region_new(mp, at, e - at, (r->start & R_MAPPED) != 0))
                    return -LX_ENOMEM;
                r->len = at - s;
                e = at;
            }
        }
    }
    return 0;
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

static int fits(struct mproc *mp, uint64_t pages)
{
    struct sysinfo s;
    struct proc_info info;
    if (sys_proc_info(mp->ep, &info) < 0 || info.pages + pages > MEM_LIMIT_PAGES)
        return 0;
    return sys_sysinfo(&s) == 0 && s.free_frames > pages + 1024; /* keep a reserve for servers */
}

int64_t mem_map_anon(struct mproc *mp, uint64_t addr, uint64_t len, int prot, int fixed)
{
    len = ROUND_UP(len);
    if (!fixed) {
        if (mp->mmap_next - len < ROUND_UP(mp->brk) + (64ull << 20))
            return -LX_ENOMEM;
        addr = mp->mmap_next - len;
    }
    if (prot && !fits(mp, len / PAGE))
        return -LX_ENOMEM;
    if (region_cut(mp, addr, addr + len) < 0)
        return -LX_ENOMEM;
    sys_mem_unmap(mp->ep, addr, len);
    region_drop(mp, addr, addr + len);
    if (prot && sys_mem_map(mp->ep, addr, len, prot) < 0)
        return -LX_ENOMEM;
    if (!region_new(mp, addr, len, prot != 0)) {
        sys_mem_unmap(mp->ep, addr, len);
        return -LX_ENOMEM;
    }
    if (!fixed)
        mp->mmap_next = addr;
    return (int64_t)addr;
}

int64_t do_mmap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3];
    if (!len || len > (1ull << 40) || (prot & ~7ull) || !(flags & (MAP_SHARED | MAP_PRIVATE)))
        return -LX_EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return -LX_ENODEV;
    int fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    if (fixed && ((addr & (PAGE - 1)) || addr + ROUND_UP(len) > STACK_TOP - STACK_SIZE || addr < 0x10000))
        return -LX_EINVAL;
    return mem_map_anon(mp, addr, len, (int)(prot & 7), fixed);
}

int64_t do_munmap(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = ROUND_UP(a[1]);
    if ((addr & (PAGE - 1)) || !len || addr + len > STACK_TOP || addr + len < addr)
        return -LX_EINVAL;
    if (region_cut(mp, addr, addr + len) < 0)
        return -LX_ENOMEM;
    sys_mem_unmap(mp->ep, addr, len);
    region_drop(mp, addr, addr + len);
    return 0;
}

int64_t do_mprotect(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], len = ROUND_UP(a[1]);
    int prot = (int)(a[2] & 7);
    if ((addr & (PAGE - 1)) || (a[2] & ~7ull) || addr + len < addr || addr + len > STACK_TOP)
        return -LX_EINVAL;
    if (!len)
        return 0;
    if (region_cut(mp, addr, addr + len) < 0)
        return -LX_ENOMEM;
    /* reserved (PROT_NONE) regions in the range get pages when they become accessible */
    for (int i = 0; i < MAX_REGIONS && prot; i++) {
        struct region *r = &mp->regions[i];
        if (!r->len || (r->start & R_MAPPED) || R_START(r) < addr || R_START(r) + r->len > addr + len)
            continue;
        if (!fits(mp, r->len / PAGE) || sys_mem_map(mp->ep, R_START(r), r->len, prot) < 0)
            return -LX_ENOMEM;
        r->start |= R_MAPPED;
    }
    return sys_mem_protect(mp->ep, addr, len, prot) < 0 ? -LX_ENOMEM : 0;
}

int64_t do_brk(struct mproc *mp, const uint64_t *a)
{
    uint64_t want = a[0], top = ROUND_UP(mp->brk), new_top = ROUND_UP(want);
    if (want < mp->brk_start || want > mp->mmap_next - (64ull << 20))
        return (int64_t)mp->brk;
    if (new_top > top) {
        if (!fits(mp, (new_top - top) / PAGE) ||
            sys_mem_map(mp->ep, top, new_top - top, PROT_R | PROT_W) < 0)
            return (int64_t)mp->brk; /* unchanged: musl sees failure */
    } else if (new_top < top) {
        sys_mem_unmap(mp->ep, new_top, top - new_top);
    }
    mp->brk = want;
    return (int64_t)want;
}

/* Advice may be ignored by definition (POSIX_MADV_NORMAL and friends). */
int64_t do_madvise(struct mproc *mp, const uint64_t *a)
{
    (void)mp;
    return (a[0] & (PAGE - 1)) ? -LX_EINVAL : 0;
}
