/*
 * The server's heap: message texts, semaphore arrays and undo lists live in
 * one arena of ARENA_SIZE bytes, first fit over blocks laid end to end,
 * each with a header; free neighbours merge as the search passes them. When
 * it is full the call that needed memory fails with ENOMEM.
 */
#include "ipc.h"

#define ARENA_SIZE (2u << 20)

struct block {
    uint64_t size; /* with the header; a multiple of 16 */
    uint64_t free;
};

static uint64_t arena[ARENA_SIZE / 8] __attribute__((aligned(16)));
static int ready;

static struct block *at(uint64_t off)
{
    return (struct block *)((char *)arena + off);
}

void *arena_alloc(uint64_t len)
{
    if (!ready) {
        *at(0) = (struct block){ARENA_SIZE, 1};
        ready = 1;
    }
    if (len > ARENA_SIZE - sizeof(struct block))
        return 0;
    uint64_t need = (len + sizeof(struct block) + 15) & ~15ull;
    for (uint64_t off = 0; off < ARENA_SIZE; off += at(off)->size) {
        struct block *b = at(off);
        if (!b->free)
            continue;
        while (off + b->size < ARENA_SIZE && at(off + b->size)->free)
            b->size += at(off + b->size)->size;
        if (b->size < need)
            continue;
        if (b->size - need >= 2 * sizeof(struct block)) {
            *at(off + need) = (struct block){b->size - need, 1};
            b->size = need;
        }
        b->free = 0;
        return b + 1;
    }
    return 0;
}

void arena_free(void *p)
{
    if (p)
        ((struct block *)p - 1)->free = 1;
}
