/*
 * Credentials: each Linux process's real, effective, saved and
 * file-system user and group ids and its supplementary groups (struct
 * cred, samsara/fs.h), changed by Linux's rules. fork copies them (the
 * whole mproc is copied, and vfs copies its own view on VFS_PM_FORK);
 * exec keeps them, except that a set-user-id or set-group-id program's
 * owner or group becomes the effective id (cred_exec). Every change goes
 * to vfs (VFS_PM_SETCRED) before it takes effect here and before the call
 * returns, so vfs always checks file access with the ids the process has;
 * if vfs cannot be told, nothing changes and the call fails.
 *
 * Privilege is an effective uid of 0: Linux's CAP_SETUID, CAP_SETGID and
 * CAP_KILL, which root has and loses with its effective uid. Without it a
 * process may only move among its own real, effective and saved ids, and
 * may not change its supplementary groups.
 */
#include "pm.h"

#define NO_ID 0xffffffffu /* (uid_t)-1: "unchanged" for setre*id and setres*id */
#define S_IXGRP 010

enum { R, E, S, FS }; /* the four ids of one kind, in struct cred order */

/* The user ids (group 0) or the group ids (group 1) of c: R, E, S, FS. */
static uint32_t *ids(struct cred *c, int group)
{
    return group ? &c->rgid : &c->ruid;
}

static int privileged(const struct mproc *mp)
{
    return mp->cred.euid == 0;
}

/* id is one of the process's real, effective or saved ids of that kind. */
static int own_id(struct mproc *mp, int group, uint32_t id)
{
    const uint32_t *old = ids(&mp->cred, group);
    return id == old[R] || id == old[E] || id == old[S];
}

/* Make c mp's credentials: vfs first (it trusts pm and answers at once), then pm. */
static int64_t cred_set(struct mproc *mp, const struct cred *c)
{
    static struct cred sent;
    if (!memcmp(c, &mp->cred, sizeof(*c)))
        return 0;
    sent = *c;
    int64_t r = sysv_setcred(mp, &sent); /* first: a server that cannot be told changes nothing */
    if (r < 0)
        return r;
    grant_id_t g = grant_alloc(vfs_ep, &sent, sizeof(sent), GRANT_READ);
    r = -LX_EAGAIN;
    if (g >= 0) {
        message_t m = {.type = VFS_PM_SETCRED, .u.vfs_pm.setcred = {mp->ep, g}};
        vfs_request(&m, &r);
        grant_free(g);
    }
    if (r < 0)
        return r;
    mp->cred = sent;
    return 0;
}

/* setuid, setgid: privileged, all of real, effective and saved; else effective only. */
static int64_t set_id(struct mproc *mp, int group, uint32_t id)
{
    struct cred c = mp->cred;
    uint32_t *n = ids(&c, group);
    if (id == NO_ID)
        return -LX_EINVAL;
    if (privileged(mp))
        n[R] = n[S] = id;
    else if (id != n[R] && id != n[S])
        return -LX_EPERM;
    n[E] = n[FS] = id;
    return cred_set(mp, &c);
}

/* setreuid, setregid: the saved id follows a new effective id when the real one is set or differs.
 */
static int64_t set_re(struct mproc *mp, int group, uint32_t r, uint32_t e)
{
    struct cred c = mp->cred;
    uint32_t *n = ids(&c, group), old_r = n[R];
    int priv = privileged(mp);
    if (r != NO_ID && !priv && r != n[R] && r != n[E])
        return -LX_EPERM;
    if (e != NO_ID && !priv && !own_id(mp, group, e))
        return -LX_EPERM;
    if (r != NO_ID)
        n[R] = r;
    if (e != NO_ID)
        n[E] = e;
    if (r != NO_ID || (e != NO_ID && e != old_r))
        n[S] = n[E];
    n[FS] = n[E];
    return cred_set(mp, &c);
}

/* setresuid, setresgid: unprivileged, each new id must be one of the three old ones. */
static int64_t set_res(struct mproc *mp, int group, const uint64_t *a)
{
    struct cred c = mp->cred;
    uint32_t *n = ids(&c, group);
    for (int i = R; i <= S; i++)
        if ((uint32_t)a[i] != NO_ID && !privileged(mp) && !own_id(mp, group, (uint32_t)a[i]))
            return -LX_EPERM;
    for (int i = R; i <= S; i++)
        if ((uint32_t)a[i] != NO_ID)
            n[i] = (uint32_t)a[i];
    n[FS] = n[E];
    return cred_set(mp, &c);
}

/* getresuid, getresgid: three uint32 at three addresses. */
static int64_t get_res(struct mproc *mp, int group, const uint64_t *a)
{
    const uint32_t *n = ids(&mp->cred, group);
    for (int i = R; i <= S; i++)
        if (sys_vcopy(SELF, (uint64_t)&n[i], mp->ep, a[i], 4) < 0)
            return -LX_EFAULT;
    return 0;
}

/* setfsuid, setfsgid: the old value always; the new one if allowed (never an error). */
static int64_t set_fs(struct mproc *mp, int group, uint32_t id)
{
    struct cred c = mp->cred;
    uint32_t *n = ids(&c, group), old = n[FS];
    if (id != NO_ID && (privileged(mp) || own_id(mp, group, id) || id == old)) {
        n[FS] = id;
        cred_set(mp, &c);
    }
    return old;
}

/*
 * The calls, each in a user form (group 0) and a group form (group 1) made
 * from one expression: BOTH(setuid, setgid, ...) defines do_setuid and
 * do_setgid.
 */
#define BOTH(user_call, group_call, expr)                                                          \
    int64_t do_##user_call(struct mproc *mp, const uint64_t *a)                                    \
    {                                                                                              \
        const int group = 0;                                                                       \
        return (void)a, expr;                                                                      \
    }                                                                                              \
    int64_t do_##group_call(struct mproc *mp, const uint64_t *a)                                   \
    {                                                                                              \
        const int group = 1;                                                                       \
        return (void)a, expr;                                                                      \
    }
BOTH(getuid, getgid, ids(&mp->cred, group)[R])
BOTH(geteuid, getegid, ids(&mp->cred, group)[E])
BOTH(setuid, setgid, set_id(mp, group, (uint32_t)a[0]))
BOTH(setreuid, setregid, set_re(mp, group, (uint32_t)a[0], (uint32_t)a[1]))
BOTH(setresuid, setresgid, set_res(mp, group, a))
BOTH(getresuid, getresgid, get_res(mp, group, a))
BOTH(setfsuid, setfsgid, set_fs(mp, group, (uint32_t)a[0]))

/* getgroups(size, list): size 0 asks for the count; a smaller list than the groups is EINVAL. */
int64_t do_getgroups(struct mproc *mp, const uint64_t *a)
{
    int64_t size = (int32_t)a[0], n = mp->cred.ngroups;
    if (size < 0 || (size && size < n))
        return -LX_EINVAL;
    if (size && n && sys_vcopy(SELF, (uint64_t)mp->cred.groups, mp->ep, a[1], (uint64_t)n * 4) < 0)
        return -LX_EFAULT;
    return n;
}

/* setgroups(size, list): privileged only; kept sorted, as Linux keeps them. */
int64_t do_setgroups(struct mproc *mp, const uint64_t *a)
{
    struct cred c = mp->cred;
    uint64_t n = (uint32_t)a[0];
    if (!privileged(mp))
        return -LX_EPERM;
    if (n > CRED_NGROUPS)
        return -LX_EINVAL;
    memset(c.groups, 0, sizeof(c.groups));
    if (n && sys_vcopy(mp->ep, a[1], SELF, (uint64_t)c.groups, n * 4) < 0)
        return -LX_EFAULT;
    for (uint64_t i = 1; i < n; i++)
        for (uint64_t j = i; j > 0 && c.groups[j - 1] > c.groups[j]; j--) {
            uint32_t t = c.groups[j];
            c.groups[j] = c.groups[j - 1];
            c.groups[j - 1] = t;
        }
    c.ngroups = (uint32_t)n;
    return cred_set(mp, &c);
}

/*
 * exec: a set-user-id program runs with its owner as effective uid, a
 * set-group-id one (group execute bit set too) with its group as
 * effective gid; the saved and file-system ids become the effective ones.
 * *secure: the effective ids differ from the real ones (AT_SECURE).
 */
int64_t cred_exec(struct mproc *mp, uint64_t mode, uint64_t uid, uint64_t gid, int *secure)
{
    struct cred c = mp->cred;
    if (mode & S_ISUID)
        c.euid = (uint32_t)uid;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
        c.egid = (uint32_t)gid;
    c.suid = c.fsuid = c.euid;
    c.sgid = c.fsgid = c.egid;
    *secure = c.euid != c.ruid || c.egid != c.rgid;
    return cred_set(mp, &c);
}

/* kill: root, or a real or effective uid equal to the target's real or saved uid. */
int cred_may_signal(const struct mproc *sender, const struct mproc *target)
{
    const struct cred *s = &sender->cred, *t = &target->cred;
    return s->euid == 0 || s->euid == t->ruid || s->euid == t->suid || s->ruid == t->ruid ||
           s->ruid == t->suid;
}
