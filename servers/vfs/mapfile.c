/*
 * Files pm maps (mmap of a descriptor, pm's servers/pm/mapfile.c). pm asks
 * for the file behind a process's descriptor (VFS_PM_MAP_OPEN): vfs checks
 * it as Linux's do_mmap does (open for reading; for a shared writable
 * mapping, for writing too: EACCES; not a regular file: ENODEV; /dev/zero
 * is anonymous memory) and holds the vnode in a table of its own, so the
 * mapping outlives the descriptor, as Linux's VMA holds its file. pm then
 * reads the file into its memory and writes it back (VFS_PM_MAP_IO): the
 * file server copies straight to and from pm's granted memory (an indirect
 * grant of pm's grant, as exec does), and a write back never extends the
 * file (the part past its size now is dropped, as Linux drops the pages of
 * a truncated file). VFS_PM_MAP_CLOSE lets the vnode go.
 *
 * Only pm sends these (main.c checks the sender); pm is trusted with the
 * handles it got. A busy file server is waited for in place, as for exec.
 */
#include "vfs.h"

#define NR_MAPPED 128 /* files pm maps at once */

static struct vnode *mapped[NR_MAPPED];
static char mapped_name[NR_MAPPED][FILE_NAME_MAX]; /* the path it was opened by ("": unknown) */

static struct vnode *mapped_of(int32_t handle)
{
    return handle >= 0 && handle < NR_MAPPED ? mapped[handle] : 0;
}

/* Handle h's path for /proc/PID/maps: the one f was opened by (file_name_set), from the root
 * (a relative one after its directory's path, found now); "" if it does not fit. */
static void map_name_set(int h, const struct file *f)
{
    const char *dir = "";
    mapped_name[h][0] = '\0';
    if (!f->name[0] || (f->dir && dir_path(f->dir, 0, &dir) < 0))
        return;
    size_t n = strlen(dir), sep = n > 1;
    if (n + sep + strlen(f->name) < FILE_NAME_MAX)
        snprintf_s(mapped_name[h], FILE_NAME_MAX, "%s%s%s", dir, sep ? "/" : "", f->name);
}

/* The path of a file pm maps, by the device and inode it was told (VFS_PM_MAP_OPEN): "" if
 * vfs holds no such file or does not know its path. */
const char *map_name(uint64_t dev, uint64_t ino)
{
    for (int h = 0; h < NR_MAPPED; h++)
        if (mapped[h] && mapped[h]->ino == ino && mount_dev(mapped[h]->fs) == dev)
            return mapped_name[h];
    return "";
}

int64_t map_open(const message_t *m, struct msg_vfs_pm_map_open_reply *out)
{
    const struct msg_vfs_pm_map_open *q = &m->u.vfs_pm.map_open;
    struct vproc *p = vproc_of(q->ep);
    struct file *f = p ? fd_file(p, q->fd) : 0;
    struct fs_stat st;
    if (!p)
        return -LX_ESRCH;
    if (!f)
        return -LX_EBADF;
    struct vnode *v = f->vn;
    uint32_t mode = f->flags & O_ACCMODE;
    if ((q->need_write && mode != O_RDWR) || mode == O_WRONLY)
        return -LX_EACCES; /* Linux's order: the access mode before the kind of file */
    out->writable = mode == O_RDWR;
    if ((v->mode & S_IFMT) == S_IFCHR && DEV_MAJOR(v->rdev) == DEV_MEM_MAJOR &&
        DEV_MINOR(v->rdev) == DEV_MEM_ZERO)
        return VFS_MAP_ZERO;
    if ((v->mode & S_IFMT) != S_IFREG || v->fs == PROCFS_EP)
        return -LX_ENODEV; /* pipes, sockets, directories, devices, /proc */
    int h = 0;
    while (h < NR_MAPPED && mapped[h])
        h++;
    if (h == NR_MAPPED)
        return -LX_ENFILE;
    int64_t r = fs_stat(v, &st);
    if (r < 0)
        return r;
    vnode_hold(v);
    mapped[h] = v;
    map_name_set(h, f);
    out->handle = h;
    out->size = st.size;
    out->dev = mount_dev(v->fs);
    out->ino = v->ino;
    return VFS_MAP_FILE;
}

int64_t map_io(const message_t *m)
{
    const struct msg_vfs_pm_map_io *q = &m->u.vfs_pm.map_io;
    struct vnode *v = mapped_of(q->handle);
    uint64_t len = q->len, done = 0;
    if (!v)
        return -LX_EBADF;
    if (q->offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - q->offset)
        return -LX_EINVAL;
    if (q->write) { /* within the file as it is now */
        struct fs_stat st;
        int64_t r = fs_stat(v, &st);
        if (r < 0)
            return r;
        len = q->offset >= st.size ? 0 : st.size - q->offset < len ? st.size - q->offset : len;
    }
    while (done < len) {
        grant_id_t mine = grant_alloc_indirect(v->fs, m->source, q->grant, done, len - done,
                                               q->write ? GRANT_READ : GRANT_WRITE);
        int64_t r =
            mine < 0 ? -LX_ENOMEM
                     : fs_io(v, q->write ? FS_WRITE : FS_READ, q->offset + done, mine, len - done);
        grant_free(mine);
        if (r < 0)
            return done ? (int64_t)done : r;
        if (r == 0)
            break; /* the end of the file */
        done += (uint64_t)r;
    }
    return (int64_t)done;
}

int64_t map_close(const message_t *m)
{
    int32_t h = m->u.vfs_pm.map_close.handle;
    struct vnode *v = mapped_of(h);
    if (!v)
        return -LX_EBADF;
    mapped[h] = 0;
    vnode_put(v);
    return 0;
}
