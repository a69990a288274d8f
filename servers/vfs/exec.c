/*
 * VFS_PM_EXEC: pm loads a program. vfs resolves the path as the process
 * sees it, checks it is a regular file the process may execute, and has
 * the file system server copy the whole file into pm's granted buffer (an
 * indirect grant passes pm's grant on: no copy through vfs). pm also learns the
 * file's mode and owner (for set-user-id and set-group-id programs).
 */
#include "vfs.h"

int64_t exec_load(struct vproc *p, uint64_t upath, endpoint_t to, grant_id_t g, uint64_t len,
                  uint64_t *attrs)
{
    static char path[PATH_MAX];
    struct vnode *v;
    struct fs_stat st;
    int64_t r = copy_path(p, upath, path);
    if (r < 0 || (r = path_lookup(p, AT_FDCWD, path, 1, &v)) < 0)
        return r;
    if ((r = fs_stat(v, &st)) < 0)
        goto out;
    if ((st.mode & S_IFMT) != S_IFREG || v->fs == PROCFS_EP || perm_check(p, v, MAY_EXEC) < 0) {
        r = -LX_EACCES; /* directories, /proc, and files without the x bit it needs */
        goto out;
    }
    attrs[0] = st.mode;
    attrs[1] = st.uid;
    attrs[2] = st.gid;
    if (st.size > len) {
        r = -LX_ENOMEM;
        goto out;
    }
    uint64_t pos = 0;
    while (pos < st.size) { /* the server writes into pm's buffer: pm's grant, passed on */
        grant_id_t mine = grant_alloc_indirect(v->fs, to, g, pos, st.size - pos, GRANT_WRITE);
        r = mine < 0 ? -LX_ENOMEM : fs_io(v, FS_READ, pos, mine, st.size - pos);
        grant_free(mine);
        if (r <= 0) {
            r = r < 0 ? r : -LX_EIO;
            goto out;
        }
        pos += (uint64_t)r;
    }
    r = (int64_t)pos;
    if (path[0] == '/') /* for /proc/<pid>/exe (a relative path is kept as given) */
        strncpy_s(p->exe, path, sizeof(p->exe));
    else
        snprintf_s(p->exe, sizeof(p->exe), "%s", path);
out:
    vnode_put(v);
    return r;
}
