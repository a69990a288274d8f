/*
 * Grants and safecopy. The grant table lives in the granter's memory
 * (KC_SETGRANT says where); the kernel reads entry `id` at every copy, so a
 * change or revocation by the granter takes effect on the next copy.
 * A copy is allowed only for the exact grantee endpoint, within the
 * granted range, in a granted direction.
 */
#include <samsara/grant.h>
#include "kernel.h"

/* KC_SETGRANT(table*, count): count 0 withdraws every grant. */
int64_t do_setgrant(struct proc *p, const uint64_t *a)
{
    if (a[1] > GRANT_MAX_ENTRIES || (a[1] && !user_range_ok(a[0], a[1] * sizeof(struct grant))))
        return -E_INVAL;
    p->grant_table = a[0];
    p->grant_count = a[1];
    return 0;
}

static int64_t safecopy(struct proc *p, const uint64_t *a, uint32_t need)
{
    struct proc *g;
    struct grant e;
    uint64_t id = a[1], off = a[2], addr = a[3], len = a[4];
    int r = ep_lookup((endpoint_t)a[0], &g);
    if (r < 0)
        return r;
    if (id >= g->grant_count ||
        copy_from_user(g, g->grant_table + id * sizeof(e), &e, sizeof(e)) < 0 ||
        !(e.flags & GRANT_VALID) || e.grantee != p->ep || !user_range_ok(e.addr, e.len))
        return -E_BADGRANT; /* a grant must describe user memory: e.addr + e.len cannot wrap */
    if (!(e.flags & need))
        return deny(p, need == GRANT_READ ? KC_SAFECOPY_FROM : KC_SAFECOPY_TO, a[0], id, off);
    if (off > e.len || len > e.len - off) /* so e.addr + off + len <= USER_TOP */
        return -E_RANGE;
    if (need == GRANT_READ)
        return copy_between(g, e.addr + off, p, addr, len);
    return copy_between(p, addr, g, e.addr + off, len);
}

/* KC_SAFECOPY_FROM(granter, grant, offset, addr, len): granter -> caller */
int64_t do_safecopy_from(struct proc *p, const uint64_t *a) { return safecopy(p, a, GRANT_READ); }

/* KC_SAFECOPY_TO(granter, grant, offset, addr, len): caller -> granter */
int64_t do_safecopy_to(struct proc *p, const uint64_t *a) { return safecopy(p, a, GRANT_WRITE); }
