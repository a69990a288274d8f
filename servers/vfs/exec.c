/*
 * VFS_PM_EXEC: pm loads a program. pm passes the path (the caller's, or
 * the interpreter a #! line names) through a grant; vfs resolves it as the
 * process sees it, with /proc/self naming that process, checks it is a
 * regular file the process may execute, and has the file system server
 * copy the whole file into pm's granted buffer (an indirect grant passes
 * pm's grant on: no copy through vfs). pm also learns the file's mode and
 * owner (for set-user-id and set-group-id programs). The copy is skipped when pm's buffer
 * holds this very file already, unchanged: same server, inode number and data version (a
 * server that keeps versions: ramfs). The file's absolute
 * path, symbolic links followed, waits in exe_next until pm says the exec is done
 * (VFS_PM_EXEC_DONE): /proc/PID/exe names the program running, never one that failed to load.
 */
#include "vfs.h"

/* dir's path and name into exe, as one absolute path (0), or -errno. */
static int64_t join_path(struct vnode *dir, const char *name, char *out, size_t size)
{
    const char *d;
    int64_t r = dir_path(dir, root_vnode, &d);
    if (r >= 0)
        snprintf_s(out, size, "%s%s%s", d, strcmp(d, "/") ? "/" : "", name);
    return r < 0 ? r : 0;
}

/*
 * The absolute path of the file path names, every symbolic link followed
 * (as Linux's /proc/PID/exe shows it), into p->exe_next; if that cannot be
 * found, the path as given.
 */
static void remember_exe(struct vproc *p, const char *path)
{
    static char at[PATH_MAX], link[PATH_MAX], last[FS_NAME_MAX + 1];
    strncpy_s(p->exe_next, path, sizeof(p->exe_next));
    strncpy_s(at, path, sizeof(at));
    for (int depth = 0; depth <= SYMLINK_MAX_DEPTH; depth++) {
        struct vnode *dir, *v = 0;
        if (path_parent(p, AT_FDCWD, at, &dir, last) < 0)
            return;
        int64_t r = namecache_lookup(dir, last, strlen(last), &v);
        if (r >= 0 && (v->mode & S_IFMT) != S_IFLNK)
            join_path(dir, last, p->exe_next, sizeof(p->exe_next)); /* the file itself */
        else if (v && (r = fs_readlink(v, link, PATH_MAX - 1)) >= 0) {
            link[r] = '\0'; /* a link: on from its target, which may be relative to dir */
            r = link[0] == '/' ? (strncpy_s(at, link, sizeof(at)), 0)
                               : join_path(dir, link, at, sizeof(at));
        }
        int more = v && (v->mode & S_IFMT) == S_IFLNK && r >= 0;
        vnode_put(v);
        vnode_put(dir);
        if (!more)
            return;
    }
}

static int64_t exec_try(struct vproc *p, const message_t *m, struct msg_vfs_pm_exec_reply *out)
{
    static char path[PATH_MAX];
    const struct msg_vfs_pm_exec *q = &m->u.vfs_pm.exec;
    struct vnode *v;
    struct fs_stat st;
    if (q->path_len > PATH_MAX)
        return -LX_ENAMETOOLONG;
    if (!q->path_len || sys_safecopy_from(m->source, q->path_grant, 0, path, q->path_len) < 0 ||
        path[q->path_len - 1] != '\0')
        return -LX_EINVAL; /* pm sends a string with its NUL */
    if (!path[0])
        return -LX_ENOENT;
    procfs_caller = p; /* /proc/self is the process being loaded */
    int64_t r = path_lookup(p, AT_FDCWD, path, 1, &v);
    if (r < 0) {
        procfs_caller = 0;
        return r;
    }
    if ((r = fs_stat(v, &st)) < 0)
        goto out;
    if ((st.mode & S_IFMT) != S_IFREG || v->fs == PROCFS_EP || perm_check(p, v, MAY_EXEC) < 0) {
        r = -LX_EACCES; /* directories, /proc, and files without the x bit it needs */
        goto out;
    }
    out->mode = st.mode;
    out->uid = st.uid;
    out->gid = st.gid;
    if (st.size > q->len) {
        r = -LX_ENOMEM;
        goto out;
    }
    uint64_t pos = 0;
    if (st.version && q->have_version == st.version && q->have_ino == v->ino && q->have_fs == v->fs)
        pos = st.size;      /* pm has these bytes */
    while (pos < st.size) { /* the server writes into pm's buffer: pm's grant, passed on */
        grant_id_t mine =
            grant_alloc_indirect(v->fs, m->source, q->grant, pos, st.size - pos, GRANT_WRITE);
        r = mine < 0 ? -LX_ENOMEM : fs_io(v, FS_READ, pos, mine, st.size - pos);
        grant_free(mine);
        if (r <= 0) {
            r = r < 0 ? r : -LX_EIO;
            goto out;
        }
        pos += (uint64_t)r;
    }
    r = (int64_t)pos;
    out->fs = v->fs, out->ino = v->ino, out->version = st.version;
    remember_exe(p, path);
out:
    vnode_put(v);
    procfs_caller = 0;
    return r;
}

/*
 * VFS_PM_EXEC: the program's bytes into pm's buffer. pm waits for the answer, so a file server
 * that dies meanwhile is not waited for as a Linux call is (fswait.c): the mount is bound to
 * rs's new instance at once (mounts_check; rs has usually started it before vfs runs again) and
 * the load is tried again from the path, EXEC_TRIES times in all.
 */
#define EXEC_TRIES 4

int64_t exec_load(struct vproc *p, const message_t *m, struct msg_vfs_pm_exec_reply *out)
{
    int64_t r = 0;
    fswait_dead_met();
    for (int i = 0; i < EXEC_TRIES; i++) {
        r = exec_try(p, m, out);
        if (r >= 0 || !fswait_dead_met())
            break;
        mounts_check();
    }
    return r;
}
