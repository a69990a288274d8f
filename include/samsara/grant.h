/*
 * Memory grants. A process keeps its grant table in its own memory and
 * tells the kernel where it is with KC_SETGRANT. Entry i is grant id i.
 * The kernel reads the entry at every safecopy, so clearing GRANT_VALID
 * revokes a grant at once, with no kernel call.
 */
#ifndef SAMSARA_GRANT_H
#define SAMSARA_GRANT_H

#include <stdint.h>
#include <samsara/ipc.h>

#define GRANT_VALID (1u << 0)
#define GRANT_READ (1u << 1)  /* grantee may copy from the range */
#define GRANT_WRITE (1u << 2) /* grantee may copy into the range */

#define GRANT_MAX_ENTRIES 4096

typedef int32_t grant_id_t;

struct grant {
    uint32_t flags;
    endpoint_t grantee; /* exact endpoint, generation included */
    uint64_t addr;      /* start in the granter's address space */
    uint64_t len;
};

#endif
