/*
 * VFS_PM_EXEC: pm loads a program. vfs resolves the path as the process
 * sees it, checks it is a regular file the process may execute, and
 * copies the whole file into pm's granted buffer. pm also learns the
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
    if ((st.mode & S_IFMT) != S_IFREG || perm_check(p, v, MAY_EXEC) < 0) {
        r = -LX_EACCES; /* directories, and files without the x bit it needs */
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
    while (pos < st.size) {
        uint64_t n = st.size - pos < BOUNCE_SIZE ? st.size - pos : BOUNCE_SIZE;
        r = fs_read_into(v, pos, bounce, n);
        if (r <= 0) {
            r = r < 0 ? r : -LX_EIO;
            goto out;
        }
        if (sys_safecopy_to(to, g, pos, bounce, (uint64_t)r) < 0) {
            r = -LX_EFAULT;
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
