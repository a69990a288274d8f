/*
 * Memory grants. A process keeps its grant table in its own memory and
 * tells the kernel where it is with KC_SETGRANT. Entry i is grant id i.
 * The kernel reads the entry at every safecopy, so clearing GRANT_VALID
 * revokes a grant at once, with no kernel call.
 *
 * An indirect grant (GRANT_INDIRECT) passes on part of a grant made to its
 * granter: [addr, addr+len) of grant `inner_id` of `inner_granter`, whose
 * grantee must be this entry's granter. So vfs can hand a user's buffer to
 * a driver without copying it through its own memory.
 *
 * A Linux process makes no grants, so for its memory the chain ends in the
 * process itself: an indirect grant with inner_id GRANT_USER_MEMORY names
 * [addr, addr+len) of inner_granter's address space. Only a PRIV_USERS
 * granter (vfs), which may reach that memory anyway, may make one, and only
 * of a Linux process (E_BADGRANT otherwise).
 */
#ifndef SAMSARA_GRANT_H
#define SAMSARA_GRANT_H

#include <stdint.h>
#include <samsara/ipc.h>

#define GRANT_VALID (1u << 0)
#define GRANT_READ (1u << 1)     /* grantee may copy from the range */
#define GRANT_WRITE (1u << 2)    /* grantee may copy into the range */
#define GRANT_INDIRECT (1u << 3) /* the range is part of another grant */

#define GRANT_MAX_ENTRIES 4096
#define GRANT_MAX_DEPTH 4   /* entries in a chain of indirect grants, the last included */
#define SAFECOPY_VEC_MAX 16 /* pieces in one KC_SAFECOPY_VEC */

typedef int32_t grant_id_t;
#define GRANT_USER_MEMORY ((grant_id_t)-1) /* inner_id: a Linux process's own memory */

struct grant {
    uint32_t flags;
    endpoint_t grantee; /* exact endpoint, generation included */
    uint64_t addr;      /* start in the granter's address space; */
                        /* GRANT_INDIRECT: offset in the inner grant */
    uint64_t len;
    endpoint_t inner_granter; /* GRANT_INDIRECT only: whose grant, */
    grant_id_t inner_id;      /* and which one */
};

/* One piece of KC_SAFECOPY_VEC: like the arguments of KC_SAFECOPY_FROM/TO. */
struct safecopy_piece {
    endpoint_t granter;
    grant_id_t grant;
    uint64_t offset; /* in the grant */
    uint64_t addr;   /* in the caller */
    uint64_t len;
};

#endif
