/*
 * ramfs's memory. Servers have no malloc, so ramfs keeps its own heap, in
 * its state region (docs/RAMFS.md, "Restarts"): the pages from
 * RAMFS_HEAP_BASE are rs's, asked for with ROOT_STATE_GROW in 64 KiB steps
 * (a single page when a whole step no longer fits) as they are first
 * needed, up to RAMFS_HEAP_CAP, and every instance finds them where the
 * last one left them. Pages are never given back: a freed page goes on a
 * free list (linked through its first word) and is zeroed again when
 * handed out; a page a shadowed write gave back goes into the spare ring
 * first (ramfs_page_swap). If rs cannot map more (E_NOMEM: physical memory, which
 * others may give back), the caller sees "no memory" (ENOSPC) and the next
 * allocation that needs a new page asks again: a failure is never taken
 * to be for good. While the last attempt failed, statfs counts only the
 * pages mapped so far.
 *
 * Small objects (inodes, directory entries, symlink targets) come from
 * size classes of 32..2048 bytes carved out of whole pages; freed objects
 * go on their class's free list and pages of a class stay in that class.
 * Requests over 2048 bytes get a whole page. ramfs_free needs the size
 * that was asked for, so objects carry no header.
 *
 * Every global of the heap lives in the region's header (RAMFS_ST->g),
 * logged once per request before the first change (log.c: the page words
 * alone when only pages change, ramfs_log_pages); a free page or
 * object has only its first word logged before it is handed out or linked,
 * since the rest of a free one means nothing.
 */
#include "ramfs.h"

static const uint32_t class_size[RAMFS_NR_CLASSES] = {32, 64, 128, 192, 256, 512, 1024, 2048};
#define NR_CLASSES RAMFS_NR_CLASSES
#define G (RAMFS_ST->g)

struct free_obj {
    struct free_obj *next;
};

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

static uint64_t header_sum(const struct ramfs_state *st)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a over magic, layout, length */
    const uint8_t *b = (const uint8_t *)st;
    for (uint64_t i = 0; i < 3 * sizeof(uint64_t); i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Why the header of a region of `have` bytes cannot be used, "" for a new one, 0 if it can. */
static const char *header_problem(uint64_t have)
{
    const struct ramfs_state *st = RAMFS_ST;
    if (have < RAMFS_HDR_SIZE + RAMFS_LOG_SIZE)
        return have ? "too short" : "";
    if (!st->magic && !st->layout && !st->length && !st->check)
        return "";
    if (st->check != header_sum(st))
        return "bad header checksum";
    if (st->magic != RAMFS_STATE_MAGIC)
        return "bad magic";
    if (st->layout != RAMFS_LAYOUT)
        return "layout version";
    if (st->length != RAMFS_STATE_SIZE)
        return "length";
    if (st->loaded != 1)
        return "the initramfs was still loading";
    return 0;
}

/* Pages in the spare ring (ramfs_page_swap). */
static uint32_t spares(void)
{
    return RAMFS_ST->spare_ends.at.tail - RAMFS_ST->spare_ends.at.head;
}

/* The heap's globals, after the undo: could this ramfs have left them? */
static const char *globals_problem(uint64_t have)
{
    uint64_t heap = have - RAMFS_HDR_SIZE - RAMFS_LOG_SIZE;
    if (G.mapped > heap || G.mapped > RAMFS_HEAP_CAP || G.bumped > G.mapped ||
        (G.mapped | G.bumped) % RAMFS_BLOCK || spares() > RAMFS_SPARE ||
        G.free_pages + spares() > G.bumped / RAMFS_BLOCK || G.nr_inodes >= RAMFS_MAX_INODES ||
        G.cursor < 2 || G.cursor >= RAMFS_MAX_INODES || !RAMFS_ST->itab[0])
        return "heap or inode counts out of range";
    return 0;
}

int ramfs_heap_init(const char *label)
{
    int64_t have = root_state_grow(0);
    if (have < 0) {
        printf("%s: no state region (%s): 'state SIZE grow' in its manifest?\n", label,
               strerror_s((int)have));
        return -1;
    }
    const char *why = header_problem((uint64_t)have);
    int64_t undone = why ? 0 : ramfs_undo((uint64_t)have);
    if (!why && undone < 0)
        why = "bad undo log";
    if (!why && !(why = globals_problem((uint64_t)have))) {
        /* pages past those handed out may hold what a rolled-back request wrote: new ones are
         * taken to be zero */
        ramfs_zero((void *)(RAMFS_HEAP_BASE + G.bumped),
                   RAMFS_STATE_BASE + (uint64_t)have - (RAMFS_HEAP_BASE + G.bumped));
        printf("%s: files kept across a restart: %u inodes, %lu KiB in use, %ld changes of the "
               "request in flight undone\n",
               label, G.nr_inodes, ramfs_heap_pages_used() * (RAMFS_BLOCK >> 10), undone);
        return 1;
    }
    if (*why)
        printf("%s: state region unusable (%s): starting fresh\n", label, why);
    ramfs_zero((void *)RAMFS_STATE_BASE, (uint64_t)have);
    if ((uint64_t)have < RAMFS_HDR_SIZE + RAMFS_LOG_SIZE &&
        (have = root_state_grow(RAMFS_HDR_SIZE + RAMFS_LOG_SIZE)) < 0) {
        printf("%s: cannot map its state region's header and log: %s\n", label,
               strerror_s((int)have));
        return -1;
    }
    struct ramfs_state *st = RAMFS_ST;
    st->magic = RAMFS_STATE_MAGIC;
    st->layout = RAMFS_LAYOUT;
    st->length = RAMFS_STATE_SIZE;
    st->check = header_sum(st);
    G.cursor = 2;
    return 0;
}

static int grow(void)
{
    uint64_t step = RAMFS_HEAP_STEP;
    if (G.mapped + step > RAMFS_HEAP_CAP)
        step = RAMFS_HEAP_CAP - G.mapped;
    if (step == 0)
        return -1;
    uint64_t at = RAMFS_HDR_SIZE + RAMFS_LOG_SIZE + G.mapped; /* < RAMFS_STATE_SIZE: no overflow */
    int64_t r = root_state_grow(at + step);
    if (r < 0 && step > RAMFS_BLOCK) {
        step = RAMFS_BLOCK;
        r = root_state_grow(at + step);
    }
    if (r < 0) {
        if (!short_of_memory)
            printf("ramfs: cannot map more memory after %lu KiB: %s (will try again)\n",
                   G.mapped >> 10, strerror_s((int)r));
        short_of_memory = 1;
        return -1;
    }
    if (short_of_memory)
        printf("ramfs: memory again after %lu KiB\n", G.mapped >> 10);
    short_of_memory = 0;
    ramfs_log_pages();
    G.mapped += step;
    return 0;
}

void *ramfs_page_take(void)
{
    struct ramfs_state *st = RAMFS_ST;
    if (st->spare_ends.at.head != ramfs_spare_limit()) { /* the entry stays: no record */
        ramfs_log_spare();
        return st->spare[st->spare_ends.at.head++ % RAMFS_SPARE_RING];
    }
    struct free_obj *p;
    ramfs_log_pages();
    if (G.page_free) {
        p = G.page_free;
        ramfs_log(p, sizeof(*p)); /* its link: the rest of a free page means nothing */
        G.page_free = p->next;
        G.free_pages--;
        return p;
    }
    if (G.bumped == G.mapped && grow() < 0)
        return 0;
    p = (void *)(RAMFS_HEAP_BASE + G.bumped); /* past bumped: zero (rs's, or ramfs_heap_init) */
    G.bumped += RAMFS_BLOCK;
    return p;
}

void *ramfs_page_alloc(void)
{
    uint64_t bumped = G.bumped;
    void *p = ramfs_page_take();
    if (p && G.bumped == bumped) /* off the free list: old bytes; past bumped: zero already */
        ramfs_zero(p, RAMFS_BLOCK);
    return p;
}

void ramfs_page_free(void *p)
{
    if (!p)
        return;
    struct free_obj *o = p;
    ramfs_log_pages();
    ramfs_log(o, sizeof(*o));
    o->next = G.page_free;
    G.page_free = o;
    G.free_pages++;
}

/*
 * A shadowed block (data.c): a page for its new bytes, and its old page kept in the spare ring
 * until the request is committed (0: no room there, the caller writes in place). Neither needs
 * a record of its own: the ring's ends are logged once a request; the entries it had then are
 * not overwritten (a request puts at most RAMFS_SPARE, one write part, into a ring of twice that
 * which held at most RAMFS_SPARE), and those put in the request are not taken in it
 * (ramfs_spare_limit), whose bytes the undo gives back to the file. (While the initramfs
 * loads nothing is logged, and nothing needs to be kept.)
 */
void *ramfs_page_swap(void *old)
{
    struct ramfs_state *st = RAMFS_ST;
    uint32_t found = ramfs_log_spare();
    void *p;
    if (st->spare_ends.at.head != found)
        p = st->spare[st->spare_ends.at.head++ % RAMFS_SPARE_RING];
    else if (!(p = ramfs_page_take()))
        return 0;
    if (st->spare_ends.at.tail - st->spare_ends.at.head >= RAMFS_SPARE) {
        ramfs_page_free(p);
        return 0;
    }
    st->spare[st->spare_ends.at.tail++ % RAMFS_SPARE_RING] = old;
    return p;
}

void ramfs_page_unswap(void *p)
{
    RAMFS_ST->spare_ends.at.tail--; /* logged by ramfs_page_swap */
    ramfs_page_free(p);
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
    ramfs_log_globals();
    if (!G.class_free[c]) {
        uint8_t *page = ramfs_page_alloc(); /* free: nothing in it to log */
        if (!page)
            return 0;
        for (uint64_t off = 0; off + class_size[c] <= RAMFS_BLOCK; off += class_size[c]) {
            struct free_obj *o = (struct free_obj *)(page + off);
            o->next = G.class_free[c];
            G.class_free[c] = o;
        }
    }
    struct free_obj *o = G.class_free[c];
    ramfs_log(o, sizeof(*o));
    G.class_free[c] = o->next;
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
    ramfs_log_globals();
    ramfs_log(o, sizeof(*o));
    o->next = G.class_free[c];
    G.class_free[c] = o;
}

uint64_t ramfs_heap_pages_cap(void)
{
    return (short_of_memory ? G.mapped : RAMFS_HEAP_CAP) / RAMFS_BLOCK;
}

uint64_t ramfs_heap_pages_used(void)
{
    return G.bumped / RAMFS_BLOCK - G.free_pages - spares();
}
