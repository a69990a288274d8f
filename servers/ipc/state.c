/*
 * The ipc server's state region (docs/IPC-SYSV.md, "Restarts"): a header
 * that says which layout the region holds, and the undo log that makes each
 * request a transaction. Before a request changes bytes of the region that
 * were there before it, state_old copies the old bytes into a record at the
 * log's end and only then counts the record (one 8-byte store of the log's
 * length); when the request is done, before any answer goes out,
 * state_commit empties the log (one 8-byte store). A death in between
 * leaves records that the next instance undoes, last first, giving back the
 * region as it was before the request. Memory that was free before the
 * request (a new message's text, a new segment's pages) needs no record:
 * undone, the heap's headers say it is free again.
 *
 * Record: address and length (8 bytes each), the old bytes padded to 8, and
 * the record's size last, so the log can be walked back.
 */
#include <samsara/root.h>
#include "ipc.h"

#define STATE_MAGIC 0x31657461745363ull /* "cStatE1" */
#define STATE_LAYOUT 1
#define LOG_USED ((volatile uint64_t *)ST_LOG)
#define LOG_RECORDS (ST_LOG + 16)
#define LOG_ROOM (ST_LOG_SIZE - 16)
#define BARRIER() __asm__ volatile("" ::: "memory")

struct header {
    uint64_t magic;
    uint32_t layout, sproc_size; /* the layout's version, and sizeof(struct sproc) */
    uint64_t size;               /* ST_SIZE */
    uint64_t check;              /* of the fields above */
};
#define HDR ((struct header *)ST_BASE)

static uint64_t mapped; /* how much of the region this instance has (rs's answer) */

static uint64_t header_sum(const struct header *h)
{
    uint64_t x = 0xcbf29ce484222325ull,
             w[3] = {h->magic, (uint64_t)h->layout << 32 | h->sproc_size, h->size};
    for (int i = 0; i < 3; i++)
        x = (x ^ w[i]) * 0x100000001b3ull;
    return x;
}

int64_t state_grow(uint64_t end)
{
    if (end <= ST_BASE + mapped)
        return 0;
    if (end > ST_BASE + ST_SIZE)
        return -E_NOMEM;
    uint64_t want = (end - ST_BASE + 0xffff) & ~0xffffull; /* 64 KiB steps */
    int64_t r = root_state_grow(want < ST_SIZE ? want : ST_SIZE);
    if (r < 0)
        return r;
    mapped = (uint64_t)r;
    return end <= ST_BASE + mapped ? 0 : -E_NOMEM;
}

void state_old(const void *p, uint64_t n)
{
    uint64_t used = *LOG_USED, padded = (n + 7) & ~7ull, size = 24 + padded;
    if (!n)
        return;
    if (used > LOG_ROOM || size > LOG_ROOM - used || /* n < the region's size: no overflow */
        state_grow(LOG_RECORDS + used + size) < 0) {
        printf("ipc: a request changes more than the undo log holds (%lu bytes): stopping; the "
               "next instance undoes it\n",
               (uint64_t)LOG_ROOM);
        sys_exit(70);
    }
    uint64_t *r = (uint64_t *)(LOG_RECORDS + used);
    r[0] = (uint64_t)p;
    r[1] = n;
    memcpy(r + 2, p, n);
    *(uint64_t *)((char *)(r + 2) + padded) = size;
    BARRIER(); /* the record, then its count, then the change */
    *LOG_USED = used + size;
    BARRIER();
}

void state_commit(void)
{
    BARRIER();
    *LOG_USED = 0;
    BARRIER();
}

/* The records of a request that did not finish, undone last first: how many, or -1 if bad. */
static int64_t undo(void)
{
    uint64_t used = *LOG_USED;
    int64_t n = 0;
    if (used > LOG_ROOM || (used & 7) || LOG_RECORDS + used > ST_BASE + mapped)
        return -1;
    while (used) {
        uint64_t size = *(uint64_t *)(LOG_RECORDS + used - 8);
        if (size < 24 || size > used || (size & 7))
            return -1;
        uint64_t *r = (uint64_t *)(LOG_RECORDS + used - size), at = r[0], len = r[1];
        if (len > size - 24 || at < ST_BASE || at >= ST_LOG || len > ST_LOG - at)
            return -1; /* only the tables and the heap are ever logged */
        memcpy((void *)at, r + 2, len);
        used -= size;
        n++;
    }
    state_commit();
    return n;
}

int state_start(void)
{
    int64_t have = root_state_grow(0);
    if (have < 0) {
        printf("ipc: no state region (%s): 'state 128M grow' in its manifest?\n",
               strerror_s((int)have));
        sys_exit(1);
    }
    mapped = (uint64_t)have;
    const char *why = (uint64_t)have < ST_LOG + 0x10000 - ST_BASE ? (have ? "too short" : "")
                      : HDR->magic != STATE_MAGIC || HDR->check != header_sum(HDR) ? "bad header"
                      : HDR->layout != STATE_LAYOUT || HDR->size != ST_SIZE ||
                              HDR->sproc_size != sizeof(struct sproc)
                          ? "another layout"
                          : "ok";
    int64_t undone = 0;
    if (!strcmp(why, "ok") && (undone = undo()) < 0)
        why = "bad undo log";
    if (!strcmp(why, "ok")) {
        if (undone)
            printf("ipc: %ld changes of the request in flight undone\n", undone);
        return 1;
    }
    if (*why)
        printf("ipc: state region unusable (%s): starting fresh\n", why);
    int64_t r = state_grow(ST_LOG + 0x10000);
    if (r < 0) {
        printf("ipc: cannot map its state region: %s\n", strerror_s((int)r));
        sys_exit(1);
    }
    if (have) /* a last life's bytes; new pages from rs are zero */
        memset((void *)ST_BASE, 0, ST_LOG + 0x10000 - ST_BASE);
    *HDR = (struct header){STATE_MAGIC, STATE_LAYOUT, sizeof(struct sproc), ST_SIZE, 0};
    HDR->check = header_sum(HDR);
    return 0;
}

/* How much of the region is mapped now: pages past ST_SEGS up to here may be a last life's. */
uint64_t state_mapped(void)
{
    return mapped;
}
