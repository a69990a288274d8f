/*
 * A server's heap (arena.c): first fit over blocks laid end to end in one
 * buffer the server owns, each with a header; free neighbours merge as the
 * search passes them. When it is full the call that needed memory fails
 * (the server answers ENOMEM). Used by the ipc server (System V messages,
 * semaphore arrays, undo lists) and vfs (POSIX message queues' messages).
 */
#ifndef ARENA_H
#define ARENA_H

#include <stdint.h>

struct arena {
    uint64_t *mem; /* size bytes, 16-byte aligned */
    uint64_t size; /* a multiple of 16 */
    int ready;     /* the first block is laid out (at the first allocation) */
};

/* Called with each block header (and `ready`) before a heap changes it, or 0 (the default):
 * an undo log (the ipc server's heap lives in its state region, docs/IPC-SYSV.md). */
extern void (*arena_before)(const void *p, uint64_t len);

void *arena_alloc(struct arena *a, uint64_t len);
void arena_free(void *p);
void arena_release(void *p); /* arena_free, telling arena_before first */

#endif
