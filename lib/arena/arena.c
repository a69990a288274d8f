/* A server's heap in a buffer of its own (arena.h). */
#include "arena/arena.h"

struct block {
    uint64_t size; /* with the header; a multiple of 16 */
    uint64_t free;
};

static struct block *at(const struct arena *a, uint64_t off)
{
    return (struct block *)((char *)a->mem + off);
}

/* [p, p + len) is about to change: the undo log (if there is one) keeps its old bytes. */
void (*arena_before)(const void *p, uint64_t len);

static void changing(const void *p, uint64_t len)
{
    if (arena_before)
        arena_before(p, len);
}

void *arena_alloc(struct arena *a, uint64_t len)
{
    if (!a->ready) {
        changing(at(a, 0), sizeof(struct block));
        changing(&a->ready, sizeof(a->ready));
        *at(a, 0) = (struct block){a->size, 1};
        a->ready = 1;
    }
    if (len > a->size - sizeof(struct block))
        return 0;
    uint64_t need = (len + sizeof(struct block) + 15) & ~15ull;
    for (uint64_t off = 0; off < a->size; off += at(a, off)->size) {
        struct block *b = at(a, off);
        if (!b->free)
            continue;
        while (off + b->size < a->size && at(a, off + b->size)->free) {
            changing(b, sizeof(*b));
            b->size += at(a, off + b->size)->size;
        }
        if (b->size < need)
            continue;
        changing(b, sizeof(*b));
        if (b->size - need >= 2 * sizeof(struct block)) {
            changing(at(a, off + need), sizeof(struct block));
            *at(a, off + need) = (struct block){b->size - need, 1};
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

void arena_release(void *p)
{
    if (p)
        changing((struct block *)p - 1, sizeof(struct block));
    arena_free(p);
}
