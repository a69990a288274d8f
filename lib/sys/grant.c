/*
 * A process's grant table (see samsara/grant.h): grant_alloc hands out a
 * free entry and declares the table to the kernel on first use;
 * grant_free revokes at once by clearing the entry.
 *
 * The table has GRANT_TABLE_DEFAULT entries unless the program defines
 * its own with GRANT_TABLE(n) (sys.h): the definitions here are weak, so
 * the program's replace them at link time (inet needs hundreds: frames
 * and receive buffers of every network driver).
 */
#include "sys.h"

__attribute__((weak)) struct grant grant_table[GRANT_TABLE_DEFAULT];
/* not const: the compiler would fold a const weak value into the code below */
__attribute__((weak)) uint32_t grant_table_size = GRANT_TABLE_DEFAULT;

#define NR_GRANTS ((int)grant_table_size)
static int declared;
static int lowest_free; /* every entry below it is in use: the search starts here */

static grant_id_t grant_put(struct grant e)
{
    if (!declared) {
        if (sys_setgrant(grant_table, NR_GRANTS) < 0)
            return -E_NOMEM;
        declared = 1;
    }
    for (int i = lowest_free; i < NR_GRANTS; i++)
        if (!(grant_table[i].flags & GRANT_VALID)) {
            grant_table[i] = e;
            lowest_free = i + 1;
            return i;
        }
    lowest_free = NR_GRANTS;
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
        (grant_table[id].flags & (GRANT_VALID | GRANT_INDIRECT)) != GRANT_VALID)
        return 0;
    *len = grant_table[id].len;
    return (void *)grant_table[id].addr;
}

void grant_free(grant_id_t id)
{
    if (id >= 0 && id < NR_GRANTS) {
        grant_table[id].flags = 0;
        if (id < lowest_free)
            lowest_free = id;
    }
}
