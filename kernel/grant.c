/*
 * Grants and safecopy. The grant table lives in the granter's memory
 * (KC_SETGRANT says where); the kernel reads entry `id` at every copy, so a
 * change or revocation by the granter takes effect on the next copy.
 * A copy is allowed only for the exact grantee endpoint, within the
 * granted range, in a granted direction. An indirect grant names a range
 * of a grant made to its granter; a copy follows the chain to the memory,
 * checking each entry the same way (grant_resolve). A PRIV_USERS server's
 * indirect grant may name a Linux process's memory itself (user_memory).
 */
#include <samsara/grant.h>
#include "kernel.h"

/* KC_SETGRANT(table*, count): count 0 withdraws every grant. */
int64_t do_setgrant(struct proc *p, const uint64_t *a)
{
    if (a[1] > GRANT_MAX_ENTRIES || (a[1] && !user_range_ok(a[0], a[1] * sizeof(struct grant))))
        return refuse(p, a[1] > GRANT_MAX_ENTRIES ? 2 : 1, -E_INVAL);
    p->grant_table = a[0];
    p->grant_count = a[1];
    return 0;
}

/*
 * An indirect entry of g with inner id GRANT_USER_MEMORY: [addr, addr+len) of
 * the Linux process inner_granter's own memory (it has no grant table), for a
 * PRIV_USERS granter, which may reach that memory itself with KC_VCOPY.
 */
static int64_t user_memory(struct proc *g, const struct grant *e, uint64_t off, struct proc **gp,
                           uint64_t *addr)
{
    int r = ep_lookup(e->inner_granter, gp);
    if (r < 0)
        return r;
    if (!(g->priv.flags & PRIV_USERS) || !(*gp)->user || !user_range_ok(e->addr, e->len))
        return -E_BADGRANT;
    *addr = e->addr + off; /* off <= len: within the range just checked */
    return 0;
}

/*
 * Where [off, off+len) of grant `id` of `ep` is, for caller p copying in
 * direction `need`: sets *gp and *addr. Each entry of the chain must be
 * valid, for the process that reached it (p, then each indirect grant's
 * granter), allow `need`, and hold the range; at most GRANT_MAX_DEPTH
 * entries (so a loop ends as E_LOOP). A missing direction at the first
 * entry is the caller's denial; further in, the fault is upstream: E_PERM.
 */
static int64_t grant_resolve(struct proc *p, uint32_t op, endpoint_t ep, uint64_t id, uint64_t off,
                             uint64_t len, uint32_t need, struct proc **gp, uint64_t *addr)
{
    struct proc *who = p;
    int vec = op == KC_SAFECOPY_VEC; /* the refused argument: the piece list, or (granter, */
                                     /* grant, offset, addr, len) of a safecopy */
    for (int depth = 0; depth < GRANT_MAX_DEPTH; depth++) {
        struct grant e;
        int r = ep_lookup(ep, gp);
        if (r < 0)
            return refuse(p, vec ? 2 : 1, r);
        struct proc *g = *gp;
        if (id >= g->grant_count ||
            copy_from_user(g, g->grant_table + id * sizeof(e), &e, sizeof(e)) < 0 ||
            !(e.flags & GRANT_VALID) || e.grantee != who->ep ||
            (!(e.flags & GRANT_INDIRECT) && !user_range_ok(e.addr, e.len)))
            return refuse(p, 2, -E_BADGRANT); /* a direct grant describes user memory: no wrap */
        if (!(e.flags & need))
            return depth ? refuse(p, 2, -E_PERM) : deny(p, 2);
        if (off > e.len || len > e.len - off)
            return refuse(p, vec ? 2 : off > e.len ? 3 : 5, -E_RANGE);
        if (!(e.flags & GRANT_INDIRECT)) {
            *addr = e.addr + off; /* <= USER_TOP - len */
            return 0;
        }
        if (off > ~0ull - e.addr) /* the offset in the inner grant */
            return refuse(p, 2, -E_RANGE);
        if (e.inner_id == GRANT_USER_MEMORY)
            return user_memory(g, &e, off, gp, addr);
        who = g, ep = e.inner_granter, id = (uint64_t)(int64_t)e.inner_id, off += e.addr;
    }
    return refuse(p, 2, -E_LOOP);
}

static int64_t safecopy(struct proc *p, const uint64_t *a, uint32_t need, uint32_t op)
{
    struct proc *g;
    uint64_t at;
    int64_t r = grant_resolve(p, op, (endpoint_t)a[0], a[1], a[2], a[4], need, &g, &at);
    if (r < 0)
        return r;
    if (need == GRANT_READ)
        return copy_between(g, at, p, a[3], a[4]);
    return copy_between(p, a[3], g, at, a[4]);
}

/* KC_SAFECOPY_FROM(granter, grant, offset, addr, len): granter -> caller */
int64_t do_safecopy_from(struct proc *p, const uint64_t *a)
{
    return safecopy(p, a, GRANT_READ, KC_SAFECOPY_FROM);
}

/* KC_SAFECOPY_TO(granter, grant, offset, addr, len): caller -> granter */
int64_t do_safecopy_to(struct proc *p, const uint64_t *a)
{
    return safecopy(p, a, GRANT_WRITE, KC_SAFECOPY_TO);
}

/*
 * KC_SAFECOPY_VEC(GRANT_READ|GRANT_WRITE, piece*, count): count copies in
 * one direction. Every piece is resolved and both of its ranges checked
 * before the first byte moves, and the copies use what was resolved, so a
 * piece that writes into a grant table cannot change a later piece.
 * Returns the total length.
 */
int64_t do_safecopy_vec(struct proc *p, const uint64_t *a)
{
    struct safecopy_piece v[SAFECOPY_VEC_MAX];
    struct proc *g[SAFECOPY_VEC_MAX];
    uint64_t at[SAFECOPY_VEC_MAX], n = a[2], total = 0;
    uint32_t need = (uint32_t)a[0];
    if ((a[0] != GRANT_READ && a[0] != GRANT_WRITE) || n > SAFECOPY_VEC_MAX)
        return refuse(p, n > SAFECOPY_VEC_MAX ? 3 : 1, -E_INVAL);
    if (copy_from_user(p, a[1], v, n * sizeof(v[0])) < 0)
        return refuse(p, 2, -E_FAULT);
    for (uint64_t i = 0; i < n; i++) {
        int64_t r = grant_resolve(p, KC_SAFECOPY_VEC, v[i].granter, (uint64_t)(int64_t)v[i].grant,
                                  v[i].offset, v[i].len, need, &g[i], &at[i]);
        if (r < 0)
            return r;
        if (!user_range_mapped(g[i], at[i], v[i].len, need == GRANT_WRITE) ||
            !user_range_mapped(p, v[i].addr, v[i].len, need == GRANT_READ))
            return refuse(p, 2, -E_FAULT);
        total += v[i].len; /* each len <= USER_TOP = 2^47, so 16 of them cannot wrap */
    }
    for (uint64_t i = 0; i < n; i++) /* cannot fail: every range was checked above */
        if (need == GRANT_READ)
            copy_between(g[i], at[i], p, v[i].addr, v[i].len);
        else
            copy_between(p, v[i].addr, g[i], at[i], v[i].len);
    return (int64_t)total;
}
