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
#define SPAN(level) (1ull << (12 + 9 * (level))) /* what one entry of that level maps */
#define LEAF_SPAN SPAN(1)                        /* what one leaf table maps */

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

/*
 * The entry of the first leaf table that maps va or, past absent tables, an address after it
 * (*next: va, or where that table's span starts), or of a demand-zero marker above the leaves
 * (not present; *level its level: it stands for its whole span); 0 and *next where to look again
 * when a whole table is absent to its end (or USER_TOP).
 */
static uint64_t *leaf_entry(uint64_t pml4, uint64_t va, uint64_t *next, int *level)
{
    uint64_t *t = P2V(pml4), *e = 0;
    for (*level = 3; *level > 0; --*level) {
        unsigned shift = 12 + 9 * *level, first = IDX(va, *level), i = first,
                 end = *level == 3 ? IDX(USER_TOP, 3) : 512;
        uint64_t any = PTE_P | PTE_LAZY;
        while (i + 4 <= end && !((t[i] | t[i + 1] | t[i + 2] | t[i + 3]) & any))
            i += 4; /* absent entries four at a time, then one at a time */
        while (i < end && !(t[i] & any))
            i++;
        if (i != first) /* where entry i's span starts (past the table's end: the next one's) */
            va = (va & ~((512ull << shift) - 1)) + ((uint64_t)i << shift);
        if (i == end) {
            *next = va;
            return 0;
        }
        if (!(*(e = &t[i]) & PTE_P))
            break; /* a demand-zero marker for its whole span */
        t = P2V(*e & PTE_ADDR);
    }
    *next = va;
    return e;
}

/* va's entry at the lowest level its tables reach (*level): a leaf entry (0), or an absent entry
 * or a demand-zero marker above. va < USER_TOP. */
static uint64_t *lowest(uint64_t pml4, uint64_t va, int *level)
{
    uint64_t *t = P2V(pml4), *e = &t[IDX(va, 3)];
    for (*level = 3; *level && (*e & PTE_P); e = &t[IDX(va, --*level)])
        t = P2V(*e & PTE_ADDR);
    return e;
}

#define FORK_CHUNK 8 /* leaf tables a part of a long call: 16 MiB, at most about 0.3 ms */

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
        else if (!(t[i] & PTE_NOFREE)) { /* as vm_walk_range: DMA frames count, stay */
            release(t[i]);
            if (pages)
                (*pages)--;
        }
    }
    frame_free(table_pa);
}

/* Free up to FORK_CHUNK of p's leaf tables with their pages (p dies, held): 1 if some are left. */
int vm_free_part(struct proc *p)
{
    int tables = 0, level;
    space_changed(p->pml4);
    vm_epoch++;
    for (uint64_t a = 0, *e; a < USER_TOP;)
        if ((e = leaf_entry(p->pml4, a, &a, &level))) { /* absent once freed: the next is found */
            if ((*e & PTE_P) && tables++ == FORK_CHUNK)
                return 1;
            if (*e & PTE_P) /* (a demand-zero span: only its marker) */
                free_table(*e & PTE_ADDR, 0, 0);
            *e = 0;
        }
    return 0;
}

void vm_free_space(uint64_t pml4)
{
    space_changed(pml4); /* its frame may become another space's root */
    vm_epoch++;
    free_table(pml4, 3, 0);
}

/*
 * The entry for va at `level` (0: the leaf), making the tables above it if asked: an absent
 * entry gets an empty table, a demand-zero marker a table of markers like it (its span split).
 */
static uint64_t *vm_pte(uint64_t pml4, uint64_t va, int level, int create)
{
    uint64_t *t = P2V(pml4);
    for (int l = 3; l > level; l--) {
        uint64_t *e = &t[IDX(va, l)], pa, m = *e & PTE_LAZY ? *e : 0;
        if (!(*e & PTE_P)) {
            if (!create || !(pa = m ? frame_alloc_dirty() : frame_alloc())) /* m fills it all */
                return 0;
            for (int i = 0; m && i < 512; i++)
                ((uint64_t *)P2V(pa))[i] = m;
            *e = pa | PTE_P | PTE_W | PTE_U;
        }
        t = P2V(*e & PTE_ADDR);
    }
    return &t[IDX(va, level)];
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
    uint64_t *pte = vm_pte(p->pml4, va, 0, 1);
    if (!pte)
        return -E_NOMEM;
    *pte = pa | flags;
    if (!(flags & PTE_NOFREE))
        p->pages++;
    return 0;
}

/* 1 if no page in [va, va+len) is mapped (absent entries skipped a table at a time). */
int vm_range_free(struct proc *p, uint64_t va, uint64_t len)
{
    int level;
    for (uint64_t a = va, *e, *t, end; a < va + len;) {
        if (!(e = leaf_entry(p->pml4, a, &a, &level)) || a >= va + len)
            continue;
        if (!(*e & PTE_P))
            return 0; /* a demand-zero span */
        for (t = P2V(*e & PTE_ADDR), end = (a | (LEAF_SPAN - 1)) + 1; a < end && a < va + len;
             a += PAGE_SIZE)
            if (t[IDX(a, 0)] & (PTE_P | PTE_LAZY))
                return 0;
    }
    return 1;
}

/*
 * Give c p's address space from *at on, copy-on-write: each private page's frame gets one more
 * mapping (frame_share) and, if writable, becomes read-only with PTE_COW in both (vm_fault copies
 * at the first write). Markers stay markers, MMIO and PTE_SHARED pages are shared, DMA pages
 * copied. Up to FORK_CHUNK leaf tables a call, each entered once in c: 1 and *at where to go on,
 * 0 when done, -E_NOMEM. p is not the loaded space (do_proc_fork).
 */
int vm_copy_space(struct proc *p, struct proc *c, uint64_t *at)
{
    int tables = 0, level;
    space_changed(p->pml4);
    vm_epoch++; /* p's writable pages become copy-on-write */
    for (uint64_t a = *at, *pde, *from, *to; a < USER_TOP;) {
        if (!(pde = leaf_entry(p->pml4, a, &a, &level)))
            continue;
        if (tables++ == FORK_CHUNK) {
            *at = a;
            return 1;
        }
        if (!(to = vm_pte(c->pml4, a, (*pde & PTE_P) ? 0 : level, 1)))
            return -E_NOMEM;
        if (!(*pde & PTE_P)) { /* a demand-zero span: the child's is one too */
            *to = *pde;
            a = (a | (SPAN(level) - 1)) + 1;
            continue;
        }
        for (int i = 0; i < 512; i++) {
            uint64_t e = (from = P2V(*pde & PTE_ADDR))[i], pa = e & PTE_ADDR;
            if (!(e & PTE_P)) {
                to[i] = e & PTE_LAZY ? e : 0; /* the child's page is demand-zero too */
                continue;
            }
            if (e & PTE_DMA) { /* the child's copy is plain memory */
                if (!(pa = frame_alloc()))
                    return -E_NOMEM;
                memcpy(P2V(pa), P2V(e & PTE_ADDR), PAGE_SIZE);
                e &= ~PTE_DMA;
            } else if (!(e & PTE_NOFREE) && frame_share(pa) < 0) {
                return -E_NOMEM;
            } else if ((e & (PTE_W | PTE_SHARED | PTE_NOFREE)) == PTE_W) {
                from[i] = e = (e & ~PTE_W) | PTE_COW;
            }
            to[i] = pa | (e & ~PTE_ADDR);
            c->pages += !(e & PTE_NOFREE);
        }
        a += LEAF_SPAN;
    }
    return 0;
}

/*
 * Visit the leaf entries of mapped pages in [va, va+len), skipping absent
 * tables whole (so huge ranges are cheap): unmap them (flags == 0) or give
 * them new permission bits. With phys, only the mappings of physical
 * memory it does not own (PTE_NOFREE) in [phys[0], phys[0]+phys[1]).
 * Unmapping frees the leaf tables whose whole 2 MiB lies in the range, and stops (1) when it
 * has unmapped budget pages: what is left is found again at once by a walk from va.
 * A demand-zero span across an end of the range is split first (-E_NOMEM if it cannot be,
 * nothing changed); one inside it changes as a whole.
 */
static int vm_walk_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags,
                         const uint64_t *phys, uint64_t budget)
{
    int level;
    space_changed(p->pml4);
    vm_epoch++;
    for (uint64_t i = 0, b = va; !phys && i < 2; b = va + len, i++) /* split spans at the ends */
        while (b < USER_TOP && (*lowest(p->pml4, b, &level) & PTE_LAZY) && level &&
               (b & (SPAN(level) - 1)))
            if (!vm_pte(p->pml4, b, level - 1, 1))
                return -E_NOMEM;
    for (uint64_t a = va; a < va + len;) {
        uint64_t *up = leaf_entry(p->pml4, a, &a, &level), *t, end = (a | (LEAF_SPAN - 1)) + 1,
                 left;
        if (!up)
            continue;
        if (!(*up & PTE_P)) { /* a demand-zero span, in the range whole */
            if (!budget)
                return 1;
            if (!phys)
                *up = flags ? PTE_LAZY | (flags & ~PTE_P) : 0;
            budget -= !flags && !phys;
            a = (a | (SPAN(level) - 1)) + 1;
            continue;
        }
        if (!flags && !phys && a == end - LEAF_SPAN && end <= va + len && budget >= 64 + 512) {
            left = p->pages; /* a leaf table unmapped whole: freed with its pages in one loop */
            free_table(*up & PTE_ADDR, 0, &p->pages);
            *up = 0;
            budget -= 64 + (left - p->pages); /* its scan, and the pages it freed */
            if ((read_cr3() & PTE_ADDR) == p->pml4)
                write_cr3(read_cr3()); /* the loaded space: its translations all go */
            a = end;
            continue;
        }
        for (t = P2V(*up & PTE_ADDR); a < end && a < va + len; a += PAGE_SIZE) {
            uint64_t *pte = &t[IDX(a, 0)];
            if (!budget)
                return 1;
            if ((*pte & PTE_LAZY) && !phys) { /* a page not touched yet: only its marker changes */
                *pte = flags ? PTE_LAZY | (flags & ~PTE_P) : 0;
                budget -= !flags;
            } else if ((*pte & PTE_P) &&
                       (!phys || ((*pte & PTE_NOFREE) && (*pte & PTE_ADDR) - phys[0] < phys[1]))) {
                if (flags) {
                    uint64_t was = *pte;
                    *pte = (*pte &
                            (PTE_ADDR | PTE_NOFREE | PTE_DMA | PTE_SHARED | PTE_PCD | PTE_PWT)) |
                           flags;
                    if ((*pte & (PTE_W | PTE_NOFREE | PTE_DMA)) == PTE_W &&
                        (was & PTE_SHARED ? was & PTE_COW : frame_mappings(was & PTE_ADDR) > 1))
                        *pte ^= PTE_W | PTE_COW; /* a frame a fork shares or a lent region page
                                                    stays copy-on-write */
                } else {
                    if (!(*pte & PTE_NOFREE)) {
                        release(*pte);
                        p->pages--;
                    }
                    *pte = 0;
                    budget--;
                }
                __asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
            }
        }
        if (!flags && !phys && a == end && end - LEAF_SPAN >= va) {
            frame_free(*up & PTE_ADDR); /* a leaf table unmapped whole is freed */
            *up = 0;
            __asm__ volatile("invlpg (%0)" ::"r"(a - PAGE_SIZE) : "memory");
        }
    }
    return 0;
}

/* [va, va+len) of pages just mapped, or of whole demand-zero spans: nothing to split. */
void vm_unmap_range(struct proc *p, uint64_t va, uint64_t len)
{
    vm_walk_range(p, va, len, 0, 0, ~0ull);
}

/* Unmap up to 4,096 pages of [va, va+len) (about 0.5 ms): 1 if some are left (call again),
 * -E_NOMEM (nothing changed). */
int vm_unmap_part(struct proc *p, uint64_t va, uint64_t len)
{
    return vm_walk_range(p, va, len, 0, 0, 4096);
}

/* Unmap every page of p that maps (KC_MAPPHYS) physical memory in [base, base+len). */
void vm_unmap_phys(struct proc *p, uint64_t base, uint64_t len)
{
    vm_walk_range(p, 0, USER_TOP, 0, (const uint64_t[]){base, len}, ~0ull);
}

int vm_protect_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags)
{
    return vm_walk_range(p, va, len, flags, 0, ~0ull);
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
        uint64_t *s = vm_pte(p->pml4, src + off, 0, 0);
        if (s && (*s & PTE_COW) && vm_fault(p, src + off, 1) < 0) /* a copy by sharing: own it */
            return -E_NOMEM;
        if (!s || (*s & (PTE_P | PTE_NOFREE | PTE_DMA)) != PTE_P ||
            (!(*s & PTE_SHARED) && frame_mappings(*s & PTE_ADDR) > 1)) /* not a fork's COW page */
            return -E_FAULT;
    }
    if (p == root_proc)
        t->region_delta = src - va; /* a state region: its pages may be lent (region_twin) */
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        uint64_t *s = vm_pte(p->pml4, src + off, 0, 0), pa = *s & PTE_ADDR;
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
 * Demand-zero pages for [va, va+len) (page aligned, free): markers (PTE_LAZY and the permission
 * bits flags gives, not present) that vm_fault turns into zeroed frames at the first touch. A
 * whole 2 MiB or 1 GiB (up to `top` levels above the leaves) gets one marker in the entry above
 * (tables left empty there are freed), split into a table of markers when a page of it is touched
 * or the span is cut: a large mapping costs a few entries, no table. All or nothing.
 */
int vm_lazy_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags, int top)
{
    uint64_t m = PTE_LAZY | (flags & ~PTE_P), end = va + len, *e;
    for (uint64_t a = va; a < end;) {
        int level = top + 1, fits;
        do { /* the largest span that starts at a and lies in the range */
            e = vm_pte(p->pml4, a, --level, 1);
            fits = !(a & (SPAN(level) - 1)) && end - a >= SPAN(level);
            if (e && level && fits && (*e & PTE_P)) { /* tables left empty: the range is free */
                free_table(*e & PTE_ADDR, level - 1, 0);
                *e = 0;
                space_changed(p->pml4);
                __asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
            }
        } while (level && (!e || !fits));
        if (!e) {
            vm_unmap_range(p, va, a - va);
            return -E_NOMEM;
        }
        do {
            *e++ = m;
            a += SPAN(level);
        } while (a < end && IDX(a, level) && end - a >= SPAN(level) && !(*e & PTE_P));
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
    int level;
    space_changed(p->pml4);
    vm_epoch++;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
            uint64_t *src = lowest(p->pml4, from + off, &level), *dst;
            if (level && (*src & PTE_LAZY) && !(src = vm_pte(p->pml4, from + off, 0, 1)))
                return -E_NOMEM; /* a demand-zero span moves as a marker per page */
            if (!(*src & (PTE_P | PTE_LAZY)))
                continue;
            if (!(dst = vm_pte(p->pml4, to + off, 0, 1)))
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
 * Lending a state region's page (docs/REINCARNATION.md, "Lent region pages"): rs's entry for the
 * frame of p's shared page pte at va, if rs shared it into p (at va + p->region_delta) and no
 * one else may write it (only these two map it, or both are copy-on-write since a lending); else
 * 0. share_page makes both copy-on-write; p's first store (vm_fault) copies and moves both
 * mappings to the copy, so the region stays one and the borrower keeps the old bytes.
 */
static uint64_t *region_twin(struct proc *p, uint64_t va, uint64_t pte)
{
    uint64_t *r = p->region_delta && p != root_proc && va + p->region_delta < USER_TOP
                      ? vm_pte(root_proc->pml4, va + p->region_delta, 0, 0)
                      : 0;
    return r && (*r & (PTE_P | PTE_SHARED | PTE_ADDR)) == (PTE_P | PTE_SHARED | (pte & PTE_ADDR)) &&
                   ((pte & *r & PTE_COW) || frame_mappings(pte & PTE_ADDR) == 2)
               ? r
               : 0;
}

/*
 * A touch of va in p (a write if asked) that found no page, or a write that found a
 * copy-on-write one: a demand-zero marker allowing that access gets a zeroed frame; a COW page
 * gets a copy of its frame, or only its write bit if no other mapping is left. 0, or -E_FAULT
 * (a real fault), or -E_NOMEM (no frame: for a Linux process, none above the servers' reserve).
 */
int vm_fault(struct proc *p, uint64_t va, int write)
{
    int level = 0;
    uint64_t *pte = va < USER_TOP ? lowest(p->pml4, va, &level) : 0, pa, old;
    if (level && (*pte & PTE_LAZY) && !(pte = vm_pte(p->pml4, va, 0, 1)))
        return -E_NOMEM; /* a page of a demand-zero span: its tables first */
    int cow = pte && write && (*pte & (PTE_P | PTE_U | PTE_COW)) == (PTE_P | PTE_U | PTE_COW);
    if (!cow && (!pte || !(*pte & PTE_LAZY) || !(*pte & PTE_U) || (write && !(*pte & PTE_W))))
        return -E_FAULT;
    if (!cow || frame_mappings(old = *pte & PTE_ADDR) > 1) {
        if ((p->user && frame_free_count() <= USER_RESERVE_FRAMES(frame_total())) ||
            (!cow && p->priv.max_pages && p->pages >= p->priv.max_pages) ||
            !(pa = cow ? frame_alloc_dirty() : frame_alloc())) /* a copy fills it all */
            return -E_NOMEM;
        if (cow) {
            vm_epoch++;
            memcpy(P2V(pa), P2V(old), PAGE_SIZE);
            uint64_t *twin = *pte & PTE_SHARED ? region_twin(p, va, *pte) : 0;
            if (twin && frame_share(pa) == 0) { /* a lent region page: rs's mapping moves too */
                *twin = pa | (*twin & ~(PTE_ADDR | PTE_COW)) | PTE_W;
                frame_unshare(old);
                space_changed(root_proc->pml4);
            }
            frame_unshare(old);
        }
        *pte = pa | (*pte & ~(PTE_ADDR | PTE_LAZY)) | PTE_P;
        p->pages += !cow;
    }
    if (cow) {
        *pte ^= PTE_COW | PTE_W;
        space_changed(p->pml4); /* its old read-only translation may be in the TLB */
    }
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
            return vm_fault(p, va, write) == 0 /* demand-zero (of a span too), copy-on-write */
                       ? user_phys(p, va, write)
                       : 0;
    }
    if ((e & PTE_ADDR) >= PHYS_MAP_LIMIT) /* MMIO above the direct map: not a buffer */
        return 0;
    return (e & PTE_ADDR) | (va & (PAGE_SIZE - 1));
}

/* The frame of p's ordinary present page at va, made p's own copy first (if own) when other
 * mappings share it (fault injection reads and writes through the direct map: inject.c); 0 if
 * there is none, or it is a device's (a read may have effects), DMA or a state region's page. */
uint64_t vm_private_frame(struct proc *p, uint64_t va, int own)
{
    uint64_t *pte = user_phys(p, va, 0) ? vm_pte(p->pml4, va, 0, 0) : 0, pa;
    if (!pte || (*pte & (PTE_NOFREE | PTE_DMA | PTE_SHARED)))
        return 0;
    if (own && frame_mappings(*pte & PTE_ADDR) > 1) {
        if (!(pa = frame_alloc_dirty()))
            return 0;
        memcpy(P2V(pa), P2V(*pte & PTE_ADDR), PAGE_SIZE);
        frame_unshare(*pte & PTE_ADDR);
        *pte = pa | (*pte & ~PTE_ADDR);
        vm_epoch++;
        space_changed(p->pml4);
    }
    return *pte & PTE_ADDR;
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

/*
 * A copy of one whole page made by sharing its frame: dp's page at dst (*d: a page or a
 * demand-zero marker, ordinary memory) gets sp's frame at src (present, private, ordinary),
 * copy-on-write in both where writable (vm_fault copies at the first write of either; a
 * read-only one gets PTE_COW from mprotect). dst keeps its other permission bits. 1 if done; 0 if
 * the caller must copy instead (nothing changed).
 */
static int share_page(struct proc *sp, uint64_t src, struct proc *dp, uint64_t dst, uint64_t *d)
{
    uint64_t own = PTE_NOFREE | PTE_DMA | PTE_SHARED, *twin = 0,
             *s = src < USER_TOP ? vm_pte(sp->pml4, src, 0, 0) : 0;
    /* a region's page: lent before (then every mapping is copy-on-write) or now (region_twin) */
    uint64_t region =
        s && !sp->user && (*s & PTE_SHARED) && ((*s & PTE_COW) || (twin = region_twin(sp, src, *s)))
            ? PTE_SHARED
            : 0;
    if (!s || !d || (*s & (PTE_P | PTE_U | own)) != (PTE_P | PTE_U | region) ||
        !(*d & (PTE_P | PTE_LAZY)) || (*d & own) ||
        (!(*d & PTE_P) && dp->priv.max_pages && dp->pages >= dp->priv.max_pages) ||
        frame_share(*s & PTE_ADDR) < 0)
        return 0;
    if (*s & PTE_W) {
        *s ^= PTE_W | PTE_COW;
        __asm__ volatile("invlpg (%0)" ::"r"(src) : "memory");
        space_changed(sp->pml4); /* sp's writable translation may be under its PCID */
    }
    if (twin && (*twin & PTE_W)) { /* a region page: rs's mapping too (region_twin) */
        *twin ^= PTE_W | PTE_COW;
        space_changed(root_proc->pml4);
    }
    if (*d & PTE_P)
        release(*d);
    else
        dp->pages++;
    uint64_t cow = *d & (PTE_W | PTE_COW) ? PTE_COW : 0; /* a read-only page stays so */
    *d = (*s & PTE_ADDR) | (*d & ~(PTE_ADDR | PTE_LAZY | PTE_W)) | PTE_P | cow;
    __asm__ volatile("invlpg (%0)" ::"r"(dst) : "memory");
    space_changed(dp->pml4);
    vm_epoch++; /* dp's frame at dst changed, sp's page became read-only */
    return 1;
}

/* dp's page at dst if a copy may replace it whole: writable, copy-on-write, or a demand-zero
 * marker allowing writes; else 0. */
static uint64_t *overwritable(struct proc *dp, uint64_t dst)
{
    int level = 0;
    uint64_t *d = dst < USER_TOP ? lowest(dp->pml4, dst, &level) : 0;
    if (level && (*d & PTE_LAZY))
        d = vm_pte(dp->pml4, dst, 0, 1); /* a page of a demand-zero span: its own marker */
    if (!d || !(*d & PTE_U))
        return 0;
    if (*d & PTE_P)
        return *d & (PTE_W | PTE_COW) ? d : 0;
    return (*d & (PTE_LAZY | PTE_W)) == (PTE_LAZY | PTE_W) ? d : 0;
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
    /* a server's whole page to another process (a file server's block read into a buffer):
     * shared copy-on-write, not copied */
    if (sp && dp && !sp->user && len == PAGE_SIZE && !((src | dst) & (PAGE_SIZE - 1)) &&
        share_page(sp, src, dp, dst, overwritable(dp, dst)))
        return 0;
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
 * New pages for [va, va+len) in t, the first srclen bytes copied from src
 * (in sp, or kernel memory if sp is NULL), the rest zeroed frames. Written through
 * the direct map, so read-only pages can be filled. A whole page of a
 * page-aligned source is shared copy-on-write instead of copied
 * (share_page: pm's copy of a program's text). All or nothing.
 */
int vm_alloc_fill(struct proc *t, uint64_t va, uint64_t len, uint64_t flags, struct proc *sp,
                  uint64_t src, uint64_t srclen)
{
    uint64_t filled = (srclen + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); /* srclen <= len */
    int r = vm_lazy_range(t, va, filled, flags, 0); /* each page filled below, or all undone */
    if (r == 0 && (r = vm_alloc_range(t, va + filled, len - filled, flags)) < 0)
        vm_unmap_range(t, va, filled);
    for (uint64_t off = 0; r == 0 && off < filled; off += PAGE_SIZE) {
        uint64_t n = srclen - off < PAGE_SIZE ? srclen - off : PAGE_SIZE,
                 *d = vm_pte(t->pml4, va + off, 0, 0);
        if (sp && n == PAGE_SIZE && !((src + off) & (PAGE_SIZE - 1)) &&
            share_page(sp, src + off, t, va + off, d))
            continue;
        if (!(*d & PTE_P) && vm_fault(t, va + off, 0) < 0)
            r = -E_NOMEM;
        else if (copy_any(sp, src + off, 0, (uint64_t)P2V(*d & PTE_ADDR), n) < 0)
            r = -E_FAULT;
    }
    if (r < 0)
        vm_unmap_range(t, va, len);
    return r;
}
