/*
 * The Linux x86-64 system-call ABI as Samsara's servers see it: call
 * numbers and errno values (from the Linux ABI; user programs use their
 * own headers), and the messages the kernel makes of a system call.
 *
 * A program's `syscall` with rax < KCALL_BASE becomes a message of type
 * MSG_LINUX_CALL from the program to the server that owns the call (pm or
 * vfs: samsara/linux_vfs.h lists vfs's): u.w[0] = number, u.w[1..6]
 * = rdi, rsi, rdx, r10, r8, r9. The program stays blocked until that server
 * sends it any message; the kernel puts that message's u.w[0] in rax.
 */
#ifndef SAMSARA_LINUX_H
#define SAMSARA_LINUX_H

#include <stdint.h>
#include <samsara/msgtypes.h>

/* The KERNEL range of samsara/msgtypes.h */
#define MSG_LINUX_CALL (KERNEL_RQ_BASE + 0x43)
#define MSG_LINUX_REPLY (KERNEL_RQ_BASE + 0x52)
_Static_assert(IS_KERNEL_RQ(MSG_LINUX_CALL) && IS_KERNEL_RQ(MSG_LINUX_REPLY),
               "Linux-call types stay in the KERNEL range");

/* KC_PROC_REGS: a user process's registers, as pm reads and sets them. */
struct user_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags, fs_base;
};
#define REGS_GET 0
#define REGS_SET 1
#define REGS_INTERRUPT 2 /* end a Linux call still queued at its server with */
                         /* -EINTR: result 1; 2 if a server has taken it (ask */
                         /* that server); 0 if not in a call. For 1 and 2 the */
                         /* rax, rbx fields of the user_regs written back hold */
                         /* the server's endpoint and the call number */
#define REGS_FPU_GET 3   /* the 512-byte FXSAVE image of its FPU/SSE state */
#define REGS_FPU_SET 4   /* (signal frames keep it across a handler) */
#define FPU_STATE_SIZE 512

/* Call numbers */
#define LX_read 0
#define LX_write 1
#define LX_open 2
#define LX_close 3
#define LX_stat 4
#define LX_fstat 5
#define LX_lstat 6
#define LX_poll 7
#define LX_lseek 8
#define LX_mmap 9
#define LX_mprotect 10
#define LX_munmap 11
#define LX_brk 12
#define LX_rt_sigaction 13
#define LX_rt_sigprocmask 14
#define LX_rt_sigreturn 15
#define LX_ioctl 16
#define LX_pread64 17
#define LX_pwrite64 18
#define LX_readv 19
#define LX_writev 20
#define LX_access 21
#define LX_pipe 22
#define LX_select 23
#define LX_sched_yield 24
#define LX_mremap 25
#define LX_msync 26
#define LX_madvise 28
#define LX_shmget 29
#define LX_shmat 30
#define LX_shmctl 31
#define LX_dup 32
#define LX_dup2 33
#define LX_pause 34
#define LX_nanosleep 35
#define LX_getitimer 36
#define LX_alarm 37
#define LX_setitimer 38
#define LX_getpid 39
#define LX_sendfile 40
#define LX_socket 41
#define LX_connect 42
#define LX_accept 43
#define LX_sendto 44
#define LX_recvfrom 45
#define LX_sendmsg 46
#define LX_recvmsg 47
#define LX_shutdown 48
#define LX_bind 49
#define LX_listen 50
#define LX_getsockname 51
#define LX_getpeername 52
#define LX_socketpair 53
#define LX_setsockopt 54
#define LX_getsockopt 55
#define LX_clone 56
#define LX_fork 57
#define LX_vfork 58
#define LX_execve 59
#define LX_exit 60
#define LX_wait4 61
#define LX_kill 62
#define LX_uname 63
#define LX_semget 64
#define LX_semop 65
#define LX_semctl 66
#define LX_shmdt 67
#define LX_msgget 68
#define LX_msgsnd 69
#define LX_msgrcv 70
#define LX_msgctl 71
#define LX_fcntl 72
#define LX_flock 73
#define LX_fsync 74
#define LX_fdatasync 75
#define LX_truncate 76
#define LX_ftruncate 77
#define LX_getdents 78
#define LX_getcwd 79
#define LX_chdir 80
#define LX_fchdir 81
#define LX_rename 82
#define LX_mkdir 83
#define LX_rmdir 84
#define LX_creat 85
#define LX_link 86
#define LX_unlink 87
#define LX_symlink 88
#define LX_readlink 89
#define LX_chmod 90
#define LX_fchmod 91
#define LX_chown 92
#define LX_fchown 93
#define LX_lchown 94
#define LX_umask 95
#define LX_gettimeofday 96
#define LX_getrlimit 97
#define LX_getrusage 98
#define LX_sysinfo 99
#define LX_times 100
#define LX_getuid 102
#define LX_getgid 104
#define LX_setuid 105
#define LX_setgid 106
#define LX_geteuid 107
#define LX_getegid 108
#define LX_setpgid 109
#define LX_getppid 110
#define LX_getpgrp 111
#define LX_setsid 112
#define LX_setreuid 113
#define LX_setregid 114
#define LX_getgroups 115
#define LX_setgroups 116
#define LX_setresuid 117
#define LX_getresuid 118
#define LX_setresgid 119
#define LX_getresgid 120
#define LX_getpgid 121
#define LX_setfsuid 122
#define LX_setfsgid 123
#define LX_getsid 124
#define LX_rt_sigpending 127
#define LX_rt_sigtimedwait 128
#define LX_rt_sigsuspend 130
#define LX_sigaltstack 131
#define LX_utime 132
#define LX_mknod 133
#define LX_statfs 137
#define LX_fstatfs 138
#define LX_prctl 157
#define LX_arch_prctl 158
#define LX_setrlimit 160
#define LX_chroot 161
#define LX_sync 162
#define LX_settimeofday 164
#define LX_mount 165
#define LX_umount2 166
#define LX_reboot 169
#define LX_gettid 186
#define LX_tkill 200
#define LX_time 201
#define LX_futex 202
#define LX_getdents64 217
#define LX_set_tid_address 218
#define LX_semtimedop 220
#define LX_clock_settime 227
#define LX_clock_gettime 228
#define LX_clock_getres 229
#define LX_clock_nanosleep 230
#define LX_exit_group 231
#define LX_sched_setaffinity 203
#define LX_sched_getaffinity 204
#define LX_tgkill 234
#define LX_utimes 235
#define LX_waitid 247
#define LX_openat 257
#define LX_mkdirat 258
#define LX_mq_open 240
#define LX_mq_unlink 241
#define LX_mq_timedsend 242
#define LX_mq_timedreceive 243
#define LX_mq_notify 244
#define LX_mq_getsetattr 245
#define LX_mknodat 259
#define LX_futimesat 261
#define LX_fchownat 260
#define LX_newfstatat 262
#define LX_unlinkat 263
#define LX_renameat 264
#define LX_linkat 265
#define LX_symlinkat 266
#define LX_readlinkat 267
#define LX_fchmodat 268
#define LX_faccessat 269
#define LX_pselect6 270
#define LX_ppoll 271
#define LX_set_robust_list 273
#define LX_utimensat 280
#define LX_signalfd 282
#define LX_accept4 288
#define LX_signalfd4 289
#define LX_dup3 292
#define LX_pipe2 293
#define LX_prlimit64 302
#define LX_syncfs 306
#define LX_renameat2 316
#define LX_getrandom 318
#define LX_statx 332
#define LX_faccessat2 439
#define LX_NR_MAX 512
/* In a vfs call's number: the call ran again after its vfs died holding it (kernel/linux.c) */
#define LX_AGAIN LX_NR_MAX

/* errno values */
#define LX_EPERM 1
#define LX_ENOENT 2
#define LX_ESRCH 3
#define LX_EINTR 4
#define LX_EIO 5
#define LX_ENXIO 6
#define LX_E2BIG 7
#define LX_ENOEXEC 8
#define LX_EBADF 9
#define LX_ECHILD 10
#define LX_EAGAIN 11
#define LX_ENOMEM 12
#define LX_EACCES 13
#define LX_EFAULT 14
#define LX_EBUSY 16
#define LX_EEXIST 17
#define LX_EXDEV 18
#define LX_ENODEV 19
#define LX_ENOTDIR 20
#define LX_EISDIR 21
#define LX_EINVAL 22
#define LX_ENFILE 23
#define LX_EMFILE 24
#define LX_ENOTTY 25
#define LX_EFBIG 27
#define LX_ENOSPC 28
#define LX_ESPIPE 29
#define LX_EROFS 30
#define LX_EMLINK 31
#define LX_EPIPE 32
#define LX_EDOM 33
#define LX_ERANGE 34
#define LX_EDEADLK 35
#define LX_ENAMETOOLONG 36
#define LX_ENOLCK 37
#define LX_ENOSYS 38
#define LX_ENOTEMPTY 39
#define LX_ELOOP 40
#define LX_ENOMSG 42
#define LX_EIDRM 43
#define LX_EOVERFLOW 75
#define LX_ENOTSOCK 88
#define LX_EDESTADDRREQ 89
#define LX_EMSGSIZE 90
#define LX_EPROTOTYPE 91
#define LX_ENOPROTOOPT 92
#define LX_EPROTONOSUPPORT 93
#define LX_ESOCKTNOSUPPORT 94
#define LX_EOPNOTSUPP 95
#define LX_EAFNOSUPPORT 97
#define LX_EADDRINUSE 98
#define LX_EADDRNOTAVAIL 99
#define LX_ENETUNREACH 101
#define LX_ECONNABORTED 103
#define LX_ECONNRESET 104
#define LX_ENOBUFS 105
#define LX_EISCONN 106
#define LX_ENOTCONN 107
#define LX_ETIMEDOUT 110
#define LX_ECONNREFUSED 111
#define LX_EHOSTUNREACH 113
#define LX_EALREADY 114
#define LX_EINPROGRESS 115

#endif
