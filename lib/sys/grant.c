/*
 * A process's grant table (see samsara/grant.h): grant_alloc hands out a
 * free entry and declares the table to the kernel on first use;
 * grant_free revokes at once by clearing the entry.
 */
#include "sys.h"

#define NR_GRANTS 64

static struct grant table[NR_GRANTS];
static int declared;

static grant_id_t grant_put(struct grant e)
{
    if (!declared) {
        if (sys_setgrant(table, NR_GRANTS) < 0)
            return -E_NOMEM;
        declared = 1;
    }
    for (int i = 0; i < NR_GRANTS; i++)
        if (!(table[i].flags & GRANT_VALID)) {
            table[i] = e;
            return i;
        }
    return -E_AGAIN;
}

grant_id_t grant_alloc(endpoint_t grantee, const void *addr, uint64_t len, uint32_t access)
{
    return grant_put((struct grant){GRANT_VALID | access, grantee, (uint64_t)addr, len, 0, 0});
}

/* Pass [off, off+len) of grant `id` that `granter` made to us on to `grantee`. */
grant_id_t grant_alloc_indirect(endpoint_t grantee, endpoint_t granter, grant_id_t id, uint64_t off,
                                uint64_t len, uint32_t access)
{
    return grant_put(
        (struct grant){GRANT_VALID | GRANT_INDIRECT | access, grantee, off, len, granter, id});
}

/* The memory behind one of our own valid grants (for a server that serves itself). */
void *grant_memory(grant_id_t id, uint64_t *len)
{
    if (id < 0 || id >= NR_GRANTS ||
        (table[id].flags & (GRANT_VALID | GRANT_INDIRECT)) != GRANT_VALID)
        return 0;
    *len = table[id].len;
    return (void *)table[id].addr;
}

void grant_free(grant_id_t id)
{
    if (id >= 0 && id < NR_GRANTS)
        table[id].flags = 0;
}
