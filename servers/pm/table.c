/* The Linux system calls pm serves. Anything else: -ENOSYS, logged once. */
#include "pm.h"

/* A list, laid out by hand (clang-format re-wraps it differently each run). */
/* clang-format off */
#define CALLS(X)                                                                                   \
    X(fork) X(vfork) X(clone) X(execve) X(exit) X(wait4) X(waitid)                                 \
    X(kill) X(tkill) X(tgkill) X(getpid) X(getppid)                                                \
    X(getuid) X(geteuid) X(getgid) X(getegid) X(setuid) X(setgid) X(setreuid) X(setregid)          \
    X(setresuid) X(setresgid) X(getresuid) X(getresgid) X(setfsuid) X(setfsgid)                    \
    X(getgroups) X(setgroups)                                                            \
    X(setpgid) X(getpgid) X(getpgrp) X(getsid) X(setsid)                                           \
    X(rt_sigaction) X(rt_sigprocmask) X(rt_sigpending) X(rt_sigreturn) X(pause) X(rt_sigsuspend)   \
    X(sigaltstack) X(rt_sigtimedwait)                                                              \
    X(brk) X(mmap) X(munmap) X(mprotect) X(madvise) X(mremap) X(msync)                            \
    X(clock_gettime) X(clock_getres) X(gettimeofday) X(time) X(nanosleep) X(clock_nanosleep)       \
    X(clock_settime) X(settimeofday)                                                               \
    X(getitimer) X(setitimer) X(alarm) X(times) X(getrusage)                                       \
    X(uname) X(sysinfo) X(arch_prctl) X(set_robust_list) X(sched_yield)                            \
    X(sched_getaffinity) X(sched_setaffinity)                                                      \
    X(prlimit64) X(getrlimit) X(setrlimit) X(getrandom) X(prctl) X(reboot)                         \
    X(exit_group) X(gettid) X(set_tid_address) X(futex)
/* Calls on what a process's threads share: served on its main thread's entry (main.c). */
#define PROCESS_CALLS(X)                                                                           \
    X(brk) X(mmap) X(munmap) X(mprotect) X(madvise) X(mremap) X(msync)                            \
    X(prlimit64) X(getrlimit) X(setrlimit) X(getitimer) X(setitimer) X(alarm)
/* clang-format on */

#define DECLARE(name) int64_t do_##name(struct mproc *mp, const uint64_t *a);
CALLS(DECLARE)

#define ENTRY(name) [LX_##name] = do_##name,
const pm_call_t pm_calls[LX_NR_MAX] = {CALLS(ENTRY)};

#define MARK(name) [LX_##name] = 1,
const uint8_t pm_process_calls[LX_NR_MAX] = {PROCESS_CALLS(MARK)};
