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
 */
#include <samsara/root.h>
#include "vfs.h"

#define NR_MOUNTS 8
#define MS_REMOUNT 32 /* mount(2) flags (Linux values) it refuses */
#define MS_BIND 4096
#define MS_MOVE 8192
#define MOUNT_PATH_MAX 64

struct mount {
    char label[16];            /* the server's service label; "" = free entry */
    char path[MOUNT_PATH_MAX]; /* where, for /proc/mounts */
    endpoint_t ep;             /* its running instance (PROCFS_EP: vfs's /proc) */
    struct vnode *root;        /* its root, held */
    struct vnode *covered;     /* the mount point, held; 0 for the root */
    int gone;                  /* its server died: requests fail until it is back */
};

static struct mount mounts[NR_MOUNTS];

static struct mount *mount_of_ep(endpoint_t ep)
{
    for (int i = 0; i < NR_MOUNTS; i++)
        if (mounts[i].label[0] && mounts[i].ep == ep)
            return &mounts[i];
    return 0;
}

/* st_dev of a vnode: its mount's number (pipes, sockets: 0). */
uint64_t mount_dev(endpoint_t fs)
{
    struct mount *m = mount_of_ep(fs);
    return m ? (uint64_t)(m - mounts) + 1 : 0;
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

/*
 * Mount the server labelled label (PROCFS_EP for /proc) on path ("/": the
 * root). 0 or -errno; the log line says why not.
 */
static int64_t mount_at(const char *path, const char *label, endpoint_t ep)
{
    struct mount *m = 0;
    for (int i = 0; i < NR_MOUNTS && !m; i++)
        if (!mounts[i].label[0])
            m = &mounts[i];
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
        if ((covered->mode & S_IFMT) != S_IFDIR || covered->mounted || covered == root_vnode ||
            vnode_covered(covered)) {
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
    *m = (struct mount){.ep = ep, .root = root, .covered = covered};
    strncpy_s(m->label, label, sizeof(m->label));
    strncpy_s(m->path, path, sizeof(m->path));
    if (covered)
        covered->mounted = root;
    else
        root_vnode = root;
    if (ep != PROCFS_EP && covered)
        printf("vfs: mounted %s (endpoint %d) on %s\n", label, ep, path);
    return 0;
}

/* A mount of the argument or of the start; the log line says how it went. */
static void mount_logged(const char *path, const char *label, endpoint_t ep)
{
    int64_t r = mount_at(path, label, ep);
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
    int64_t r = mount_at("/", label, 0);
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
        if (!m->label[0] || m->ep == PROCFS_EP || sys_proc_info(m->ep, &info) == 0)
            continue;
        fswait_server_gone(m->ep); /* calls waiting for it go on (with the new one, or EIO) */
        endpoint_t now = root_lookup(m->label);
        if (now <= 0 || now == m->ep) {
            if (!m->gone)
                printf("vfs: %s (mounted on %s) is gone\n", m->label, m->path);
            m->gone = 1;
            continue;
        }
        printf("vfs: %s (mounted on %s) restarted: endpoint %d, was %d\n", m->label, m->path, now,
               m->ep);
        vnode_rebind(m->ep, now); /* the new instance counts none of our references */
        m->ep = now;
        m->gone = 0;
    }
}

/* sync(2), syncfs(2), fsync(2): FS_SYNC of ino (0: all) to fs, or to every mount (fs 0). */
int64_t mount_sync(endpoint_t fs, uint64_t ino)
{
    int64_t result = 0;
    for (int i = 0; i < NR_MOUNTS; i++) {
        struct mount *m = &mounts[i];
        if (!m->label[0] || m->ep == PROCFS_EP || (fs && m->ep != fs))
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
 */
static int64_t unmount(struct mount *m, int force)
{
    if (!force && vnode_count(m->ep) > 1 + (m->covered == 0))
        return -LX_EBUSY; /* something open or a cwd inside; the root's own hold is 1 */
    int64_t r = 0;
    if (m->ep != PROCFS_EP) {
        message_t q = {.type = FS_UNMOUNT};
        r = fs_call(m->ep, &q);
    }
    if (m->covered) {
        m->covered->mounted = 0;
        vnode_put(m->covered);
        m->covered = 0;
        if (!force) {
            m->root->fs = NONE; /* the server was told to forget everything */
            vnode_put(m->root);
        }
    }
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

/* umount2(target, flags): root only; the path must be a mount's root. */
int64_t do_umount2(struct vproc *p, const uint64_t *a)
{
    static char path[PATH_MAX];
    struct vnode *v;
    if (p->cred.euid != 0)
        return -LX_EPERM;
    if (a[1] & ~(uint64_t)2) /* MNT_DETACH and the rest: not kept (MNT_FORCE is) */
        return -LX_EINVAL;
    int64_t r = copy_path(p, a[0], path);
    if (r < 0 || (r = path_lookup(p, AT_FDCWD, path, 1, &v)) < 0)
        return r;
    struct mount *m = mount_of_ep(v->fs);
    int is_root = m && m->root == v;
    vnode_put(v);
    if (!is_root)
        return -LX_EINVAL;
    if (!m->covered)
        return -LX_EBUSY; /* the root file system stays */
    return unmount(m, 0);
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
    if (a[3] & (MS_REMOUNT | MS_BIND | MS_MOVE))
        return -LX_EINVAL; /* a new mount only */
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
    return mount_at(path, label, 0);
}

/* /proc/mounts: "LABEL PATH LABEL rw 0 0" per mount, in mount order. */
int64_t mounts_text(char *buf, size_t size)
{
    size_t at = 0;
    for (int i = 0; i < NR_MOUNTS && at < size; i++)
        if (mounts[i].label[0])
            at += (size_t)snprintf_s(buf + at, size - at, "%s %s %s rw 0 0\n", mounts[i].label,
                                     mounts[i].path, mounts[i].label);
    return (int64_t)(at < size ? at : size - 1);
}
