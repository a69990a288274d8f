/*
 * The undo log: each request ramfs serves is a transaction on its state
 * region (docs/RAMFS.md, "Restarts"). Before a request changes any byte of
 * the region that was there before it, ramfs_log copies the old bytes into
 * a record at the log's end; only then is the record counted, by one 8-byte
 * store of `used`, and only then does the caller change the bytes. When the
 * request is done (lib/fsdriver's `after` hook, before its answer goes
 * out), ramfs_commit empties the log by one 8-byte store. A death between
 * the two leaves a log whose records, undone from the last to the first,
 * give back the region as it was before the request (ramfs_undo, at start).
 * Logging more than needed is harmless; a store that was not logged is a bug.
 *
 * Record: {address, length} (8 bytes each), the old bytes padded to 8, and
 * the record's whole size (8 bytes) last, so records can be walked back. A
 * length with LOG_ZERO set has no bytes: undone, the range becomes zeros
 * (ramfs_log_zero: the bytes of a block past its file's end, which are
 * zero by data.c's invariant, so appending to a block costs no copy).
 * Bound: RAMFS_LOG_SIZE. The largest request (freeing every page of the
 * heap, each page's link logged) logs about 650 KiB, a write at most
 * RAMFS_WRITE_STEP of old data a transaction (data.c). A request that would
 * log more is a bug: ramfs stops before the change, and the next instance
 * undoes the request.
 */
#include "ramfs.h"
#include "fsdriver/fsdriver.h"

/* The count word: the records' bytes (a multiple of 8), and in bit 0 which of the two records
 * of the last request is the committed one (ramfs_commit_request). */
#define LOG_USED ((volatile uint64_t *)RAMFS_LOG_BASE)
#define LOG_WHICH 1ull
#define LOG_LAST(i) ((struct fsdriver_last *)(RAMFS_LOG_BASE + 16) + (i)) /* after a spare word */
#define LOG_RECORDS (RAMFS_LOG_BASE + 16 + 2 * sizeof(struct fsdriver_last))
#define LOG_ROOM (RAMFS_LOG_SIZE - 16 - 2 * sizeof(struct fsdriver_last))
#define RECORD_HEAD 16
#define RECORD_TAIL 8

#define LOG_ZERO (1ull << 63)

#define BARRIER() __asm__ volatile("" ::: "memory")

static int logging;         /* 0 while the initramfs loads (a death then starts fresh) */
static int globals_logged;  /* RAMFS_ST->g is in this request's log */
static int pages_logged;    /* its page words are (whole or by ramfs_log_pages) */
static int spare_logged;    /* RAMFS_ST->spare_ends is */
static uint32_t spare_tail; /* ...and its tail then: entries from it on came in this request */
static const struct ramfs_inode *last_inode; /* logged whole in this request (or 0) */

void ramfs_log_on(int on)
{
    logging = on;
}

/* The test hook's other half (main.c): die before the crash_at-th record of the next request. */
static uint64_t crash_at, crash_count;
static int crash_next; /* armed by this request: counts from the next one */

void ramfs_crash_at(uint64_t k)
{
    crash_at = k;
    crash_next = 1;
}

/* Append a record of [p, p + n): its bytes (zero 0), or LOG_ZERO (zero 1). */
static inline void crash_check(void)
{
    if (crash_at && !crash_next && ++crash_count == crash_at)
        sys_exit(72); /* the test hook: records 1..k-1 are in the log, change k not made */
}

static void append(const void *p, uint64_t n, int zero)
{
    crash_check();
    uint64_t word = *LOG_USED, used = word & ~LOG_WHICH, padded = zero ? 0 : (n + 7) & ~7ull;
    uint64_t size = RECORD_HEAD + padded + RECORD_TAIL; /* n <= the region's size: no overflow */
    if (used > LOG_ROOM || size > LOG_ROOM - used) {
        printf("ramfs: a request changes more than the undo log holds (%lu bytes): stopping; "
               "the next instance undoes it\n",
               (uint64_t)LOG_ROOM);
        sys_exit(70);
    }
    uint64_t *r = (uint64_t *)(LOG_RECORDS + used);
    r[0] = (uint64_t)p;
    r[1] = zero ? n | LOG_ZERO : n;
    if (!zero)
        memcpy(r + 2, p, n);
    *(uint64_t *)((uint8_t *)r + RECORD_HEAD + padded) = size;
    BARRIER(); /* the record, then its count, then the change */
    *LOG_USED = word + size;
    BARRIER();
}

void ramfs_log(const void *p, uint64_t n)
{
    if (!logging || !n)
        return;
    uint64_t word = *LOG_USED, used = word & ~LOG_WHICH;
    if (n != 8 || ((uint64_t)p & 7) || used > LOG_ROOM - 32) {
        append(p, n, 0);
        return;
    }
    crash_check();
    /* one aligned word (a pointer, a link), most records: append's work without the copy call */
    uint64_t *r = (uint64_t *)(LOG_RECORDS + used);
    r[0] = (uint64_t)p;
    r[1] = 8;
    r[2] = *(const uint64_t *)p;
    r[3] = RECORD_HEAD + 8 + RECORD_TAIL;
    BARRIER(); /* as in append: the record, then its count, then the change */
    *LOG_USED = word + RECORD_HEAD + 8 + RECORD_TAIL;
    BARRIER();
}

void ramfs_log_zero(const void *p, uint64_t n)
{
    if (logging && n)
        append(p, n, 1);
}

/* The whole inode, once in a row (an unlink logs the same one in several steps). */
void ramfs_log_inode(const struct ramfs_inode *ip)
{
    if (logging && ip != last_inode) {
        ramfs_log(ip, sizeof(*ip));
        last_inode = ip;
    }
}

void ramfs_log_globals(void)
{
    if (logging && !globals_logged) {
        ramfs_log(&RAMFS_ST->g, sizeof(RAMFS_ST->g));
        globals_logged = pages_logged = 1;
    }
}

/* Only the page allocator's words (page_free..free_pages, together in struct ramfs_globals). */
void ramfs_log_pages(void)
{
    if (logging && !pages_logged) {
        const struct ramfs_globals *g = &RAMFS_ST->g;
        ramfs_log(&g->page_free, (uint64_t)((const uint8_t *)(&g->free_pages + 1) -
                                            (const uint8_t *)&g->page_free));
        pages_logged = 1;
    }
}

static void committed(void)
{
    globals_logged = pages_logged = spare_logged = 0;
    last_inode = 0;
    if (crash_next)
        crash_next = 0;
    else
        crash_at = 0;
    crash_count = 0;
}

uint32_t ramfs_log_spare(void)
{
    if (!spare_logged) {
        spare_tail = RAMFS_ST->spare_ends.at.tail;
        ramfs_log(&RAMFS_ST->spare_ends, sizeof(RAMFS_ST->spare_ends));
        spare_logged = logging;
    }
    return spare_tail;
}

uint32_t ramfs_spare_limit(void)
{
    return spare_logged ? spare_tail : RAMFS_ST->spare_ends.at.tail;
}

void ramfs_commit(void)
{
    BARRIER();
    *LOG_USED &= LOG_WHICH;
    BARRIER();
    committed();
}

/*
 * Exact replay (lib/fsdriver's `last` and `commit`; docs/FILESYSTEMS.md, "Replay"): the record of
 * the last request with a sequence number that was committed lives beside the log's count, in
 * one of two places: the new one is written into the other place, and the commit's one 8-byte
 * store both empties the log and names it (bit 0 of the count word), so a death before the
 * commit undoes the request and keeps the record before it, with no copy of it in the log.
 */
const struct fsdriver_last *ramfs_last(void)
{
    return LOG_LAST(*LOG_USED & LOG_WHICH);
}

void ramfs_commit_request(const struct fsdriver_last *rec)
{
    if (!rec || !logging) {
        ramfs_commit();
        return;
    }
    uint64_t which = (*LOG_USED & LOG_WHICH) ^ LOG_WHICH;
    *LOG_LAST(which) = *rec;
    BARRIER(); /* the record, then the store that names it and empties the log */
    *LOG_USED = which;
    BARRIER();
    committed();
}

/* May a record name [addr, addr + len) in a region of `have` bytes? Not the log itself. */
static int range_ok(uint64_t addr, uint64_t len, uint64_t have)
{
    uint64_t end = RAMFS_STATE_BASE + have;
    if (addr >= RAMFS_STATE_BASE && addr < RAMFS_LOG_BASE)
        return len <= RAMFS_LOG_BASE - addr;
    return addr >= RAMFS_HEAP_BASE && addr < end && len <= end - addr;
}

/*
 * Undo the log left by a dead instance, last record first: the number undone, or -1 if it is not
 * a log this ramfs could have written (then nothing is changed: the caller starts fresh).
 */
int64_t ramfs_undo(uint64_t have)
{
    uint64_t used = *LOG_USED & ~LOG_WHICH, pos, records = 0;
    if (used > LOG_ROOM || used % 8)
        return -1;
    for (int apply = 0; apply < 2; apply++) { /* check every record, then undo them */
        for (pos = used, records = 0; pos; records++) {
            uint64_t size = *(const uint64_t *)(LOG_RECORDS + pos - RECORD_TAIL);
            if (size < RECORD_HEAD + RECORD_TAIL || size > pos || size % 8)
                return -1;
            pos -= size;
            const uint64_t *r = (const uint64_t *)(LOG_RECORDS + pos);
            uint64_t n = r[1] & ~LOG_ZERO, padded = r[1] & LOG_ZERO ? 0 : (n + 7) & ~7ull;
            if (n == 0 || padded != size - RECORD_HEAD - RECORD_TAIL || !range_ok(r[0], n, have))
                return -1;
            if (apply && (r[1] & LOG_ZERO))
                ramfs_zero((void *)r[0], n);
            else if (apply)
                memcpy((void *)r[0], r + 2, n);
        }
    }
    ramfs_commit();
    return (int64_t)records;
}
