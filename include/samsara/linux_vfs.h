/*
 * The Linux calls the kernel sends to vfs (descriptors, paths, file
 * systems); every other number goes to pm. One list for the kernel's
 * routing table (kernel/linux.c) and the test that calls each of them with
 * edge values (user/utest.c, vfs_edge_values). No includes: musl programs
 * use it beside their own headers.
 */
#ifndef SAMSARA_LINUX_VFS_H
#define SAMSARA_LINUX_VFS_H

/* clang-format off */
#define LINUX_VFS_CALLS(X)                                                                         \
    X(read) X(write) X(open) X(close) X(stat) X(fstat) X(lstat) X(poll) X(lseek) X(ioctl)          \
    X(pread64) X(pwrite64) X(readv) X(writev) X(access) X(pipe) X(select) X(dup) X(dup2)           \
    X(sendfile) X(fcntl) X(fsync) X(truncate) X(ftruncate) X(getcwd) X(chdir) X(fchdir)            \
    X(rename) X(mkdir) X(rmdir) X(creat) X(link) X(unlink) X(symlink) X(readlink) X(chmod)         \
    X(fchmod) X(chown) X(fchown) X(lchown) X(umask) X(statfs) X(fstatfs) X(sync) X(getdents64)     \
    X(openat) X(mkdirat) X(fchownat) X(newfstatat) X(unlinkat) X(renameat) X(linkat)               \
    X(symlinkat) X(readlinkat) X(fchmodat) X(faccessat) X(pselect6) X(ppoll) X(utimensat)          \
    X(dup3) X(pipe2) X(renameat2) X(faccessat2) X(fdatasync) X(syncfs) X(mount) X(umount2)         \
    X(socket) X(socketpair) X(bind) X(listen) X(accept) X(accept4) X(connect) X(sendto)            \
    X(recvfrom) X(sendmsg) X(recvmsg) X(shutdown) X(getsockname) X(getpeername) X(getsockopt)      \
    X(setsockopt) X(mknod) X(mknodat) X(utime) X(utimes) X(futimesat)    \
    X(chroot) X(flock) X(mq_open) X(mq_unlink) X(mq_timedsend) X(mq_timedreceive) X(mq_notify)   \
    X(mq_getsetattr) X(signalfd) X(signalfd4)
/* clang-format on */

#endif
