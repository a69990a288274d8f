/*
 * The mount table: which file-system server serves which part of the tree.
 *
 * vfs's argument (its boot module's words, or `args` in vfs.conf) names
 * them: `root=LABEL` is the root file system (default ramfs), and each
 * `mount=PATH:LABEL` mounts the server LABEL on the directory PATH of what
 * is mounted already, in the order given (`vfs root=ext2 mount=/tmp:tmpfs`).
 * /proc (vfs's own, procfs.c) is mounted after the root. A server is found
 * by its label (ROOT_LOOKUP) and asked for its root (FS_MOUNT); the mount
 * point's vnode holds the mounted root in `mounted` (path.c crosses it,
 * both ways). The table keeps the label, so a server that rs restarts is
 * followed: at every ds notification (vfs subscribes to ep.*, rs's record
 * of every service's endpoint) a mount whose endpoint died is bound to the
 * label's new instance, and every vnode of the old one moves to it (inode
 * numbers of a disk file system stay valid; a ramfs comes back empty).
 *
 * st_dev: a mount's index + 1 (Linux's anonymous devices 0:N), stable
 * across its server's restarts. Root may mount and unmount with mount(2)
 * and umount2(2) (fstype = the server's label). sync reaches every mounted
 * server (FS_SYNC); shutdown (pm, at reboot(2)) syncs and unmounts them all
 * (FS_UNMOUNT), the root last.
 *
 * Bind mounts (mount(2) with MS_BIND; this file's lower half): a directory
 * of any mounted server appears again on another directory (a file on a
 * file; with MS_REC, the mounts below it too). The bound tree has vnodes
 * of its own (vnode.bind = the mount's number), so `..`, getcwd and the
 * mounts made inside it are the bind mount's, as in Linux, while files,
 * data and locks are the same. Read-only: each mount's flag and its file
 * system's (MS_REMOUNT, mount_erofs). The server's own mount may be
 * unmounted while binds remain (it stays, detached, until the last goes).
 * Mounts may be stacked
 * (a mount on a mounted root covers it; umount2 takes the top one).
 * Propagation: MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE (with MS_REC:
 * the mounts below too) set a mount's peer group; a bind of a shared mount
 * joins its group; a mount made on the ROOT of a shared mount is copied
 * onto the roots of its peers (and slaves) that show the same directory,
 * and unmounting it removes the copies that nothing uses. Mounts made on a
 * directory inside a shared mount are not copied (Linux copies them too).
 */
#include <samsara/root.h>
#include "vfs.h"

#define NR_MOUNTS 32
#define MS_RDONLY 1 /* mount(2) flags (Linux values) */
#define MS_REMOUNT 32
#define MS_SILENT 32768
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_REC 16384
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_SHARED (1 << 20)
#define MS_PROPAGATION (MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED)
#define MOUNT_PATH_MAX 256

struct mount {
    char label[16];            /* the server's service label; "" = free entry */
    char path[MOUNT_PATH_MAX]; /* where, for /proc/mounts */
    endpoint_t ep;             /* its running instance (PROCFS_EP: vfs's /proc) */
    struct vnode *root;        /* its root, held */
    struct vnode *covered;     /* the mount point, held; 0 for the root */
    int gone;                  /* its server died: requests fail until it is back */
    uint64_t gone_since;       /* the tick vfs saw it gone */
    int bind;                  /* a bind mount: its vnodes' number (vnode.bind); 0: the server's */
    int group;                 /* its peer group (shared), 0: private */
    int master;                /* a slave: the group it receives mounts from */
    int unbindable;            /* MS_UNBINDABLE: no bind of it (EINVAL) */
    int rdonly;                /* MS_RDONLY: this mount is read-only (Linux's MNT_READONLY) */
    int fs_rdonly;             /* the server's own mount: its whole file system is read-only */
    int detached;              /* the server's own mount, unmounted while binds of it remain */
};

static struct mount mounts[NR_MOUNTS];
static int last_bind, last_group; /* numbers given out */

/* The server's own mount (not a bind of it). */
static struct mount *mount_of_ep(endpoint_t ep)
{
    for (int i = 0; i < NR_MOUNTS; i++)
        if (mounts[i].label[0] && mounts[i].ep == ep && !mounts[i].bind)
            return &mounts[i];
    return 0;
}

/* The mount whose tree v is in. */
static struct mount *mount_of_vnode(const struct vnode *v)
{
    for (int i = 0; i < NR_MOUNTS; i++)
        if (mounts[i].label[0] && mounts[i].ep == v->fs && mounts[i].bind == v->bind)
            return &mounts[i];
    return 0;
}

/* The mount whose root is v, or 0. */
static struct mount *mount_rooted_at(const struct vnode *v)
{
    for (int i = 0; i < NR_MOUNTS; i++)
        if (mounts[i].label[0] && mounts[i].root == v)
            return &mounts[i];
    return 0;
}

static struct mount *mount_free_entry(void)
{
    for (int i = 0; i < NR_MOUNTS; i++)
        if (!mounts[i].label[0])
            return &mounts[i];
    return 0;
}

/* st_dev of a vnode: its mount's number (pipes, sockets: 0). */
uint64_t mount_dev(endpoint_t fs)
{
    struct mount *m = mount_of_ep(fs);
    return m ? (uint64_t)(m - mounts) + 1 : 0;
}

/*
 * -EROFS if v, a regular file, directory or symbolic link, is reached
 * through a read-only mount or is on a read-only file system; else 0
 * (devices, FIFOs and sockets stay writable there, as in Linux).
 */
int mount_erofs(const struct vnode *v)
{
    uint64_t type = v->mode & S_IFMT;
    if (v->fs == NONE || (type != S_IFREG && type != S_IFDIR && type != S_IFLNK))
        return 0;
    const struct mount *m = mount_of_vnode(v), *own = mount_of_ep(v->fs);
    return (m && m->rdonly) || (own && own->fs_rdonly) ? -LX_EROFS : 0;
}

/* FS_MOUNT to ep: its root as a vnode (held), or 0. */
static struct vnode *ask_root(endpoint_t ep, int64_t *err)
{
    if (ep == PROCFS_EP)
        return vnode_get(PROCFS_EP, FS_ROOT_INO, S_IFDIR | 0555, 0);
    message_t m = {.type = FS_MOUNT};
    *err = fs_call(ep, &m);
    if (*err < 0)
        return 0;
    const struct msg_fs_node_reply *n = &m.u.fs.node;
    struct fs_node node = {n->ino, n->mode, n->rdev, n->uid, n->gid};
    if ((node.mode & S_IFMT) != S_IFDIR) {
        fs_putnode(ep, node.ino);
        *err = -LX_ENOTDIR;
        return 0;
    }
    struct vnode *v = vnode_from_fs(ep, &node);
    if (!v)
        *err = -LX_ENFILE;
    return v;
}

static struct mount *bind_new(struct vnode *src, struct vnode *covered, const char *path,
                              const char *label, int64_t *err);

/* Does mount p receive what is mounted on peer group g's mounts? */
static int receives(const struct mount *p, int g)
{
    return g && p->label[0] && (p->group == g || p->master == g);
}

/*
 * Put m (its covered and root set) in the tree, and, if it covers the root
 * of a shared mount, a copy of it (a bind of its root) on each peer's root
 * that shows the same directory and has nothing mounted on it yet. m and
 * its copies then form a peer group of their own (Linux: a mount on a
 * shared mount is shared).
 */
static void mount_attach(struct mount *m)
{
    vnode_mount_on(m->covered, m->root);
    struct mount *under = mount_rooted_at(m->covered);
    if (!under || !under->group)
        return;
    int g = under->group;
    uint32_t peers = 0; /* those there before the copies */
    for (int i = 0; i < NR_MOUNTS; i++)
        if (&mounts[i] != under && &mounts[i] != m && receives(&mounts[i], g))
            peers |= 1u << i;
    for (int i = 0; i < NR_MOUNTS; i++) {
        struct mount *p = &mounts[i];
        if (!(peers >> i & 1) || p->root->mounted || p->root->ino != under->root->ino ||
            p->ep != under->ep)
            continue;
        int64_t err;
        struct mount *copy = bind_new(m->root, p->root, p->path, m->label, &err);
        if (!copy) {
            printf("vfs: no copy of the mount on %s for %s: error %ld\n", m->path, p->path, -err);
            continue;
        }
        m->group = m->group ? m->group : ++last_group;
        copy->group = m->group;
        vnode_mount_on(copy->covered, copy->root);
    }
    m->group = m->group ? m->group : ++last_group;
}

/*
 * Mount the server labelled label (PROCFS_EP for /proc) on path ("/": the
 * root). 0 or -errno; the log line says why not.
 */
static int64_t mount_at(const char *path, const char *label, endpoint_t ep, int rdonly)
{
    struct mount *m = mount_free_entry();
    if (strlen(label) >= sizeof(m->label) || strlen(path) >= MOUNT_PATH_MAX)
        return -LX_ENAMETOOLONG;
    if (!m)
        return -LX_ENOSPC;
    if (!ep)
        ep = root_lookup(label);
    if (ep == 0 || (ep < 0 && ep != PROCFS_EP))
        return -LX_ENODEV; /* no such service running */
    if (mount_of_ep(ep))
        return -LX_EBUSY; /* one mount per server */
    struct vnode *covered = 0;
    int64_t r = 0;
    if (strcmp(path, "/")) {
        if ((r = path_lookup(0, AT_FDCWD, path, 1, &covered)) < 0)
            return r;
        if ((covered->mode & S_IFMT) != S_IFDIR || covered == root_vnode) { /* stacks allowed */
            r = (covered->mode & S_IFMT) != S_IFDIR ? -LX_ENOTDIR : -LX_EBUSY;
            vnode_put(covered);
            return r;
        }
    } else if (root_vnode) {
        return -LX_EBUSY;
    }
    struct vnode *root = ask_root(ep, &r);
    if (!root) {
        vnode_put(covered);
        return r;
    }
    *m = (struct mount){
        .ep = ep, .root = root, .covered = covered, .rdonly = rdonly, .fs_rdonly = rdonly};
    strncpy_s(m->label, label, sizeof(m->label));
    strncpy_s(m->path, path, sizeof(m->path));
    if (covered)
        mount_attach(m);
    else
        root_vnode = root;
    if (ep != PROCFS_EP && covered)
        printf("vfs: mounted %s (endpoint %d) on %s\n", label, ep, path);
    return 0;
}

/* A mount of the argument or of the start; the log line says how it went. */
static void mount_logged(const char *path, const char *label, endpoint_t ep)
{
    int64_t r = mount_at(path, label, ep, 0);
    if (r < 0)
        printf("vfs: cannot mount %s on %s: error %ld\n", label, path, -r);
}

/* The next word of s (at most n-1 bytes) into w; s moves past it. 0 at the end. */
static int next_word(const char **s, char *w, size_t n)
{
    while (**s == ' ')
        (*s)++;
    size_t len = 0;
    while ((*s)[len] && (*s)[len] != ' ')
        len++;
    if (!len)
        return 0;
    size_t keep = len < n ? len : n - 1;
    memcpy(w, *s, keep);
    w[keep] = '\0';
    *s += len;
    return 1;
}

/*
 * The root from `root=LABEL` (default ramfs); 0, or -1 when there is none
 * (vfs cannot run without one).
 */
int mount_root(const char *args)
{
    char word[MOUNT_PATH_MAX + 20], label[20] = "ramfs";
    for (const char *s = args; next_word(&s, word, sizeof(word));)
        if (!strncmp(word, "root=", 5))
            strncpy_s(label, word + 5, sizeof(label));
    int64_t r = mount_at("/", label, 0, 0);
    if (r < 0) {
        printf("vfs: no root file system (%s): error %ld\n", label, -r);
        return -1;
    }
    struct fs_stat st;
    fs_stat(root_vnode, &st); /* its mode and owner */
    printf("vfs: root file system is %s (endpoint %d)\n", label, root_vnode->fs);
    return 0;
}

/* /proc, then every `mount=PATH:LABEL` of the argument, in order. */
void mount_others(const char *args)
{
    char word[MOUNT_PATH_MAX + 20];
    mount_logged("/proc", "proc", PROCFS_EP);
    for (const char *s = args; next_word(&s, word, sizeof(word));) {
        if (strncmp(word, "mount=", 6))
            continue;
        char *colon = word + 6;
        while (*colon && *colon != ':')
            colon++;
        if (!*colon || colon == word + 6 || !colon[1]) {
            printf("vfs: %s: want mount=PATH:LABEL\n", word);
            continue;
        }
        *colon = '\0';
        mount_logged(word + 6, colon + 1, 0);
    }
}

/*
 * Whether rs's new instance now of a mounted server carries on its previous instance's state,
 * with the request in flight rolled back (FS_MOUNT's result 1: docs/FILESYSTEMS.md, "Replay"). The
 * root reference FS_MOUNT counts goes back to a server that kept ours; a fresh one keeps it (it
 * counts none of the others).
 */
static int instance_kept(endpoint_t now)
{
    message_t q = {.type = FS_MOUNT};
    int64_t r = fs_call(now, &q);
    if (r < 0)
        return 0;
    int kept = r == 1;
    if (kept)
        fs_putnode(now, q.u.fs.node.ino);
    return kept;
}

/*
 * A mounted server died or came back (ds said a service changed): bind each
 * mount whose instance is dead to the label's new one, and move its vnodes
 * there. A mount whose server is down for good answers EIO (fs_call: the
 * dead endpoint).
 */
void mounts_check(void)
{
    struct proc_info info;
    for (int i = 0; i < NR_MOUNTS; i++) {
        struct mount *m = &mounts[i];
        if (!m->label[0] || m->bind || m->ep == PROCFS_EP || sys_proc_info(m->ep, &info) == 0)
            continue;
        fswait_server_gone(m->ep); /* calls waiting for it go on (with the new one, or EIO) */
        endpoint_t now = root_lookup(m->label);
        if (now <= 0 || now == m->ep) {
            namecache_forget_fs(m->ep); /* its puts go to the dead one */
            if (!m->gone)
                printf("vfs: %s (mounted on %s) is gone\n", m->label, m->path);
            if (!m->gone)
                m->gone_since = sys_uptime();
            m->gone = 1;
            continue;
        }
        int kept = instance_kept(now);
        if (!kept && sys_proc_info(now, &info) != 0)
            continue; /* it died before it answered (not a fresh start): bound to the next one */
        if (!kept)
            namecache_forget_fs(m->ep);     /* a ramfs comes back empty; puts go to the dead one */
        vnode_rebind(m->ep, now);           /* a fresh instance counts none of our references */
        for (int j = 0; j < NR_MOUNTS; j++) /* its bind mounts follow it */
            if (mounts[j].label[0] && mounts[j].bind && mounts[j].ep == m->ep)
                mounts[j].ep = now;
        if (kept) {
            vnode_hold_again(now);    /* one that kept the state counts them again (FS_HOLD), */
            namecache_forget_fs(now); /* and hears the cache's puts (a change in flight may */
        }                             /* have been committed: the names are asked again) */
        fswait_puts_again(m->ep, now, kept);               /* and those the dead one did not hear */
        int waited = fswait_server_back(m->ep, now, kept); /* the calls that waited go on */
        printf("vfs: %s (mounted on %s) restarted: endpoint %d, was %d, %s; %d calls waited\n",
               m->label, m->path, now, m->ep, kept ? "its state kept" : "a fresh start", waited);
        m->ep = now;
        m->gone = 0;
    }
}

/* How long (ms) the mount of server fs has been known dead with no new instance; 0: it is not. */
uint64_t mount_gone_ms(endpoint_t fs)
{
    struct mount *m = mount_of_ep(fs);
    return m && m->gone ? sys_uptime() - m->gone_since + 1 : 0;
}

/* sync(2), syncfs(2), fsync(2): FS_SYNC of ino (0: all) to fs, or to every mount (fs 0). */
int64_t mount_sync(endpoint_t fs, uint64_t ino)
{
    int64_t result = 0;
    for (int i = 0; i < NR_MOUNTS; i++) {
        struct mount *m = &mounts[i];
        if (!m->label[0] || m->bind || m->ep == PROCFS_EP || (fs && m->ep != fs))
            continue;
        message_t q = {.type = FS_SYNC, .u.fs.sync = {ino}};
        int64_t r = fs_call(m->ep, &q);
        if (r < 0 && r != -LX_ENOSYS && !result)
            result = r;
    }
    return result;
}

/*
 * Unmount m: FS_UNMOUNT (the server writes everything out and stops
 * serving), then the mount point lets go. force: even if files are open
 * (shutdown). -EBUSY if a vnode of the server is still in use otherwise.
 * A bind lets go of its tree only. The server's own mount, while binds of
 * it remain, leaves the tree but stays in the table, detached (the binds
 * go on, and rs's restarts are followed); the last bind's unmount then
 * unmounts it.
 */
static int64_t unmount(struct mount *m, int force)
{
    int binds = 0;
    for (int i = 0; i < NR_MOUNTS; i++)
        binds += mounts[i].label[0] && mounts[i].bind && mounts[i].ep == m->ep;
    int detach = !m->bind && binds && !force;
    int held = 1 + (m->covered == 0 && !m->detached); /* the root's own hold, and root_vnode */
    namecache_forget_fs(m->ep); /* the cache's references do not keep it busy */
    if (!force && vnode_count(m->ep, m->bind || detach ? m->bind : -1) > held)
        return -LX_EBUSY; /* something open, a cwd or a mount inside */
    int64_t r = 0;
    if (m->bind || detach) { /* the server goes on serving */
        vnode_mount_on(m->covered, 0);
        vnode_put(m->covered);
        m->covered = 0;
        m->detached = detach;
        if (detach)
            return 0;
        if (!force)
            vnode_put(m->root);
        m->label[0] = '\0';
        struct mount *own = mount_of_ep(m->ep);
        return !force && binds == 1 && own && own->detached ? unmount(own, 0) : 0;
    }
    if (m->ep != PROCFS_EP) {
        message_t q = {.type = FS_UNMOUNT};
        r = fs_call(m->ep, &q);
    }
    int in_tree = m->covered != 0;
    if (in_tree) {
        vnode_mount_on(m->covered, 0);
        vnode_put(m->covered);
        m->covered = 0;
    }
    if (!force && (in_tree || m->detached)) {
        m->root->fs = NONE; /* the server was told to forget everything */
        vnode_put(m->root);
    }
    m->detached = 0;
    m->label[0] = '\0';
    return r < 0 ? r : 0;
}

/*
 * pm's VFS_PM_SHUTDOWN (reboot(2)): sync and unmount every file server,
 * the root last. Files still open stay open, but their servers have
 * written everything out.
 */
int64_t mount_shutdown(void)
{
    int64_t result = mount_sync(0, 0);
    for (int pass = 0; pass < 2; pass++)
        for (int i = NR_MOUNTS - 1; i >= 0; i--)
            if (mounts[i].label[0] && (mounts[i].covered != 0) == (pass == 0)) {
                int64_t r = unmount(&mounts[i], 1);
                result = result ? result : r;
            }
    return result;
}

/*
 * m, unmounted from the root of a shared mount, had copies on that mount's
 * peers (mount_attach): unmount those that nothing uses (Linux's umount
 * propagation); a busy copy stays.
 */
static void unmount_copies(struct vnode *covered, int group)
{
    struct mount *under = mount_rooted_at(covered);
    for (int i = 0; under && under->group && group && i < NR_MOUNTS; i++) {
        struct mount *p = &mounts[i], *copy;
        if (p != under && receives(p, under->group) && p->root->mounted &&
            (copy = mount_rooted_at(p->root->mounted)) && copy->group == group && copy->bind)
            unmount(copy, 0);
    }
}

/* umount2(target, flags): root only; the path must be a mount's root. */
int64_t do_umount2(struct vproc *p, const uint64_t *a)
{
    static char path[PATH_MAX];
    struct vnode *v;
    if (p->cred.euid != 0)
        return -LX_EPERM;
    if (a[1] & ~(uint64_t)2) /* MNT_FORCE and unknown flags; MNT_DETACH unmounts as without it */
        return -LX_EINVAL;
    int64_t r = copy_path(p, a[0], path);
    if (r < 0 || (r = path_lookup(p, AT_FDCWD, path, 1, &v)) < 0)
        return r;
    struct mount *m = mount_rooted_at(v);
    vnode_put(v);
    if (!m)
        return -LX_EINVAL;
    if (!m->covered)
        return -LX_EBUSY; /* the root file system stays */
    struct vnode *covered = m->covered;
    int group = m->group;
    vnode_hold(covered);
    r = unmount(m, 0);
    if (r == 0)
        unmount_copies(covered, group);
    vnode_put(covered);
    return r;
}

/*
 * A bind mount of directory src (held by the caller) on covered, in the
 * table but not yet in the tree: its root is src's inode again, as a
 * vnode of its own number (the server counts the reference: FS_LOOKUP of
 * "."). It joins src's mount's peer group (a bind of a shared mount is
 * its peer; of a slave, a slave of the same master). 0 and *err if not.
 */
static struct mount *bind_new(struct vnode *src, struct vnode *covered, const char *path,
                              const char *label, int64_t *err)
{
    struct mount *m = mount_free_entry(), *from = mount_of_vnode(src);
    struct fs_node node;
    if (!m || !from) {
        *err = -LX_ENOSPC;
        return 0;
    }
    struct vnode *root;
    if ((src->mode & S_IFMT) == S_IFDIR) {
        if ((*err = fs_lookup(src, ".", 1, &node)) < 0)
            return 0;
        root = vnode_from_fs_in(src->fs, last_bind + 1, &node);
    } else {
        root = vnode_lent(src, last_bind + 1); /* no FS_LOOKUP of a file */
    }
    if (!root) {
        *err = -LX_ENFILE;
        return 0;
    }
    vnode_hold(covered);
    *m = (struct mount){.ep = src->fs, .root = root, .covered = covered, .bind = ++last_bind};
    m->group = from->group;
    m->master = from->master;
    m->rdonly = from->rdonly; /* Linux's clone_mnt keeps MNT_READONLY */
    strncpy_s(m->label, label, sizeof(m->label));
    strncpy_s(m->path, path, sizeof(m->path));
    return m;
}

/* Where covered, target's directory or file, is, for the table: its path from the root (a file:
 * its directory's and its name; a symbolic link at the end: the link's), or 0 if too long. */
static const char *mount_path_of(struct vproc *p, const char *target, struct vnode *covered)
{
    static char out[MOUNT_PATH_MAX];
    char last[FS_NAME_MAX + 1] = "";
    struct vnode *dir = covered;
    const char *at;
    if ((covered->mode & S_IFMT) != S_IFDIR && path_parent(p, AT_FDCWD, target, &dir, last) < 0)
        return 0;
    int64_t n = dir_path(dir, root_vnode, &at);
    if (dir != covered)
        vnode_put(dir);
    size_t len = n < 0 ? 0 : strlen(at), add = strlen(last);
    if (n < 0 || len + 1 + add >= sizeof(out))
        return 0;
    memcpy(out, at, len);
    if (add && len > 1)
        out[len++] = '/';
    memcpy(out + len, last, add + 1);
    return out;
}

/*
 * mount --rbind: m, a bind of a directory of mount from whose path is
 * src_at, gets the mounts below that directory bound again at the same
 * places in its tree, and theirs in the copies, and so on (of the mounts in
 * `before`; not unbindable ones, nor /proc). The copies' mount points are
 * the same inodes through m's number (vnode_lent). 0, or -errno with every
 * copy undone.
 */
static int64_t bind_below(struct mount *m, struct mount *from, const char *src_at, uint32_t before)
{
    static char at[MOUNT_PATH_MAX];
    struct mount *orig[NR_MOUNTS], *copy[NR_MOUNTS]; /* each copy and what it copies */
    int n = 1;
    int64_t r = 0;
    orig[0] = from, copy[0] = m;
    for (int q = 0; q < n && !r; q++) {
        const char *base = q ? orig[q]->path : src_at;
        size_t skip = strcmp(base, "/") ? strlen(base) : 0, len = strlen(copy[q]->path);
        for (int i = 0; i < NR_MOUNTS && !r; i++) {
            struct mount *c = &mounts[i], *made = 0;
            if (!(before >> i & 1) || !c->label[0] || !c->covered || c->unbindable ||
                c->ep == PROCFS_EP || mount_of_vnode(c->covered) != orig[q] ||
                strncmp(c->path, base, skip) || (c->path[skip] != '/' && c->path[skip]))
                continue; /* not below base in orig[q]'s tree */
            size_t rest = strlen(c->path + skip);
            if (len + rest >= sizeof(at)) {
                r = -LX_ENAMETOOLONG;
                break;
            }
            memcpy(at, copy[q]->path, len);
            memcpy(at + len, c->path + skip, rest + 1);
            struct vnode *under = vnode_lent(c->covered, copy[q]->bind);
            made = under ? bind_new(c->root, under, at, c->label, &r) : 0;
            vnode_put(under);
            if (!made) {
                r = r ? r : -LX_ENFILE;
                break;
            }
            vnode_mount_on(made->covered, made->root);
            orig[n] = c, copy[n++] = made;
        }
    }
    for (int k = n - 1; r && k > 0; k--) /* the deepest first */
        unmount(copy[k], 0);
    return r;
}

/* mount --bind SRC TARGET (MS_BIND; rec: MS_REC, the mounts below SRC too): a directory on a
 * directory, or a file (any type) on a file. */
static int64_t mount_bind(struct vproc *p, uint64_t source, const char *target, int rec)
{
    static char src_at[MOUNT_PATH_MAX];
    static char src_path[PATH_MAX];
    struct vnode *src, *covered;
    int64_t r = copy_path(p, source, src_path);
    if (r < 0 || (r = path_lookup(p, AT_FDCWD, src_path, 1, &src)) < 0)
        return r;
    if ((r = path_lookup(p, AT_FDCWD, target, 1, &covered)) < 0) {
        vnode_put(src);
        return r;
    }
    struct mount *from = mount_of_vnode(src), *m = 0;
    const char *where = mount_path_of(p, src_path, src);
    uint32_t before = 0;
    for (int i = 0; i < NR_MOUNTS; i++)
        before |= (uint32_t)(mounts[i].label[0] != 0) << i;
    strncpy_s(src_at, where ? where : "", sizeof(src_at));
    where = mount_path_of(p, target, covered);
    if (((src->mode & S_IFMT) == S_IFDIR) != ((covered->mode & S_IFMT) == S_IFDIR))
        r = -LX_ENOTDIR; /* a directory on a file or a file on a directory (Linux) */
    else if (!from || from->unbindable || src->fs == PROCFS_EP)
        r = -LX_EINVAL;
    else if (covered == root_vnode)
        r = -LX_EBUSY;
    else if (!where)
        r = -LX_ENAMETOOLONG;
    else if (rec && (src->mode & S_IFMT) == S_IFDIR && !src_at[0])
        r = -LX_ENAMETOOLONG;
    else if ((m = bind_new(src, covered, where, from->label, &r)) && rec &&
             (r = bind_below(m, from, src_at, before)) < 0) {
        unmount(m, 0);
        m = 0;
    }
    if (m)
        mount_attach(m);
    vnode_put(src);
    vnode_put(covered);
    return m ? 0 : r;
}

/* The mount rooted at target (the top one), or 0 and *err: the walk's, or EINVAL for a directory
 * that is no mount's root. */
static struct mount *mount_named(struct vproc *p, const char *target, int64_t *err)
{
    struct vnode *v;
    if ((*err = path_lookup(p, AT_FDCWD, target, 1, &v)) < 0)
        return 0;
    struct mount *m = mount_rooted_at(v);
    vnode_put(v);
    *err = m ? 0 : -LX_EINVAL;
    return m;
}

/* top and every mount below it (whose mount point is in their trees), as bits of their indexes. */
static uint32_t mounts_below(const struct mount *top)
{
    uint32_t set = 1u << (top - mounts), grew = 1;
    while (grew) {
        grew = 0;
        for (int i = 0; i < NR_MOUNTS; i++) {
            struct mount *under = mounts[i].covered ? mount_of_vnode(mounts[i].covered) : 0;
            if (mounts[i].label[0] && !(set >> i & 1) && under && (set >> (under - mounts) & 1)) {
                set |= 1u << i;
                grew = 1;
            }
        }
    }
    return set;
}

/* MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE of the mount rooted at target (MS_REC: and of
 * every mount below it). */
static int64_t mount_propagation(struct vproc *p, const char *target, uint64_t flags)
{
    uint64_t type = flags & ~(uint64_t)(MS_REC | MS_SILENT);
    int64_t r;
    if (type & (type - 1))
        return -LX_EINVAL; /* one kind at a time */
    struct mount *top = mount_named(p, target, &r);
    if (!top)
        return r;
    uint32_t set = flags & MS_REC ? mounts_below(top) : 1u << (top - mounts);
    for (int i = 0; i < NR_MOUNTS; i++) {
        struct mount *m = &mounts[i];
        if (!(set >> i & 1))
            continue;
        if (type == MS_SHARED && !m->group)
            m->group = ++last_group;
        if (type == MS_SLAVE) /* a shared mount's slave receives from its old group */
            m->master = m->group ? m->group : m->master;
        if (type != MS_SHARED)
            m->group = 0;
        if (type == MS_PRIVATE || type == MS_UNBINDABLE)
            m->master = 0;
        m->unbindable = type == MS_UNBINDABLE;
    }
    return 0;
}

/*
 * MS_REMOUNT of the mount rooted at target, read-only with MS_RDONLY and
 * read-write without: with MS_BIND that mount alone (Linux's per-mount
 * flag); without, that mount and the whole file system, which every mount
 * of its server then shows. vfs enforces it (mount_erofs); the server is
 * not told, but is synced (FS_SYNC) as it becomes read-only. Other flags
 * (nosuid, noatime...) are not kept. EBUSY if a file is open for writing
 * through the mount (through any of the server's mounts for the whole).
 */
static int64_t mount_remount(struct vproc *p, const char *target, uint64_t flags)
{
    int64_t r;
    struct mount *m = mount_named(p, target, &r);
    if (!m)
        return r;
    int rdonly = (flags & MS_RDONLY) != 0, whole = !(flags & MS_BIND);
    struct mount *own = whole ? mount_of_ep(m->ep) : 0;
    if (rdonly && file_writers(m->ep, whole ? -1 : m->bind))
        return -LX_EBUSY;
    if (own && rdonly && !own->fs_rdonly && m->ep != PROCFS_EP)
        mount_sync(m->ep, 0);
    if (own)
        own->fs_rdonly = rdonly;
    m->rdonly = rdonly;
    return 0;
}

/* mount(source, target, fstype, flags, data): root only; fstype is the server's label. */
int64_t do_mount(struct vproc *p, const uint64_t *a)
{
    static char path[PATH_MAX], label_buf[PATH_MAX];
    char label[16];
    if (p->cred.euid != 0)
        return -LX_EPERM;
    int64_t r = copy_path(p, a[1], path);
    if (r < 0)
        return r;
    if (a[3] & MS_MOVE)
        return -LX_EINVAL; /* no moves */
    if (a[3] & MS_REMOUNT)
        return mount_remount(p, path, a[3]);
    if (a[3] & MS_BIND)
        return mount_bind(p, a[0], path, (a[3] & MS_REC) != 0);
    if (a[3] & MS_PROPAGATION)
        return mount_propagation(p, path, a[3]);
    if ((r = copy_path(p, a[2], label_buf)) < 0)
        return r;
    if (strlen(label_buf) >= sizeof(label))
        return -LX_ENODEV;
    strncpy_s(label, label_buf, sizeof(label));
    if (!mount_may_serve(label))
        return -LX_ENODEV;
    struct vnode *v;
    if ((r = path_lookup(p, AT_FDCWD, path, 1, &v)) < 0)
        return r;
    vnode_put(v);
    if (path[0] != '/')
        return -LX_EINVAL; /* the table keeps absolute paths */
    return mount_at(path, label, 0, (a[3] & MS_RDONLY) != 0);
}

/* /proc/mounts: "LABEL PATH LABEL rw 0 0" per mount (ro: it or its file system read-only), in
 * mount order. */
int64_t mounts_text(char *buf, size_t size)
{
    size_t at = 0;
    for (int i = 0; i < NR_MOUNTS && at < size; i++) {
        const struct mount *m = &mounts[i], *own = mount_of_ep(m->ep);
        int rdonly = m->rdonly || (own && own->fs_rdonly);
        if (m->label[0] && !m->detached)
            at += (size_t)snprintf_s(buf + at, size - at, "%s %s %s %s 0 0\n", m->label, m->path,
                                     m->label, rdonly ? "ro" : "rw");
    }
    return (int64_t)(at < size ? at : size - 1);
}
