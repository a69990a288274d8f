/*
 * Open files and descriptor tables. A file (shared by dup and fork) has
 * the access mode, status flags, offset and vnode; reads and writes go to
 * the file-system server (which copies the user's buffer itself through an
 * indirect grant; /proc through the bounce buffer), a character driver,
 * a pipe, a socket (socket.c), or the built-in memory devices (major 1: 3 = null, 5 = zero,
 * 7 = full).
 */
#include "vfs.h"

/*
 * The last `reserve` free entries of a table all processes share are
 * root's, as Linux lets CAP_SYS_ADMIN open files past file-max: an ordinary
 * user who fills the table cannot keep root (and root's shell) from opening
 * files or pipes. The caller is the process whose call vfs is serving.
 */
int table_entry_allowed(int free_entries, int reserve)
{
    return free_entries > reserve || !procfs_caller || procfs_caller->cred.euid == 0;
}

/*
 * The first free entry of a table all processes share, is_free(i) saying
 * which are; -1 when none is, or only root's last `reserve` are left and
 * the caller is not root.
 */
int table_take(int n, int (*is_free)(int i), int reserve)
{
    int first = -1, free_entries = 0;
    for (int i = 0; i < n && free_entries <= reserve; i++) /* past the reserve: enough known */
        if (is_free(i)) {
            first = first < 0 ? i : first;
            free_entries++;
        }
    return first >= 0 && table_entry_allowed(free_entries, reserve) ? first : -1;
}

static int file_free(int i)
{
    return !tab->files[i].refs;
}

struct file *file_new(struct vnode *v, uint32_t flags)
{
    int i = table_take(NR_FILES, file_free, FILES_FOR_ROOT);
    if (i < 0)
        return 0;
    tab->files[i] = (struct file){.refs = 1, .flags = flags, .vn = v};
    return &tab->files[i];
}

/* Files open for writing on server fs through mount number bind (-1: any mount), but for devices,
 * FIFOs and sockets: a remount read-only refuses while there are any (EBUSY). */
int file_writers(endpoint_t fs, int bind)
{
    int n = 0;
    for (int i = 0; i < NR_FILES; i++) {
        const struct vnode *v = tab->files[i].vn;
        uint64_t type = v ? v->mode & S_IFMT : 0;
        n += tab->files[i].refs && (tab->files[i].flags & O_ACCMODE) && v->fs == fs &&
             (bind < 0 || v->bind == bind) && (type == S_IFREG || type == S_IFDIR);
    }
    return n;
}

void file_put(struct file *f)
{
    if (f && f->refs == 1) /* a file closed in a request undone is open again (keep.c) */
        keep_log(&f->refs, sizeof(f->refs));
    if (!f || --f->refs > 0)
        return;
    lock_file_gone(f); /* its OFD and flock locks */
    uint64_t type = f->vn->mode & S_IFMT;
    if (type == S_IFIFO)
        pipe_release(f);
    else if (type == S_IFSOCK)
        sock_release(f);
    else if (f->vn->mq)
        mq_release(f);
    else if (type == S_IFCHR && DEV_MAJOR(f->vn->rdev) != DEV_MEM_MAJOR)
        dev_close(f->vn);
    vnode_put(f->vn);
    vnode_put(f->dir);
    f->refs = 0;
}

/* Keep the path p opened f by (dirfd as openat's), for /proc/PID/fd: if it fits. */
void file_name_set(struct file *f, struct vproc *p, int dirfd, const char *path)
{
    struct file *d = dirfd == AT_FDCWD ? 0 : fd_file(p, dirfd);
    struct vnode *dir = path[0] == '/' ? 0 : d ? d->vn : p->cwd;
    if (strlen(path) >= sizeof(f->name) || (path[0] != '/' && !dir))
        return;
    strncpy_s(f->name, path, sizeof(f->name));
    if ((f->dir = dir))
        vnode_hold(dir);
}

int fd_install(struct vproc *p, struct file *f, int min, int cloexec)
{
    for (int fd = min < 0 ? 0 : min; fd < (int)p->files->fd_limit; fd++) /* RLIMIT_NOFILE */
        if (!p->files->fd[fd]) {
            keep_log(&p->files->fd[fd], 8);
            keep_log(&p->files->cloexec, 8);
            p->files->fd[fd] = f;
            p->files->cloexec =
                (p->files->cloexec & ~(1ull << fd)) | ((uint64_t)(cloexec != 0) << fd);
            return fd;
        }
    return -LX_EMFILE;
}

struct file *fd_file(struct vproc *p, int fd)
{
    return fd >= 0 && fd < NR_FDS ? p->files->fd[fd] : 0;
}

void fd_close(struct vproc *p, int fd)
{
    struct file *f = fd_file(p, fd);
    if (!f)
        return;
    keep_log(&p->files->fd[fd], 8);
    keep_log(&p->files->cloexec, 8);
    p->files->fd[fd] = 0;
    p->files->cloexec &= ~(1ull << fd);
    lock_close(p, f); /* the process's POSIX locks on the file */
    if (f->vn->mq)
        mq_closed(p, f); /* its mq_notify registration */
    file_put(f);
}

/* fs_rw through the bounce buffer, for /proc (vfs serves it from its own grants). */
static int64_t fs_rw_bounce(struct vproc *p, struct vnode *v, uint64_t uaddr, uint64_t len,
                            uint64_t *pos, int write)
{
    uint64_t done = 0;
    while (done < len) {
        uint64_t n = len - done < BOUNCE_SIZE ? len - done : BOUNCE_SIZE;
        if (write && copy_in(p, uaddr + done, bounce, n) < 0)
            return done ? (int64_t)done : -LX_EFAULT;
        grant_id_t g = grant_alloc(v->fs, bounce, n, write ? GRANT_READ : GRANT_WRITE);
        if (g < 0)
            return done ? (int64_t)done : -LX_ENOMEM;
        int64_t r = fs_io(v, write ? FS_WRITE : FS_READ, *pos, g, n);
        grant_free(g);
        if (r < 0)
            return done ? (int64_t)done : r;
        if (!write && r > 0 && copy_out(p, uaddr + done, bounce, (uint64_t)r) < 0)
            return done ? (int64_t)done : -LX_EFAULT;
        *pos += (uint64_t)r;
        done += (uint64_t)r;
        if ((uint64_t)r < n)
            break;
    }
    return (int64_t)done;
}

/*
 * FS_READ or FS_WRITE of up to len bytes between the file and user memory,
 * in one request: the server copies straight from or into the user's buffer
 * through an indirect grant of that memory (GRANT_USER_MEMORY), or of vfs's
 * own (sendfile's kernel_io). A bad user address is the server's EFAULT.
 */
static int64_t fs_rw(struct vproc *p, struct vnode *v, uint64_t uaddr, uint64_t len, uint64_t *pos,
                     int write)
{
    uint32_t access = write ? GRANT_READ : GRANT_WRITE;
    grant_id_t g;
    if (v->fs == PROCFS_EP)
        return fs_rw_bounce(p, v, uaddr, len, pos, write);
    if (p->kernel_io)
        g = grant_alloc(v->fs, (const void *)uaddr, len, access);
    else
        g = grant_alloc_indirect(v->fs, p->ep, GRANT_USER_MEMORY, uaddr, len, access);
    if (g < 0)
        return -LX_ENOMEM;
    int64_t r = fs_io(v, write ? FS_WRITE : FS_READ, *pos, g, len);
    grant_free(g);
    if (r > 0)
        *pos += (uint64_t)r;
    return r;
}

/* One of vfs's memory devices (null, zero, full; mem_known: a minor it serves)? */
int mem_device(const struct vnode *v)
{
    return (v->mode & S_IFMT) == S_IFCHR && DEV_MAJOR(v->rdev) == DEV_MEM_MAJOR;
}
int mem_known(const struct vnode *v)
{
    uint64_t minor = DEV_MINOR(v->rdev);
    return minor == DEV_MEM_NULL || minor == DEV_MEM_ZERO || minor == DEV_MEM_FULL;
}

/* null reads nothing, zero and full read zeros. */
static int64_t mem_read(struct vproc *p, uint64_t minor, uint64_t uaddr, uint64_t len)
{
    if (minor == DEV_MEM_NULL)
        return 0;
    memset(bounce, 0, len < BOUNCE_SIZE ? len : BOUNCE_SIZE);
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < BOUNCE_SIZE ? len - done : BOUNCE_SIZE;
        if (copy_out(p, uaddr + done, bounce, n) < 0)
            return done ? (int64_t)done : -LX_EFAULT;
        done += n;
    }
    return (int64_t)len;
}

/*
 * A transfer of count bytes at pos: EINVAL if count or pos is negative as a
 * signed 64-bit value, or their end would be (Linux's rw_verify_area).
 */
int rw_check(uint64_t pos, uint64_t count)
{
    if ((int64_t)count < 0 || (int64_t)pos < 0 || count > (uint64_t)INT64_MAX - pos)
        return -LX_EINVAL;
    return 0;
}

/*
 * A read (write 0) or a write of up to len bytes at *pos, by the kind of
 * file; at most MAX_RW_COUNT bytes move (callers checked rw_check).
 */
int64_t file_rw(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len, uint64_t *pos,
                int write)
{
    struct vnode *v = f->vn;
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if ((f->flags & O_ACCMODE) == (write ? 0 : O_WRONLY))
        return -LX_EBADF;
    if (v->sigfd)
        return write ? -LX_EINVAL : sigfd_read(p, f, len);
    if (v->mq && !write)
        keep_log(pos, 8); /* the only other kind with an offset */
    if (v->mq)
        return write ? -LX_EINVAL : mq_read(p, f, uaddr, len);
    switch (v->mode & S_IFMT) {
    case S_IFREG:
        keep_log(pos, 8); /* the file's offset, moved (or pread's own: not logged) */
        if (write && (f->flags & O_APPEND)) {
            struct fs_stat st;
            int64_t r = fs_stat(v, &st);
            if (r < 0)
                return r;
            *pos = st.size;
        }
        if (write)
            attr_drop_setid(p, v);
        fswait_appending(write && (f->flags & O_APPEND)); /* it may not run twice (fswait.c) */
        int64_t r = fs_rw(p, v, uaddr, len, pos, write);
        fswait_appending(0);
        return r;
    case S_IFDIR:
        return write ? -LX_EINVAL : -LX_EISDIR;
    case S_IFIFO:
        return write ? pipe_write(p, f, (uint64_t[2]){uaddr, len}, 1, 0) /* sendfile's */
                     : pipe_read(p, f, uaddr, len);
    case S_IFSOCK:
        return write ? sock_write(p, f, uaddr, len) : sock_read(p, f, uaddr, len);
    case S_IFCHR:
        if (DEV_MAJOR(v->rdev) == DEV_MEM_MAJOR && write) /* null and zero swallow every write */
            return DEV_MINOR(v->rdev) == DEV_MEM_FULL ? -LX_ENOSPC : (int64_t)len;
        if (DEV_MAJOR(v->rdev) == DEV_MEM_MAJOR)
            return mem_read(p, DEV_MINOR(v->rdev), uaddr, len);
        return dev_rw(p, f, uaddr, len, write);
    default:
        return -LX_EINVAL;
    }
}
