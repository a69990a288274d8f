/*
 * Per-process page tables and safe access to user memory.
 *
 * Every process has its own PML4. The upper half (entries 256-511) is the
 * kernel's and is shared by copying the boot PML4's entries; the lower half
 * holds only pages the process owns (PTE_NOFREE marks frames it merely maps,
 * such as MMIO; PTE_DMA frames it owns that only KC_DMA_RELEASE frees; PTE_SHARED frames it
 * owns with others, freed with their last mapping). The kernel never
 * dereferences a user pointer: it walks the page table, checks the U and W bits, and copies through
 * the direct map, so a bad pointer yields E_FAULT, never a kernel fault.
 *
 * vm_epoch moves whenever a user mapping anywhere is removed, downgraded or replaced (unmap,
 * protect, move, a fork's copy-on-write, a COW break, a space freed): translations cached outside
 * the page tables (ipc.c's message buffers) are valid only while it stays. New code that takes a
 * mapping away or changes its frame must move it too.
 */
#include "kernel.h"

uint64_t vm_epoch = 1;

#define IDX(va, level) (((va) >> (12 + 9 * (level))) & 511)
#define LEAF_SPAN (1ull << 21) /* what one leaf table maps */

uint64_t vm_new_space(void)
{
    uint64_t pml4 = frame_alloc();
    if (!pml4)
        return 0;
    uint64_t *src = P2V(read_cr3() & PTE_ADDR), *dst = P2V(pml4);
    for (int i = 256; i < 512; i++)
        dst[i] = src[i];
    return pml4;
}

/* An owned leaf goes: its frame loses a mapping, and is freed with its last (frame_unshare). */
static void release(uint64_t e)
{
    if (!(e & PTE_DMA))
        frame_unshare(e & PTE_ADDR);
}

static void free_table(uint64_t table_pa, int level, uint64_t *pages)
{
    uint64_t *t = P2V(table_pa);
    for (int i = 0; i < (level == 3 ? 256 : 512); i++) {
        if (!(t[i] & PTE_P))
            continue;
        if (level > 0)
            free_table(t[i] & PTE_ADDR, level - 1, pages);
        else if (!(t[i] & (PTE_NOFREE | PTE_DMA))) {
            release(t[i]);
            if (pages)
                (*pages)--;
        }
    }
    frame_free(table_pa);
}

void vm_free_space(uint64_t pml4)
{
    vm_epoch++;
    free_table(pml4, 3, 0);
}

/* The leaf entry for va, creating intermediate tables if asked. */
uint64_t *vm_pte(uint64_t pml4, uint64_t va, int create)
{
    uint64_t *t = P2V(pml4);
    for (int level = 3; level > 0; level--) {
        uint64_t *e = &t[IDX(va, level)];
        if (!(*e & PTE_P)) {
            uint64_t pa;
            if (!create || !(pa = frame_alloc()))
                return 0;
            *e = pa | PTE_P | PTE_W | PTE_U;
        }
        t = P2V(*e & PTE_ADDR);
    }
    return &t[IDX(va, 0)];
}

int user_range_ok(uint64_t va, uint64_t len)
{
    return va < USER_TOP && len <= USER_TOP - va;
}

uint64_t prot_to_pte(uint64_t prot)
{
    return PTE_P | PTE_U | (prot & PROT_W ? PTE_W : 0) | (prot & PROT_X ? 0 : PTE_NX);
}

/* Map one page; the caller checked that va is free and page aligned. */
int vm_map(struct proc *p, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pte = vm_pte(p->pml4, va, 1);
    if (!pte)
        return -E_NOMEM;
    *pte = pa | flags;
    if (!(flags & PTE_NOFREE))
        p->pages++;
    return 0;
}

/* 1 if no page in [va, va+len) is mapped. */
int vm_range_free(struct proc *p, uint64_t va, uint64_t len)
{
    for (uint64_t a = va; a < va + len; a += PAGE_SIZE) {
        uint64_t *pte = vm_pte(p->pml4, a, 0);
        if (pte && (*pte & (PTE_P | PTE_LAZY)))
            return 0;
    }
    return 1;
}

/*
 * Give c p's address space, copy-on-write: each private page's frame gets one more mapping
 * (frame_share) and, if writable, becomes read-only with PTE_COW in both (vm_fault copies at the
 * first write). Markers stay markers, MMIO and PTE_SHARED pages are shared, DMA pages copied.
 */
int vm_copy_space(struct proc *p, struct proc *c)
{
    uint64_t *l4 = P2V(p->pml4);
    vm_epoch++; /* p's writable pages become copy-on-write */
    for (uint64_t i4 = 0; i4 < 256; i4++) {
        if (!(l4[i4] & PTE_P))
            continue;
        uint64_t *l3 = P2V(l4[i4] & PTE_ADDR);
        for (uint64_t i3 = 0; i3 < 512; i3++) {
            if (!(l3[i3] & PTE_P))
                continue;
            uint64_t *l2 = P2V(l3[i3] & PTE_ADDR);
            for (uint64_t i2 = 0; i2 < 512; i2++) {
                if (!(l2[i2] & PTE_P))
                    continue;
                uint64_t *l1 = P2V(l2[i2] & PTE_ADDR);
                for (uint64_t i1 = 0; i1 < 512; i1++) {
                    uint64_t e = l1[i1], va = (i4 << 39) | (i3 << 30) | (i2 << 21) | (i1 << 12);
                    uint64_t pa = e & PTE_ADDR;
                    if (!(e & PTE_P)) {
                        uint64_t *lazy = e & PTE_LAZY ? vm_pte(c->pml4, va, 1) : 0;
                        if (e & PTE_LAZY && !lazy)
                            return -E_NOMEM;
                        if (lazy)
                            *lazy = e; /* the child's page is demand-zero too */
                        continue;
                    }
                    if (e & PTE_DMA) { /* the child's copy is plain memory */
                        if (!(pa = frame_alloc()))
                            return -E_NOMEM;
                        memcpy(P2V(pa), P2V(e & PTE_ADDR), PAGE_SIZE);
                        e &= ~PTE_DMA;
                    } else if (!(e & PTE_NOFREE)) {
                        if (frame_share(pa) < 0)
                            return -E_NOMEM;
                        if ((e & (PTE_W | PTE_SHARED)) == PTE_W)
                            l1[i1] = e = (e & ~PTE_W) | PTE_COW;
                    }
                    if (vm_map(c, va, pa, e & ~PTE_ADDR) < 0) {
                        if (!(e & PTE_NOFREE))
                            release(pa);
                        return -E_NOMEM;
                    }
                }
            }
        }
    }
    return 0;
}

/*
 * Visit the leaf entries of mapped pages in [va, va+len), skipping absent
 * tables whole (so huge ranges are cheap): unmap them (flags == 0) or give
 * them new permission bits. With phys, only the mappings of physical
 * memory it does not own (PTE_NOFREE) in [phys[0], phys[0]+phys[1]).
 * Unmapping frees the leaf tables whose whole 2 MiB lies in the range.
 */
static void vm_walk_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags,
                          const uint64_t *phys)
{
    vm_epoch++;
    for (uint64_t a = va; a < va + len;) {
        uint64_t *t = P2V(p->pml4), *up = 0;
        int level = 3;
        for (; level > 0 && (t[IDX(a, level)] & PTE_P); level--)
            t = P2V(*(up = &t[IDX(a, level)]) & PTE_ADDR);
        if (level > 0) {
            uint64_t span = 1ull << (12 + 9 * level);
            a = (a & ~(span - 1)) + span;
            continue;
        }
        uint64_t *pte = &t[IDX(a, 0)];
        if ((*pte & PTE_LAZY) && !phys) /* a page not touched yet: only its marker changes */
            *pte = flags ? PTE_LAZY | (flags & ~PTE_P) : 0;
        else if ((*pte & PTE_P) &&
                 (!phys || ((*pte & PTE_NOFREE) && (*pte & PTE_ADDR) - phys[0] < phys[1]))) {
            if (flags) {
                *pte = (*pte & (PTE_ADDR | PTE_NOFREE | PTE_DMA | PTE_SHARED | PTE_PCD | PTE_PWT)) |
                       flags;
                if ((*pte & (PTE_W | PTE_NOFREE | PTE_DMA | PTE_SHARED)) == PTE_W &&
                    frame_mappings(*pte & PTE_ADDR) > 1)
                    *pte ^= PTE_W | PTE_COW; /* a frame a fork shares stays copy-on-write */
            } else {
                if (!(*pte & PTE_NOFREE)) {
                    release(*pte);
                    p->pages--;
                }
                *pte = 0;
            }
            __asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
        }
        a += PAGE_SIZE;
        if (!flags && !phys && !(a & (LEAF_SPAN - 1)) && a - LEAF_SPAN >= va) {
            frame_free(*up & PTE_ADDR); /* a leaf table unmapped whole is freed */
            *up = 0;
            __asm__ volatile("invlpg (%0)" ::"r"(a - PAGE_SIZE) : "memory");
        }
    }
}

void vm_unmap_range(struct proc *p, uint64_t va, uint64_t len)
{
    vm_walk_range(p, va, len, 0, 0);
}

/* Unmap every page of p that maps (KC_MAPPHYS) physical memory in [base, base+len). */
void vm_unmap_phys(struct proc *p, uint64_t base, uint64_t len)
{
    vm_walk_range(p, 0, USER_TOP, 0, (const uint64_t[]){base, len});
}

void vm_protect_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags)
{
    vm_walk_range(p, va, len, flags, 0);
}

/*
 * p's own pages [src, src+len) also at [va, va+len) in t (free there), with
 * flags: both mappings become PTE_SHARED. All or nothing: E_FAULT if a
 * source page is absent or not ordinary memory p owns, E_NOMEM.
 */
int vm_share_range(struct proc *p, uint64_t src, struct proc *t, uint64_t va, uint64_t len,
                   uint64_t flags)
{
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        uint64_t *s = vm_pte(p->pml4, src + off, 0);
        if (!s || (*s & (PTE_P | PTE_NOFREE | PTE_DMA)) != PTE_P ||
            (!(*s & PTE_SHARED) && frame_mappings(*s & PTE_ADDR) > 1)) /* not a fork's COW page */
            return -E_FAULT;
    }
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        uint64_t *s = vm_pte(p->pml4, src + off, 0), pa = *s & PTE_ADDR;
        int r = frame_share(pa);
        if (r == 0) {
            *s |= PTE_SHARED;
            if ((r = vm_map(t, va + off, pa, flags | PTE_SHARED)) < 0)
                frame_unshare(pa);
        }
        if (r < 0) {
            vm_unmap_range(t, va, off);
            return -E_NOMEM;
        }
    }
    return 0;
}

/* Zeroed memory for [va, va+len); all or nothing. va must be page aligned. */
int vm_alloc_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags)
{
    for (uint64_t a = va; a < va + len; a += PAGE_SIZE) {
        uint64_t pa = frame_alloc();
        if (!pa || vm_map(p, a, pa, flags) < 0) {
            if (pa)
                frame_free(pa);
            vm_unmap_range(p, va, a - va);
            return -E_NOMEM;
        }
    }
    return 0;
}

/*
 * Demand-zero pages for [va, va+len) (page aligned): markers (PTE_LAZY and
 * the permission bits flags gives, not present) that vm_fault turns into
 * zeroed frames at the first touch. Only page tables are allocated now.
 * All or nothing.
 */
int vm_lazy_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags)
{
    for (uint64_t a = va; a < va + len; a += PAGE_SIZE) {
        uint64_t *pte = vm_pte(p->pml4, a, 1);
        if (!pte) {
            vm_unmap_range(p, va, a - va);
            return -E_NOMEM;
        }
        *pte = PTE_LAZY | (flags & ~PTE_P);
    }
    return 0;
}

/*
 * Move the leaf entries (pages, demand-zero markers) of [from, from+len) to
 * [to, to+len), which the caller checked to be free and apart. The tables
 * come first, so that the move is all or nothing.
 */
int vm_move_range(struct proc *p, uint64_t from, uint64_t to, uint64_t len)
{
    vm_epoch++;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
            uint64_t *src = vm_pte(p->pml4, from + off, 0), *dst;
            if (!src || !(*src & (PTE_P | PTE_LAZY)))
                continue;
            if (!(dst = vm_pte(p->pml4, to + off, 1)))
                return -E_NOMEM;
            if (pass) {
                *dst = *src;
                *src = 0;
                __asm__ volatile("invlpg (%0)" ::"r"(from + off) : "memory");
            }
        }
    return 0;
}

/*
 * A touch of va in p (a write if asked) that found no page, or a write that found a
 * copy-on-write one: a demand-zero marker allowing that access gets a zeroed frame; a COW page
 * gets a copy of its frame, or only its write bit if no other mapping is left. 0, or -E_FAULT
 * (a real fault), or -E_NOMEM (no frame: for a Linux process, none above the servers' reserve).
 */
int vm_fault(struct proc *p, uint64_t va, int write)
{
    uint64_t *pte = va < USER_TOP ? vm_pte(p->pml4, va, 0) : 0, pa, old;
    int cow = pte && write && (*pte & (PTE_P | PTE_U | PTE_COW)) == (PTE_P | PTE_U | PTE_COW);
    if (!cow && (!pte || !(*pte & PTE_LAZY) || !(*pte & PTE_U) || (write && !(*pte & PTE_W))))
        return -E_FAULT;
    if (!cow || frame_mappings(old = *pte & PTE_ADDR) > 1) {
        if ((p->user && frame_free_count() <= USER_RESERVE_FRAMES(frame_total())) ||
            (!cow && p->priv.max_pages && p->pages >= p->priv.max_pages) || !(pa = frame_alloc()))
            return -E_NOMEM;
        if (cow) {
            vm_epoch++;
            memcpy(P2V(pa), P2V(old), PAGE_SIZE);
            frame_unshare(old);
        }
        *pte = pa | (*pte & ~(PTE_ADDR | PTE_LAZY)) | PTE_P;
        p->pages += !cow;
    }
    if (cow)
        *pte ^= PTE_COW | PTE_W;
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
    return 0;
}

/* Physical address behind a user address (a demand-zero page gets its frame), 0 if not
 * accessible. */
uint64_t user_phys(struct proc *p, uint64_t va, int write)
{
    uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0), e = p->pml4 | need;
    if (va >= USER_TOP)
        return 0;
    for (int shift = 39; shift >= 12; shift -= 9) {
        e = ((uint64_t *)P2V(e & PTE_ADDR))[(va >> shift) & 511];
        if ((e & need) != need)
            return shift == 12 && vm_fault(p, va, write) == 0 /* demand-zero, copy-on-write */
                       ? user_phys(p, va, write)
                       : 0;
    }
    if ((e & PTE_ADDR) >= PHYS_MAP_LIMIT) /* MMIO above the direct map: not a buffer */
        return 0;
    return (e & PTE_ADDR) | (va & (PAGE_SIZE - 1));
}

/* 1 if all of [va, va+len) is user memory of p, writable if asked. */
int user_range_mapped(struct proc *p, uint64_t va, uint64_t len, int write)
{
    if (!user_range_ok(va, len))
        return 0;
    for (uint64_t a = va & ~(PAGE_SIZE - 1); a < va + len; a += PAGE_SIZE)
        if (!user_phys(p, a, write))
            return 0;
    return 1;
}

#define COPY_PAGES 17 /* pages a copy of up to 64 KiB touches on one side */

/* The pages of [va, va+len) of p (len <= 64 KiB), walked once into pa[]: 1, or 0 if any is not
 * user memory of p (writable if asked). */
static int user_pages(struct proc *p, uint64_t va, uint64_t len, int write, uint64_t *pa)
{
    if (!user_range_ok(va, len))
        return 0;
    for (uint64_t a = va & ~(PAGE_SIZE - 1), i = 0; a < va + len; a += PAGE_SIZE, i++)
        if (!(pa[i] = user_phys(p, a, write)))
            return 0;
    return 1;
}

/*
 * Copy len bytes; either side may be a user range (proc != NULL) or kernel
 * memory. Both ranges are checked before the first byte moves. Up to 64 KiB
 * each page is walked once (translated while checked); beyond, all is checked,
 * then copied in windows of 64 KiB (each walked once more).
 */
static int copy_any(struct proc *sp, uint64_t src, struct proc *dp, uint64_t dst, uint64_t len)
{
    uint64_t spa[COPY_PAGES], dpa[COPY_PAGES], s0 = src & ~(PAGE_SIZE - 1),
                                               d0 = dst & ~(PAGE_SIZE - 1);
    if (len <= (COPY_PAGES - 1) * PAGE_SIZE) {
        if ((sp && !user_pages(sp, src, len, 0, spa)) || (dp && !user_pages(dp, dst, len, 1, dpa)))
            return -E_FAULT;
        while (len) {
            uint64_t n = len, s = src, d = dst;
            if (sp) {
                s = (uint64_t)P2V(spa[(src - s0) / PAGE_SIZE] | (src & (PAGE_SIZE - 1)));
                n = n < PAGE_SIZE - (src & 4095) ? n : PAGE_SIZE - (src & 4095);
            }
            if (dp) {
                d = (uint64_t)P2V(dpa[(dst - d0) / PAGE_SIZE] | (dst & (PAGE_SIZE - 1)));
                n = n < PAGE_SIZE - (dst & 4095) ? n : PAGE_SIZE - (dst & 4095);
            }
            memcpy((void *)d, (const void *)s, n);
            src += n, dst += n, len -= n;
        }
        return 0;
    }
    if ((sp && !user_range_mapped(sp, src, len, 0)) || (dp && !user_range_mapped(dp, dst, len, 1)))
        return -E_FAULT;
    for (uint64_t n; len; src += n, dst += n, len -= n) /* checked: each window cannot fail */
        copy_any(sp, src, dp, dst, n = len < 16 * PAGE_SIZE ? len : 16 * PAGE_SIZE);
    return 0;
}

int copy_from_user(struct proc *p, uint64_t src, void *dst, uint64_t len)
{
    return copy_any(p, src, 0, (uint64_t)dst, len);
}

int copy_to_user(struct proc *p, uint64_t dst, const void *src, uint64_t len)
{
    return copy_any(0, (uint64_t)src, p, dst, len);
}

int copy_between(struct proc *sp, uint64_t src, struct proc *dp, uint64_t dst, uint64_t len)
{
    return copy_any(sp, src, dp, dst, len);
}

/*
 * New zeroed pages for [va, va+len) in t, the first srclen bytes copied
 * from src (in sp, or kernel memory if sp is NULL). Written through the
 * direct map, so read-only pages can be filled. All or nothing.
 */
int vm_alloc_fill(struct proc *t, uint64_t va, uint64_t len, uint64_t flags, struct proc *sp,
                  uint64_t src, uint64_t srclen)
{
    int r = vm_alloc_range(t, va, len, flags);
    for (uint64_t off = 0; r == 0 && off < srclen; off += PAGE_SIZE) {
        uint64_t n = srclen - off < PAGE_SIZE ? srclen - off : PAGE_SIZE;
        uint64_t frame = *vm_pte(t->pml4, va + off, 0) & PTE_ADDR;
        if (copy_any(sp, src + off, 0, (uint64_t)P2V(frame), n) < 0) {
            vm_unmap_range(t, va, len);
            r = -E_FAULT;
        }
    }
    return r;
}
