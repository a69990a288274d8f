/* The Linux system calls vfs serves. */
#include "vfs.h"

/* A list, laid out by hand: clang-format re-wraps it differently each run. */
/* clang-format off */
#define CALLS(X)                                                                                   \
    X(read) X(write) X(open) X(close) X(stat) X(fstat) X(lstat) X(poll) X(lseek) X(ioctl)          \
    X(pread64) X(pwrite64) X(readv) X(writev) X(access) X(pipe) X(select) X(dup) X(dup2)           \
    X(sendfile) X(fcntl) X(fsync) X(truncate) X(ftruncate) X(getcwd) X(chdir) X(fchdir)            \
    X(rename) X(mkdir) X(rmdir) X(creat) X(link) X(unlink) X(symlink) X(readlink) X(chmod)         \
    X(fchmod) X(chown) X(fchown) X(umask) X(statfs) X(fstatfs) X(sync) X(getdents64) X(openat)     \
    X(mkdirat) X(newfstatat) X(unlinkat) X(renameat) X(linkat) X(symlinkat) X(readlinkat)          \
    X(fchmodat) X(faccessat) X(pselect6) X(ppoll) X(utimensat) X(dup3) X(pipe2) X(renameat2)       \
    X(lchown) X(fchownat) X(faccessat2)
/* clang-format on */

#define DECLARE(name) int64_t do_##name(struct vproc *p, const uint64_t *a);
CALLS(DECLARE)

#define ENTRY(name) [LX_##name] = do_##name,
static const vfs_call_t table[LX_NR_MAX] = {CALLS(ENTRY)};

int64_t vfs_dispatch(struct vproc *p, uint64_t nr, const uint64_t *a)
{
    if (nr >= LX_NR_MAX || !table[nr])
        return -LX_ENOSYS;
    return table[nr](p, a);
}
