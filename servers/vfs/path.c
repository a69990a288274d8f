/*
 * Path resolution: component by component, from the name cache
 * (namecache.c) or with FS_LOOKUP on the server that holds the directory, following symbolic links
 * (at most SYMLINK_MAX_DEPTH) by splicing the link text in front of what is left. Each directory a
 * component is looked up in must be searchable (x) by the process; a walk for vfs itself (p = NULL)
 * is not checked. Every vnode returned is held; the caller puts it.
 */
#include "vfs.h"

/*
 * The vnode for an inode a server just reported (the server counted a
 * reference); its mode, device and owner are taken from the report.
 */
struct vnode *vnode_from_fs(endpoint_t fs, const struct fs_node *node)
{
    return vnode_from_fs_in(fs, 0, node);
}

/* A node a server reported, in directory dir: the vnode of the same mount (dir's bind). */
struct vnode *vnode_child(const struct vnode *dir, const struct fs_node *node)
{
    return vnode_from_fs_in(dir->fs, dir->bind, node);
}

struct vnode *vnode_from_fs_in(endpoint_t fs, int bind, const struct fs_node *node)
{
    struct vnode *v = vnode_get_in(fs, bind, node->ino, node->mode, node->rdev);
    if (!v || v->refs > 1) { /* already known (or no room): drop the server's extra count */
        fs_putnode(fs, node->ino);
    }
    if (v) {
        v->mode = node->mode;
        v->rdev = node->rdev;
        v->uid = (uint32_t)node->uid;
        v->gid = (uint32_t)node->gid;
    }
    return v;
}

/* Where p's absolute paths start: its chroot directory, or the root (also for vfs itself). */
struct vnode *proc_root(const struct vproc *p)
{
    return p && p->files->root ? p->files->root : root_vnode;
}

static struct vnode *start_dir(struct vproc *p, int dirfd, const char *path, int *err)
{
    struct vnode *v = proc_root(p);
    if (path[0] != '/' && p) {
        if (dirfd == AT_FDCWD) {
            v = p->files->cwd;
        } else {
            struct file *f = fd_file(p, dirfd);
            if (!f) {
                *err = -LX_EBADF;
                return 0;
            }
            v = f->vn;
            if ((v->mode & S_IFMT) != S_IFDIR) {
                *err = -LX_ENOTDIR;
                return 0;
            }
        }
    }
    vnode_hold(v);
    return v;
}

/*
 * Walk path from dir (held; consumed). With stop_last, stop before the last
 * component and copy it to last. follow: follow a final symbolic link (one followed by a
 * slash is followed always, and the path then ends at a directory or is ENOTDIR, as in Linux).
 */
static int walk(struct vproc *p, struct vnode *dir, char *path, int follow, int stop_last,
                char *last, struct vnode **out, int depth)
{
    char *s = path;
    struct vnode *cur = dir;
    struct vnode *top = proc_root(p);
    if (*s == '/') {
        vnode_put(cur);
        cur = top;
        vnode_hold(cur);
    }
    for (;;) {
        while (*s == '/')
            s++;
        if (!*s) { /* the path ended (or was just slashes) */
            if (stop_last && last)
                last[0] = '\0';
            if (s > path && s[-1] == '/' && (cur->mode & S_IFMT) != S_IFDIR) {
                vnode_put(cur); /* "file/": a name with a slash after it is a directory's */
                return -LX_ENOTDIR;
            }
            *out = cur;
            return 0;
        }
        char *end = s;
        while (*end && *end != '/')
            end++;
        size_t len = (size_t)(end - s);
        char *rest = end;
        while (*rest == '/')
            rest++;
        int is_last = !*rest;
        if (len > FS_NAME_MAX) {
            vnode_put(cur);
            return -LX_ENAMETOOLONG;
        }
        if ((cur->mode & S_IFMT) != S_IFDIR) {
            vnode_put(cur);
            return -LX_ENOTDIR;
        }
        if (is_last && stop_last) {
            memcpy(last, s, len);
            last[len] = '\0';
            *out = cur;
            return 0;
        }
        int denied = perm_check(p, cur, MAY_EXEC);
        if (denied) {
            vnode_put(cur);
            return denied;
        }
        if (len == 1 && s[0] == '.') {
            s = end;
            continue;
        }
        struct vnode *next, *covered;
        int dotdot = len == 2 && s[0] == '.' && s[1] == '.';
        while (dotdot && cur != root_vnode && cur != top && (covered = vnode_covered(cur))) {
            vnode_hold(covered); /* ".." of a mounted root: ".." of its mount point */
            vnode_put(cur);
            cur = covered;
        }
        if (dotdot && (cur == root_vnode || cur == top)) {
            next = cur; /* ".." of the root (or of a chroot's) is itself */
            vnode_hold(next);
        } else {
            int64_t r = namecache_walk(cur, s, len, 1, &next);
            if (r < 0) {
                vnode_put(cur);
                return (int)r;
            }
        }
        while (next && next->mounted) { /* a mount point: continue in the mounted root */
            struct vnode *m = next->mounted;
            vnode_hold(m);
            vnode_put(next);
            next = m;
        }
        if (!next) {
            vnode_put(cur);
            return -LX_ENFILE;
        }
        if ((next->mode & S_IFMT) == S_IFLNK && (!is_last || follow || *end == '/')) {
            static char link[2][PATH_MAX]; /* the rest of the path is in the other one */
            if (depth >= SYMLINK_MAX_DEPTH) {
                vnode_put(next);
                vnode_put(cur);
                return -LX_ELOOP;
            }
            char *buf = link[depth & 1];
            int64_t n = perm_follow(p, cur, next);
            if (n == 0)
                n = fs_readlink(next, buf, PATH_MAX - 1);
            vnode_put(next);
            size_t restlen = strlen(end);
            if (n < 0 || (uint64_t)n + restlen + 1 >= PATH_MAX) {
                vnode_put(cur);
                return n < 0 ? (int)n : -LX_ENAMETOOLONG;
            }
            memcpy(buf + n, end, restlen + 1); /* link text, then "/rest" */
            return walk(p, cur, buf, follow, stop_last, last, out, depth + 1);
        }
        vnode_put(cur);
        cur = next;
        s = end;
    }
}

/* Walk a copy of path from where it starts: the root, the cwd or dirfd's directory. */
static int walk_from(struct vproc *p, int dirfd, const char *path, int follow, int stop_last,
                     char *last, struct vnode **out)
{
    static char copy[PATH_MAX];
    int err = 0;
    struct vnode *dir = start_dir(p, dirfd, path, &err);
    if (!dir)
        return err;
    strncpy_s(copy, path, PATH_MAX);
    return walk(p, dir, copy, follow, stop_last, last, out, 0);
}

int path_lookup(struct vproc *p, int dirfd, const char *path, int follow, struct vnode **out)
{
    return walk_from(p, dirfd, path, follow, 0, 0, out);
}

int path_parent(struct vproc *p, int dirfd, const char *path, struct vnode **dir, char *last)
{
    int r = walk_from(p, dirfd, path, 1, 1, last, dir);
    if (r == 0 && !last[0]) { /* "/" or "a/.." style: no final name */
        vnode_put(*dir);
        return -LX_EEXIST;
    }
    return r;
}
