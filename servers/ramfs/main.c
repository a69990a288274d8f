/*
 * ramfs start-up and message loop. `ramfs [MODULE [CLIENT]]`: main borrows
 * the data module MODULE (default "initramfs.cpio") from root with
 * ROOT_MODULE and fills the tree from it (cpio.c), or starts with an empty
 * root if there is none. Then it answers FS_* requests (samsara/fs.h)
 * forever: each request gets one FS_REPLY through sendnb (the requester
 * waits in sendrec; a requester that does not wait loses its reply, nothing
 * more). Notifications and rs's messages are ignored.
 *
 * ramfs serves one client: the service labelled CLIENT (default "vfs",
 * which checks permissions; fstest in its suite), found with ROOT_LOOKUP.
 * Anyone else gets EPERM, counted and logged (service_refuse).
 *
 * Decoding is defensive: inode numbers must name live inodes (EINVAL),
 * grant ids must fit a grant_id_t and copies through them must succeed
 * (EFAULT), names are 1..FS_NAME_MAX bytes without '/' or NUL (EINVAL,
 * ENAMETOOLONG), and unknown types get ENOSYS. Replies that carry an inode
 * (LOOKUP, CREATE, SYMLINK) put w1 = ino, w2 = mode, w3 = rdev, w4 = size,
 * w5 = uid, w6 = gid, and count one reference, which the requester gives
 * back with FS_PUTNODE. Owners (CREATE w5/w6, SYMLINK w3/w4, CHOWN) must
 * fit 32 bits (EINVAL).
 */
#include "ramfs.h"

#define DEFAULT_MODULE "initramfs.cpio"
#define PAIR_MAX (FS_NAME_MAX + 1 + RAMFS_SYMLINK_MAX + 1) /* "name NUL target [NUL]" */

static endpoint_t who;          /* the requester being served */
static char client[16] = "vfs"; /* the label of the one service ramfs serves */
static endpoint_t client_ep;    /* its endpoint, as root last said */
static char name1[FS_NAME_MAX + 1];
static char pair[PAIR_MAX + 1];

static int grant_of(uint64_t w, grant_id_t *g)
{
    if (w > 0x7fffffffull)
        return -LX_EFAULT;
    *g = (grant_id_t)w;
    return 0;
}

/* The name of a request: w[gi] = grant, w[gi + 1] = length. */
static int64_t fetch_name(const message_t *m, int gi, char *buf)
{
    grant_id_t g;
    uint64_t len = m->u.w[gi + 1];
    if (len == 0)
        return -LX_EINVAL;
    if (len > FS_NAME_MAX)
        return -LX_ENAMETOOLONG;
    if (grant_of(m->u.w[gi], &g) < 0 || sys_safecopy_from(who, g, 0, buf, len) < 0)
        return -LX_EFAULT;
    buf[len] = '\0';
    int r = ramfs_name_ok(buf, len);
    return r < 0 ? r : (int64_t)len;
}

/*
 * Two strings "a NUL b" (a NUL after a non-empty b is allowed) of total bytes,
 * b at most bmax long: *alen, *boff and *blen locate them in pair[].
 */
static int fetch_pair(uint64_t gw, uint64_t total, uint64_t bmax, uint64_t *alen, uint64_t *boff,
                      uint64_t *blen)
{
    grant_id_t g;
    if (total < 2)
        return -LX_EINVAL;
    if (total > FS_NAME_MAX + 1 + bmax + 1)
        return -LX_ENAMETOOLONG;
    if (grant_of(gw, &g) < 0 || sys_safecopy_from(who, g, 0, pair, total) < 0)
        return -LX_EFAULT;
    uint64_t a = 0;
    while (a < total && pair[a])
        a++;
    if (a == total)
        return -LX_EINVAL; /* no separator */
    if (total > a + 1 && pair[total - 1] == '\0')
        total--; /* b's own terminator */
    pair[total] = '\0';
    *alen = a;
    *boff = a + 1;
    *blen = total - a - 1;
    int r = ramfs_name_ok(pair, a);
    if (r < 0)
        return r;
    for (uint64_t i = *boff; i < total; i++)
        if (!pair[i])
            return -LX_EINVAL;
    if (*blen > bmax)
        return -LX_ENAMETOOLONG;
    return 0;
}

static struct ramfs_inode *inode_arg(uint64_t w)
{
    return ramfs_iget(w);
}

/* Hand an inode to the requester, who now holds one more reference. */
static int64_t give(message_t *r, struct ramfs_inode *ip)
{
    struct fs_stat st;
    ramfs_fill_stat(ip, &st);
    if (ip->refs < 0xffffffffu)
        ip->refs++;
    r->u.w[1] = ip->ino;
    r->u.w[2] = ip->mode;
    r->u.w[3] = ip->rdev;
    r->u.w[4] = st.size;
    r->u.w[5] = ip->uid;
    r->u.w[6] = ip->gid;
    return 0;
}

/* Owner words of a request: each must fit 32 bits. */
static int owner_ok(uint64_t uid, uint64_t gid)
{
    return uid <= 0xffffffffull && gid <= 0xffffffffull;
}

/* A new inode (rc 0) gets its owner, and the requester a reference. */
static int64_t give_owned(message_t *r, int rc, struct ramfs_inode *ip, uint64_t uid, uint64_t gid)
{
    if (rc < 0)
        return rc;
    ip->uid = (uint32_t)uid;
    ip->gid = (uint32_t)gid;
    return give(r, ip);
}

static int64_t do_named(const message_t *m, message_t *r)
{
    struct ramfs_inode *dir = inode_arg(m->u.w[0]), *ip;
    if (!dir)
        return -LX_EINVAL;
    if (!RAMFS_ISDIR(dir))
        return -LX_ENOTDIR;
    int64_t len = fetch_name(m, 1, name1);
    if (len < 0)
        return len;
    int rc;
    switch (m->type) {
    case FS_LOOKUP:
        rc = ramfs_lookup(dir, name1, (uint64_t)len, &ip);
        return rc < 0 ? rc : give(r, ip);
    case FS_CREATE:
        if (m->u.w[3] > 0xffffffffull || !owner_ok(m->u.w[5], m->u.w[6]))
            return -LX_EINVAL;
        rc = ramfs_create(dir, name1, (uint64_t)len, (uint32_t)m->u.w[3], m->u.w[4], &ip);
        return give_owned(r, rc, ip, m->u.w[5], m->u.w[6]);
    case FS_LINK:
        if (!(ip = inode_arg(m->u.w[3])))
            return -LX_EINVAL;
        return ramfs_link(dir, name1, (uint64_t)len, ip);
    case FS_UNLINK:
        return ramfs_unlink(dir, name1, (uint64_t)len);
    default: /* FS_RMDIR */
        return ramfs_rmdir(dir, name1, (uint64_t)len);
    }
}

static int64_t do_symlink(const message_t *m, message_t *r)
{
    struct ramfs_inode *dir = inode_arg(m->u.w[0]), *ip;
    uint64_t nlen, toff, tlen;
    if (!dir)
        return -LX_EINVAL;
    if (!RAMFS_ISDIR(dir))
        return -LX_ENOTDIR;
    if (!owner_ok(m->u.w[3], m->u.w[4]))
        return -LX_EINVAL;
    int rc = fetch_pair(m->u.w[1], m->u.w[2], RAMFS_SYMLINK_MAX, &nlen, &toff, &tlen);
    if (rc < 0)
        return rc;
    rc = ramfs_symlink(dir, pair, nlen, pair + toff, tlen, &ip);
    return give_owned(r, rc, ip, m->u.w[3], m->u.w[4]);
}

static int64_t do_rename(const message_t *m)
{
    struct ramfs_inode *odir = inode_arg(m->u.w[0]), *ndir = inode_arg(m->u.w[1]);
    uint64_t olen, noff, nlen;
    if (!odir || !ndir)
        return -LX_EINVAL;
    if (!RAMFS_ISDIR(odir) || !RAMFS_ISDIR(ndir))
        return -LX_ENOTDIR;
    int rc = fetch_pair(m->u.w[2], m->u.w[3], FS_NAME_MAX, &olen, &noff, &nlen);
    if (rc < 0)
        return rc;
    if ((rc = ramfs_name_ok(pair + noff, nlen)) < 0)
        return rc;
    return ramfs_rename(odir, pair, olen, ndir, pair + noff, nlen);
}

/* READ, WRITE, TRUNC: regular files only. */
static int64_t do_data(const message_t *m)
{
    struct ramfs_inode *ip = inode_arg(m->u.w[0]);
    grant_id_t g = 0;
    if (!ip)
        return -LX_EINVAL;
    if (RAMFS_ISDIR(ip))
        return -LX_EISDIR;
    if (!RAMFS_ISREG(ip))
        return -LX_EINVAL;
    if (m->type == FS_TRUNC)
        return ramfs_truncate(ip, m->u.w[1]);
    if (grant_of(m->u.w[2], &g) < 0)
        return -LX_EFAULT;
    if (m->type == FS_READ)
        return ramfs_read(ip, m->u.w[1], who, g, m->u.w[3]);
    return ramfs_write(ip, m->u.w[1], who, g, 0, m->u.w[3]);
}

static int64_t do_getdents(const message_t *m, message_t *r)
{
    struct ramfs_inode *dir = inode_arg(m->u.w[0]);
    grant_id_t g;
    uint64_t cookie = m->u.w[1];
    if (!dir)
        return -LX_EINVAL;
    if (!RAMFS_ISDIR(dir))
        return -LX_ENOTDIR;
    if (grant_of(m->u.w[2], &g) < 0)
        return -LX_EFAULT;
    int64_t n = ramfs_getdents(dir, &cookie, who, g, m->u.w[3]);
    r->u.w[1] = cookie;
    return n;
}

static int64_t do_readlink(const message_t *m)
{
    struct ramfs_inode *ip = inode_arg(m->u.w[0]);
    grant_id_t g;
    if (!ip)
        return -LX_EINVAL;
    if (!RAMFS_ISLNK(ip) || m->u.w[2] == 0)
        return -LX_EINVAL;
    if (grant_of(m->u.w[1], &g) < 0)
        return -LX_EFAULT;
    uint64_t n = m->u.w[2] < ip->size ? m->u.w[2] : ip->size;
    if (sys_safecopy_to(who, g, 0, ip->target, n) < 0)
        return -LX_EFAULT;
    ip->atime = ramfs_now();
    return (int64_t)n;
}

static int64_t do_stat(const message_t *m)
{
    grant_id_t g;
    if (m->type == FS_STATFS) {
        struct fs_statfs sf;
        ramfs_fill_statfs(&sf);
        if (grant_of(m->u.w[1], &g) < 0 || sys_safecopy_to(who, g, 0, &sf, sizeof(sf)) < 0)
            return -LX_EFAULT;
        return 0;
    }
    struct ramfs_inode *ip = inode_arg(m->u.w[0]);
    struct fs_stat st;
    if (!ip)
        return -LX_EINVAL;
    ramfs_fill_stat(ip, &st);
    if (grant_of(m->u.w[1], &g) < 0 || sys_safecopy_to(who, g, 0, &st, sizeof(st)) < 0)
        return -LX_EFAULT;
    return 0;
}

static int64_t do_inode(const message_t *m)
{
    struct ramfs_inode *ip = inode_arg(m->u.w[0]);
    if (!ip)
        return -LX_EINVAL;
    if (m->type == FS_CHMOD) {
        ip->mode = (ip->mode & S_IFMT) | (uint32_t)(m->u.w[1] & 07777);
        ip->ctime = ramfs_now();
        return 0;
    }
    if (m->type == FS_CHOWN) {
        if (!owner_ok(m->u.w[1], m->u.w[2]))
            return -LX_EINVAL;
        ip->uid = (uint32_t)m->u.w[1];
        ip->gid = (uint32_t)m->u.w[2];
        ip->mode = (ip->mode & S_IFMT) | (uint32_t)(m->u.w[3] & 07777);
        ip->ctime = ramfs_now();
        return 0;
    }
    if (m->type == FS_UTIME) {
        uint64_t now = ramfs_now();
        if (m->u.w[1] != FS_TIME_OMIT)
            ip->atime = m->u.w[1] == FS_TIME_NOW ? now : m->u.w[1];
        if (m->u.w[2] != FS_TIME_OMIT)
            ip->mtime = m->u.w[2] == FS_TIME_NOW ? now : m->u.w[2];
        ip->ctime = now;
        return 0;
    }
    /* FS_PUTNODE: one reference less (none left is not an error) */
    if (ip->refs)
        ip->refs--;
    ramfs_iput_check(ip);
    return 0;
}

static int64_t dispatch(const message_t *m, message_t *r)
{
    switch (m->type) {
    case FS_LOOKUP:
    case FS_CREATE:
    case FS_LINK:
    case FS_UNLINK:
    case FS_RMDIR:
        return do_named(m, r);
    case FS_SYMLINK:
        return do_symlink(m, r);
    case FS_RENAME:
        return do_rename(m);
    case FS_READ:
    case FS_WRITE:
    case FS_TRUNC:
        return do_data(m);
    case FS_GETDENTS:
        return do_getdents(m, r);
    case FS_READLINK:
        return do_readlink(m);
    case FS_STAT:
    case FS_STATFS:
        return do_stat(m);
    case FS_CHMOD:
    case FS_CHOWN:
    case FS_UTIME:
    case FS_PUTNODE:
        return do_inode(m);
    default:
        return -LX_ENOSYS;
    }
}

/* Is ep our client? Root is asked again whenever ep is not the endpoint it last named. */
static int is_client(endpoint_t ep)
{
    if (ep == client_ep)
        return 1;
    endpoint_t found = root_lookup(client);
    if (found <= 0)
        return 0;
    client_ep = found;
    return ep == client_ep;
}

/* Borrow the initramfs from root and load it. */
static void load(const char *module)
{
    grant_id_t grant;
    uint64_t size;
    int r = root_module(module, &grant, &size);
    if (r < 0) {
        printf("ramfs: no module %s (%s): starting with an empty root\n", module, strerror_s(r));
        return;
    }
    ramfs_cpio_load(ROOT_EP, grant, size, module);
}

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    char module[32];
    while (*arg == ' ')
        arg++;
    strncpy_s(module, *arg ? arg : DEFAULT_MODULE, sizeof(module));
    for (char *p = module; *p; p++)
        if (*p == ' ')
            *p = '\0';
    while (*arg && *arg != ' ') /* the second word: the client's label */
        arg++;
    while (*arg == ' ')
        arg++;
    if (*arg)
        strncpy_s(client, arg, sizeof(client));
    for (char *p = client; *p; p++)
        if (*p == ' ')
            *p = '\0';
    ramfs_heap_init();
    if (ramfs_root_init() < 0) {
        printf("ramfs: no memory for the root directory (KC_MEM_MAP allowed?)\n");
        return 1;
    }
    load(module);
    service_startup("ramfs", 0); /* ready; rs's pings and save requests: service_receive */
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0 || m.source <= 0 || m.type == MSG_NOTIFY || m.source == ROOT_EP)
            continue; /* nothing else from rs is for ramfs */
        who = m.source;
        message_t r = {.type = FS_REPLY};
        if (!is_client(m.source)) {
            service_refuse("ramfs", &m, "only its client may use it");
            r.u.w[0] = (uint64_t)-LX_EPERM;
            ipc_sendnb(m.source, &r);
            continue;
        }
        r.u.w[0] = (uint64_t)dispatch(&m, &r);
        ipc_sendnb(m.source, &r);
    }
}
