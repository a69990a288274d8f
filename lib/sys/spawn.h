/* Building a process from a static ELF image in memory (used by root). */
#ifndef SPAWN_H
#define SPAWN_H

#include "sys.h"

#define SPAWN_STACK_TOP 0x00007ffffffff000ull
#define SPAWN_STACK_SIZE (64 * 1024)

/* Pages of the caller at src also at vaddr in the new process (KC_MEM_SHARE), before it runs. */
struct spawn_share {
    uint64_t src, vaddr, len;
};

/*
 * Create a process named name, child of parent, from image, install priv,
 * put arg on its stack, share the caller's pages
 * `share` names into it (if not 0) and start it at priority prio. Returns its endpoint
 * or a negative error; on error the half-built process is killed, and its
 * parent reaps it like any other death.
 */
endpoint_t spawn_image(const uint8_t *image, uint64_t size, const char *name, endpoint_t parent,
                       const struct priv *priv, const char *arg, int prio,
                       const struct spawn_share *share);

#endif
