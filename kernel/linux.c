/*
 * The Linux system-call interface: the kernel implements none of POSIX.
 * A `syscall` with a Linux number becomes a MSG_LINUX_CALL message from the
 * caller to the server that owns the call, by the table below (vfs for
 * descriptors, files and sockets, pm for everything else, including numbers nobody
 * implements, which pm logs once by name and answers with -ENOSYS). The
 * caller waits as in sendrec; the server's reply puts its result (the first word) in rax.
 * Root names the two servers with KC_LINUX_SERVERS, which builds the table.
 */
#include <samsara/linux.h>
#include "kernel.h"

enum { TO_PM, TO_VFS };

static const uint16_t vfs_calls[] = {
    LX_read,       LX_write,     LX_open,       LX_close,       LX_stat,        LX_fstat,
    LX_lstat,      LX_poll,      LX_lseek,      LX_ioctl,       LX_pread64,     LX_pwrite64,
    LX_readv,      LX_writev,    LX_access,     LX_pipe,        LX_select,      LX_dup,
    LX_dup2,       LX_sendfile,  LX_fcntl,      LX_fsync,       LX_truncate,    LX_ftruncate,
    LX_getcwd,     LX_chdir,     LX_fchdir,     LX_rename,      LX_mkdir,       LX_rmdir,
    LX_creat,      LX_link,      LX_unlink,     LX_symlink,     LX_readlink,    LX_chmod,
    LX_fchmod,     LX_chown,     LX_fchown,     LX_lchown,      LX_umask,       LX_statfs,
    LX_fstatfs,    LX_sync,      LX_getdents64, LX_openat,      LX_mkdirat,     LX_fchownat,
    LX_newfstatat, LX_unlinkat,  LX_renameat,   LX_linkat,      LX_symlinkat,   LX_readlinkat,
    LX_fchmodat,   LX_faccessat, LX_pselect6,   LX_ppoll,       LX_utimensat,   LX_dup3,
    LX_pipe2,      LX_renameat2, LX_faccessat2, LX_socket,      LX_socketpair,  LX_bind,
    LX_listen,     LX_accept,    LX_accept4,    LX_connect,     LX_sendto,      LX_recvfrom,
    LX_sendmsg,    LX_recvmsg,   LX_shutdown,   LX_getsockname, LX_getpeername, LX_getsockopt,
    LX_setsockopt,
};

static uint8_t owner[LX_NR_MAX]; /* TO_PM or TO_VFS */
static endpoint_t server[2] = {NONE, NONE};

/* KC_LINUX_SERVERS(pm, vfs): root only; builds the routing table. */
int64_t do_linux_servers(struct proc *p, const uint64_t *a)
{
    struct proc *pm, *vfs;
    if (!(p->priv.flags & PRIV_ROOT))
        return deny(p, 0);
    if (ep_lookup((endpoint_t)a[0], &pm) < 0)
        return refuse(p, 1, -E_SRCH);
    if (ep_lookup((endpoint_t)a[1], &vfs) < 0)
        return refuse(p, 2, -E_SRCH);
    for (size_t i = 0; i < sizeof(vfs_calls) / sizeof(vfs_calls[0]); i++)
        owner[vfs_calls[i]] = TO_VFS;
    server[TO_PM] = pm->ep;
    server[TO_VFS] = vfs->ep;
    return 0;
}

void linux_syscall(struct proc *p)
{
    struct regs *r = &p->regs;
    uint64_t nr = r->rax;
    endpoint_t to = server[nr < LX_NR_MAX ? owner[nr] : TO_PM];
    message_t m = {.type = MSG_LINUX_CALL,
                   .u.lx = {nr, {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9}}};
    int64_t result = to == NONE ? -LX_ENOSYS : ipc_linux_call(p, to, &m);
    if (result != KC_BLOCKED)
        r->rax = (uint64_t)result;
}
