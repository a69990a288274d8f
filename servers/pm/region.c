/*
 * The regions of a Linux process's address space, as Linux keeps its VMAs:
 * a list sorted by address of disjoint, page-aligned ranges, each with the
 * protection the program asked for and a kind (program image, break, stack,
 * anonymous mmap, shared or file mmap; a file region names its struct mfile,
 * held once by each entry, and the file offset of its start: split, copy and
 * merge keep the holds and offsets right). Neighbours that touch and agree in
 * everything (a file's offsets continuing) are merged,
 * so a program that maps piece after piece keeps a few entries; a partial
 * munmap or mprotect splits one. The list grows with need: its entries come
 * from a pool in pm's state region after the tables (keep.c: kept across pm's
 * restarts with them), grown 64 KiB at a time (ROOT_STATE_GROW), so the bound
 * is the region (`state 64M` in pm.conf: about a million entries) and, per
 * process, its RLIMIT_AS.
 *
 * Every operation that may need new entries asks region_reserve() first, so
 * that it fails (ENOMEM) before anything changed. The list is circular with
 * a sentinel (mproc.regions) whose start and end are 0; `hint` remembers the
 * last entry found, where the next search starts. vm_pages and data_pages
 * (Linux's total_vm and data_vm) follow every change, for RLIMIT_AS and
 * RLIMIT_DATA.
 */
#include <samsara/root.h>
#include "pm.h"

#define POOL_CHUNK (64 * 1024ull)
#define free_entries (PM_KEPT->free_entries)
#define nr_free_entries (PM_KEPT->nr_free_entries)
#define pool_top (PM_KEPT->pool_top)

/* At least n free entries in the pool: 0, or -1 if pm has no more memory. */
int region_reserve(uint64_t n)
{
    while (nr_free_entries < n) {
        uint64_t want = pool_top + POOL_CHUNK - MANIFEST_STATE_VADDR; /* past 64M: E_NOMEM */
        if (want > MANIFEST_STATE_MAX || root_state_grow(want) < (int64_t)want)
            return -1;
        struct region *e = (struct region *)pool_top;
        for (uint64_t i = 0; i < POOL_CHUNK / sizeof(*e); i++) {
            e[i].next = free_entries;
            free_entries = &e[i];
        }
        nr_free_entries += POOL_CHUNK / sizeof(*e);
        pool_top += POOL_CHUNK;
    }
    return 0;
}

static struct region *entry_take(void) /* after region_reserve */
{
    struct region *r = free_entries;
    free_entries = r->next;
    nr_free_entries--;
    return r;
}

static void entry_put(struct region *r)
{
    r->next = free_entries;
    free_entries = r;
    nr_free_entries++;
}

/* Is a region of this kind shared (MAP_SHARED; the clock page and vDSO), so that its stores
 * are not private and its pages are never dropped for zeros (MADV_DONTNEED)? */
int region_kind_shared(int kind)
{
    return kind == R_SHARED || kind == R_FSHARED || kind == R_VDSO;
}

/* Does r count as data (RLIMIT_DATA, Linux's data_vm): private, writable, not the stack? */
static int is_data(const struct region *r)
{
    return (r->prot & PROT_W) && r->kind != R_STACK && !region_kind_shared(r->kind);
}

static void account(struct mproc *mp, const struct region *r, int add)
{
    uint64_t n = (r->end - r->start) / PAGE;
    mp->vm_pages += add ? n : -n;
    if (is_data(r))
        mp->data_pages += add ? n : -n;
}

void region_init(struct mproc *mp)
{
    mp->regions = (struct region){0};
    mp->regions.next = mp->regions.prev = &mp->regions;
    mp->hint = &mp->regions;
    mp->vm_pages = mp->data_pages = 0;
}

int region_is_end(const struct mproc *mp, const struct region *r)
{
    return r == &mp->regions;
}

/* The first region that ends above addr (the one holding addr, or the next), or the sentinel. */
struct region *region_from(struct mproc *mp, uint64_t addr)
{
    struct region *s = &mp->regions, *r = mp->hint;
    if (r == s || r->start > addr) { /* back while the one before still ends above addr */
        while (r->prev != s && r->prev->end > addr)
            r = r->prev;
        if (r == s)
            r = s->next;
    }
    while (r != s && r->end <= addr)
        r = r->next;
    mp->hint = r == s ? s->prev : r;
    return r;
}

/* Does r's off say where its start lies in a file or in shared anonymous memory? */
int region_has_offset(const struct region *r)
{
    return r->file || r->kind == R_SHARED;
}

static int compatible(const struct region *a, const struct region *b)
{
    return a->end == b->start && a->prot == b->prot && a->kind == b->kind &&
           a->backed == b->backed && a->maywrite == b->maywrite && a->file == b->file &&
           a->obj == b->obj && (!region_has_offset(a) || a->off + (a->end - a->start) == b->off);
}

static void unlink_entry(struct mproc *mp, struct region *r)
{
    account(mp, r, 0);
    r->prev->next = r->next;
    r->next->prev = r->prev;
    if (mp->hint == r)
        mp->hint = r->prev;
    mfile_drop(r->file);
    entry_put(r);
}

/* Merge r with its neighbours where they agree; the region that holds r's range now. */
struct region *region_merge(struct mproc *mp, struct region *r)
{
    struct region *s = &mp->regions;
    if (r->next != s && compatible(r, r->next)) {
        struct region *n = r->next;
        account(mp, r, 0);
        r->end = n->end;
        account(mp, r, 1);
        unlink_entry(mp, n);
    }
    if (r->prev != s && compatible(r->prev, r)) {
        struct region *p = r->prev;
        account(mp, p, 0);
        p->end = r->end;
        account(mp, p, 1);
        unlink_entry(mp, r);
        r = p;
    }
    return r;
}

/* Cut the region holding addr (if it straddles it) in two; needs one reserved entry. */
static void split_at(struct mproc *mp, uint64_t addr)
{
    struct region *r = region_from(mp, addr);
    if (region_is_end(mp, r) || r->start >= addr)
        return;
    struct region *n = entry_take();
    *n = *r;
    n->start = addr;
    n->off += region_has_offset(r) ? addr - r->start : 0;
    mfile_hold(n->file);
    r->end = addr; /* the two halves together count what r counted */
    n->prev = r;
    n->next = r->next;
    r->next->prev = n;
    r->next = n;
}

/* No region straddles a or b any more (2 entries, reserved by the caller). */
void region_cut(struct mproc *mp, uint64_t a, uint64_t b)
{
    split_at(mp, a);
    split_at(mp, b);
}

/* Forget the regions in [a, b) (already cut there). */
void region_drop(struct mproc *mp, uint64_t a, uint64_t b)
{
    struct region *r = region_from(mp, a);
    while (!region_is_end(mp, r) && r->start < b) {
        struct region *n = r->next;
        unlink_entry(mp, r);
        r = n;
    }
}

/*
 * A new region [a, b), where there is none (1 reserved entry), as `how`
 * says (prot, kind, backed, maywrite, file and offset; its file is held
 * once more); merged with its neighbours.
 */
struct region *region_add(struct mproc *mp, uint64_t a, uint64_t b, const struct region *how)
{
    struct region *next = region_from(mp, a), *r = entry_take();
    *r = *how;
    r->start = a;
    r->end = b;
    r->prev = next->prev;
    r->next = next;
    mfile_hold(r->file);
    next->prev->next = r;
    next->prev = r;
    account(mp, r, 1);
    return region_merge(mp, r);
}

/* New protection and state for r (a whole region, already cut), counted again. */
void region_set(struct mproc *mp, struct region *r, int prot, int backed)
{
    account(mp, r, 0);
    r->prot = (uint8_t)prot;
    r->backed = (uint8_t)backed;
    account(mp, r, 1);
}

/* Pages of [a, b) inside regions (all of them, or only data if asked). */
uint64_t region_pages_in(struct mproc *mp, uint64_t a, uint64_t b, int data_only)
{
    uint64_t n = 0;
    for (struct region *r = region_from(mp, a); !region_is_end(mp, r) && r->start < b; r = r->next)
        if (!data_only || is_data(r))
            n += ((r->end < b ? r->end : b) - (r->start > a ? r->start : a)) / PAGE;
    return n;
}

/* The highest gap of len bytes in [floor, top), or 0. */
uint64_t region_gap(struct mproc *mp, uint64_t len, uint64_t floor, uint64_t top)
{
    struct region *r = region_from(mp, top);
    if (!region_is_end(mp, r) && r->start < top)
        top = r->start;               /* one that straddles top */
    for (r = r->prev;; r = r->prev) { /* r: the highest region starting below top, or none */
        uint64_t low = region_is_end(mp, r) || r->end < floor ? floor : r->end;
        if (top >= low && top - low >= len)
            return top - len;
        if (region_is_end(mp, r) || r->end <= floor)
            return 0;
        top = r->start;
    }
}

/* Give every region back to the pool. */
void region_free_all(struct mproc *mp)
{
    while (!region_is_end(mp, mp->regions.next))
        unlink_entry(mp, mp->regions.next);
    region_init(mp);
}

/* Entries for a copy of mp's regions, taken from pm's memory now: 0, or -1. */
int region_copy_ready(const struct mproc *mp)
{
    uint64_t n = 0;
    for (const struct region *r = mp->regions.next; r != &mp->regions; r = r->next)
        n++;
    return region_reserve(n);
}

/* c's own copy of mp's regions (after region_copy_ready; c's sentinel is set up here). */
void region_copy(struct mproc *c, const struct mproc *mp)
{
    region_init(c);
    for (const struct region *r = mp->regions.next; r != &mp->regions; r = r->next) {
        struct region *e = entry_take();
        *e = *r;
        mfile_hold(e->file);
        e->next = &c->regions;
        e->prev = c->regions.prev;
        c->regions.prev->next = e;
        c->regions.prev = e;
        account(c, e, 1);
    }
}
