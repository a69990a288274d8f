/*
 * ramfs's memory. Servers have no malloc, so ramfs maps its own heap: a
 * virtual region from RAMFS_HEAP_BASE, mapped with KC_MEM_MAP in 64 KiB
 * steps (a single page when a whole step no longer fits) as pages are
 * first needed, up to RAMFS_HEAP_CAP. Pages are never unmapped: a freed
 * page goes on a free list (linked through its first word) and is zeroed
 * again when handed out. If the kernel refuses to map (E_NOMEM: our
 * max_pages, or physical memory, which others may give back), the caller
 * sees "no memory" (ENOSPC) and the next allocation that needs a new page
 * asks the kernel again: a failure is never taken to be for good. While
 * the last attempt failed, statfs counts only the pages mapped so far.
 *
 * Small objects (inodes, directory entries, symlink targets) come from
 * size classes of 32..2048 bytes carved out of whole pages; freed objects
 * go on their class's free list and pages of a class stay in that class.
 * Requests over 2048 bytes get a whole page. ramfs_free needs the size
 * that was asked for, so objects carry no header.
 */
#include "ramfs.h"

static const uint32_t class_size[] = {32, 64, 128, 192, 256, 512, 1024, 2048};
#define NR_CLASSES (sizeof(class_size) / sizeof(class_size[0]))

struct free_obj {
    struct free_obj *next;
};

static struct free_obj *class_free[NR_CLASSES];
static struct free_obj *page_free;
static uint64_t mapped;     /* bytes mapped from RAMFS_HEAP_BASE */
static uint64_t bumped;     /* bytes handed out at least once */
static uint64_t free_pages; /* pages on page_free */
static int short_of_memory; /* the last attempt to map more failed (logged once) */

void ramfs_zero(void *p, uint64_t n)
{
    uint8_t *b = p;
    if (!((uint64_t)b & 7) && !(n & 7)) {
        for (uint64_t *w = p; n; n -= 8)
            *w++ = 0;
        return;
    }
    while (n--)
        *b++ = 0;
}

void ramfs_copy(void *d, const void *s, uint64_t n)
{
    if (!(((uint64_t)d | (uint64_t)s | n) & 7)) {
        uint64_t *wd = d;
        const uint64_t *ws = s;
        for (; n; n -= 8)
            *wd++ = *ws++;
        return;
    }
    memcpy(d, s, n);
}

void ramfs_heap_init(void)
{
    mapped = bumped = 0;
}

static int grow(void)
{
    uint64_t step = RAMFS_HEAP_STEP;
    if (mapped + step > RAMFS_HEAP_CAP)
        step = RAMFS_HEAP_CAP - mapped;
    if (step == 0)
        return -1;
    int r = sys_mem_map(SELF, RAMFS_HEAP_BASE + mapped, step, PROT_R | PROT_W);
    if (r < 0 && step > RAMFS_BLOCK) {
        step = RAMFS_BLOCK;
        r = sys_mem_map(SELF, RAMFS_HEAP_BASE + mapped, step, PROT_R | PROT_W);
    }
    if (r < 0) {
        if (!short_of_memory)
            printf("ramfs: cannot map more memory after %lu KiB: %s (will try again)\n",
                   mapped >> 10, strerror_s(r));
        short_of_memory = 1;
        return -1;
    }
    if (short_of_memory)
        printf("ramfs: memory again after %lu KiB\n", mapped >> 10);
    short_of_memory = 0;
    mapped += step;
    return 0;
}

void *ramfs_page_alloc(void)
{
    void *p;
    if (page_free) {
        p = page_free;
        page_free = page_free->next;
        free_pages--;
        ramfs_zero(p, RAMFS_BLOCK);
        return p;
    }
    if (bumped == mapped && grow() < 0)
        return 0;
    p = (void *)(RAMFS_HEAP_BASE + bumped); /* fresh pages are zeroed by the kernel */
    bumped += RAMFS_BLOCK;
    return p;
}

void ramfs_page_free(void *p)
{
    if (!p)
        return;
    struct free_obj *o = p;
    o->next = page_free;
    page_free = o;
    free_pages++;
}

static int class_of(uint64_t n)
{
    for (unsigned c = 0; c < NR_CLASSES; c++)
        if (n <= class_size[c])
            return (int)c;
    return -1;
}

void *ramfs_alloc(uint64_t n)
{
    if (n == 0 || n > RAMFS_BLOCK)
        return 0;
    int c = class_of(n);
    if (c < 0)
        return ramfs_page_alloc();
    if (!class_free[c]) {
        uint8_t *page = ramfs_page_alloc();
        if (!page)
            return 0;
        for (uint64_t off = 0; off + class_size[c] <= RAMFS_BLOCK; off += class_size[c]) {
            struct free_obj *o = (struct free_obj *)(page + off);
            o->next = class_free[c];
            class_free[c] = o;
        }
    }
    struct free_obj *o = class_free[c];
    class_free[c] = o->next;
    ramfs_zero(o, class_size[c]);
    return o;
}

void ramfs_free(void *p, uint64_t n)
{
    if (!p || n == 0 || n > RAMFS_BLOCK)
        return;
    int c = class_of(n);
    if (c < 0) {
        ramfs_page_free(p);
        return;
    }
    struct free_obj *o = p;
    o->next = class_free[c];
    class_free[c] = o;
}

uint64_t ramfs_heap_pages_cap(void)
{
    return (short_of_memory ? mapped : RAMFS_HEAP_CAP) / RAMFS_BLOCK;
}

uint64_t ramfs_heap_pages_used(void)
{
    return bumped / RAMFS_BLOCK - free_pages;
}
