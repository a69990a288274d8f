/*
 * pm: the process manager. It owns the Linux view of processes: pids,
 * parents, process groups and sessions, user and group ids (cred.c; vfs
 * gets a copy of each change), exit status and wait4, signals and
 * their handlers, the memory map (brk, mmap), exec of static ELF programs,
 * timers and clocks. The kernel only knows endpoints: every Linux process
 * is a kernel child of pm, which creates them (the first one, init) or
 * copies them (fork) with kernel calls, and is told by the kernel when one
 * dies. Calls that wait (wait4, pause, nanosleep, sigsuspend) are
 * suspended: pm replies later, or with -EINTR when a signal is delivered.
 */
#ifndef PM_H
#define PM_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/sysv.h>
#include <samsara/manifest.h>
#include "sys.h"

#define NR_MPROCS 96     /* Linux processes at most (fork gives EAGAIN) */
#define PROCS_FOR_ROOT 8 /* ... of which the last free ones only for euid 0 */
#define NSIG 65
#define INIT_PID 1
#define STACK_TOP 0x00007ffffffff000ull
#define STACK_DEFAULT (8ull << 20) /* RLIMIT_STACK's soft limit at first, as Linux's */
#define STACK_MAX (64ull << 20)    /* the most stack exec reserves, whatever the limit */
#define STACK_MIN (64ull << 10)    /* ... and the least, below the arguments */
#define MMAP_TOP 0x00007f0000000000ull
#define MIN_MAP_ADDR 0x10000 /* no mapping below (Linux's mmap_min_addr) */
#define PAGE 4096ull
#define RLIM_INFINITY (~0ull)
#define USER_PRIO 5

enum mstate { M_FREE, M_ALIVE, M_ZOMBIE };
/* futex(2)'s operations pm serves (thread.c), and the flags that go with them */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256

enum mwait { W_NONE, W_WAIT4, W_PAUSE, W_SLEEP, W_SIGSUSPEND, W_VFORK, W_SIGWAIT, W_FUTEX, W_GONE };
/* W_FUTEX: in FUTEX_WAIT (futex_addr, wake_at or 0); W_GONE: a main thread that exited while
 * other threads run, blocked for good (thread.c) */

/* What a pending signal's siginfo will say (Linux's si_code, si_pid, si_uid, si_status). */
struct sig_info {
    int32_t code, pid, uid, status;
    uint64_t addr; /* a fault's si_addr (fault set: the siginfo has it in pid's place) */
    int fault;
};
struct siginfo_l { /* Linux's siginfo_t on x86-64 (128 bytes): the kill and SIGCHLD forms */
    int32_t signo, errno_, code, pad;
    int32_t pid, uid, status, pad2;
    uint8_t rest[96];
};

#define SI_USER 0
#define SI_KERNEL 0x80
#define SI_MESGQ (-3) /* mq_notify (from vfs) */
#define SI_TKILL (-6)
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3
#define CLD_STOPPED 5
#define CLD_CONTINUED 6
#define SA_NOCLDSTOP 0x1
#define W_STOPPED_STATUS(sig) (((sig) << 8) | 0x7f) /* wait status: stopped by sig */
#define W_CONTINUED_STATUS 0xffff                   /* wait status: continued */

struct k_sigaction {
    uint64_t handler, flags, restorer, mask;
};
#define SIG_DFL 0
#define SIG_IGN 1
#define SA_NOCLDWAIT 0x2
#define SA_SIGINFO 0x4
#define SA_RESTORER 0x04000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTART 0x10000000

/* A region of a process's address space (region.c): [start, end), page aligned. */
enum region_kind {
    R_ANON,    /* MAP_PRIVATE|MAP_ANONYMOUS: demand-zero */
    R_SHARED,  /* MAP_SHARED|MAP_ANONYMOUS: shared frames, kept by fork (mapfile.c) */
    R_BRK,     /* the break */
    R_STACK,   /* the stack */
    R_IMAGE,   /* the program's segments */
    R_FILE,    /* MAP_PRIVATE of a file: the process's own copy of its pages */
    R_FSHARED, /* MAP_SHARED of a file: the file's pages in pm's window, shared */
    R_VDSO,    /* the clock page and the vDSO: pm's pages, shared read-only (clock.c) */
};
struct mfile; /* a mapped file (mapfile.c) */
struct region {
    uint64_t start, end;
    uint8_t prot;       /* PROT_R | PROT_W | PROT_X, as the program asked */
    uint8_t kind;       /* enum region_kind */
    uint8_t backed;     /* the kernel holds pages or demand-zero markers for it (not so for a
                           region that has been PROT_NONE from the start) */
    uint8_t maywrite;   /* R_FSHARED: mprotect may add PROT_WRITE (the descriptor could write) */
    struct mfile *file; /* R_FILE, R_FSHARED: the file, held once by each entry naming it */
    uint64_t obj;       /* R_SHARED: which shared memory (numbered at mmap; fork keeps it) */
    uint64_t off;       /* ... and the offset of start in the file or that memory */
    struct region *prev, *next;
};

#define RLIM_COUNT 16 /* Linux's resources 0..15 */
#define RLIMIT_CORE 4
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7

struct mproc {
    enum mstate state;
    endpoint_t ep;
    int pid, ppid, pgid, sid; /* a thread: pid is its tid; ppid, pgid, sid its process's */
    int tgid;                 /* its process: the main thread's pid (thread.c) */
    uint64_t clear_tid;       /* set_tid_address, CLONE_CHILD_CLEARTID: 0 written, woken at exit */
    uint64_t futex_space;     /* W_FUTEX: the key of the word waited on (thread.c: futex_key): */
    uint64_t futex_addr;      /* ... its process or shared memory, and address or offset */
    char name[16];
    int exit_status; /* wait4 status word, valid when zombie */
    struct k_sigaction act[NSIG];
    uint64_t sigmask, pending;
    uint64_t brk_start, brk;
    uint64_t rlim_as[2], rlim_data[2], rlim_stack[2]; /* RLIMIT_AS, _DATA, _STACK: soft, hard */
    uint64_t rlim[RLIM_COUNT][2];  /* the other limits, as set (misc.c: limit_of) */
    struct region regions;         /* the sentinel of its sorted, circular list of regions */
    struct region *hint;           /* where the next search starts */
    uint64_t vm_pages, data_pages; /* pages in regions; of them private writable, not stack */
    enum mwait wait;
    message_t call;             /* the suspended call */
    uint64_t wake_at;           /* W_SLEEP: CLOCK_MONOTONIC deadline, ns */
    uint64_t saved_mask;        /* W_SIGSUSPEND: mask to restore */
    uint64_t wait_set;          /* W_SIGWAIT: the signals waited for */
    struct sig_info info[NSIG]; /* each pending signal's, from when it came */
    uint64_t shared_pending;    /* the process's (main thread's entry): signals for it that */
    struct sig_info shared_info[NSIG]; /* ... every thread blocked when they came (signal.c) */
    int vfork_child;                   /* W_VFORK: the child's pid */
    uint64_t alarm_at, alarm_interval; /* ITIMER_REAL, CLOCK_MONOTONIC ns; 0 = off */
    uint64_t start_tick;
    uint64_t child_ticks;     /* CPU ms of reaped children */
    uint64_t cpu_ms;          /* its process's CPU ms (all threads'), read when it exits */
    uint64_t gone_ms;         /* main thread's entry: CPU ms of its threads that ended */
    int report;               /* rs ran it (PM_RUN): tell rs how it ended */
    int chrooted;             /* its root is not the tree's (VFS_SIG_CHROOT): a restarted vfs
                                 would not know it, so it is killed then (vfsnew.c) */
    struct cred cred;         /* its user and group ids (cred.c); vfs has a copy */
    int recheck;              /* signals came during another delivery (signal_check) */
    uint64_t ss_sp, ss_size;  /* sigaltstack: the alternate signal stack (size 0: none) */
    uint32_t ss_flags;        /* and its flags as set (SS_AUTODISARM) */
    int stopped;              /* job control: stopped (the kernel holds it) until SIGCONT */
    int wait_report;          /* a stop or continue its parent's wait4 has not seen: the status */
    int call_masked;          /* in ppoll or pselect6 with a mask of their own (VFS_SIG_MASK) */
    uint64_t call_saved_mask; /* ... and its own mask, to restore */
    uint64_t sfd_mask;        /* a signalfd read in vfs waits for one of these (sigfd.c) */
};

/* A mapped file (mapfile.c). */
#define NR_MFILES 64
struct mfile {
    uint64_t refs;     /* regions naming it, and callers between open and region_add; 0 = free */
    int32_t handle;    /* vfs's */
    uint64_t dev, ino; /* which file */
    uint64_t size;     /* its size when it was last mapped */
    uint64_t loaded;   /* [0, loaded) of the file is in the window (a page multiple) */
    int written;       /* a shared mapping of it was writable: write back */
};

/*
 * What outlives a pm instance (keep.c, docs/REINCARNATION.md "Core servers:
 * vfs and pm"): the tables, in pm's state region at MANIFEST_STATE_VADDR,
 * used in place (pointers into it stay true in the next instance, which maps
 * it at the same address). The region entries' pool follows it (region.c).
 */
struct pm_keep_header {
    uint64_t magic;
    uint32_t version, len; /* the layout's, and sizeof(struct pm_kept) */
    uint64_t check;        /* FNV-1a of the fields above */
    uint64_t busy;         /* 1: a message (or the start) is being handled */
};
struct pm_kept {
    struct pm_keep_header h;
    int last_pid;                       /* proc.c: the last pid given out */
    struct region *free_entries;        /* region.c: the pool's free entries */
    uint64_t nr_free_entries, pool_top; /* ... how many, and the pool's end */
    struct mfile mfiles[NR_MFILES];     /* mapfile.c */
    struct mproc procs[NR_MPROCS];      /* the process table */
};
#define PM_KEPT ((struct pm_kept *)MANIFEST_STATE_VADDR)
#define PM_KEPT_FIXED ((sizeof(struct pm_kept) + 0xffffull) & ~0xffffull) /* 64 KiB steps */
#define PM_POOL_BASE (MANIFEST_STATE_VADDR + PM_KEPT_FIXED)
#define mprocs (PM_KEPT->procs)
#define mfiles (PM_KEPT->mfiles)
extern endpoint_t vfs_ep;

/* keep.c */
int keep_start(void);
/* 1 while a message is being handled: tables left busy are not kept (inline: every message). */
static inline void keep_busy(int busy)
{
    *(volatile uint64_t *)&PM_KEPT->h.busy = (uint64_t)busy;
}
void keep_reconcile(void);
int keep_again(struct mproc *mp, message_t *m, uint64_t *deadline);
void keep_deadline(struct mproc *mp, uint64_t deadline);

/* sigfd.c: signalfd reads (vfs asks with VFS_SIG_TAKE, VFS_SIG_TRY) */
void sigfd_take(struct mproc *mp, uint64_t mask, int wait);
void sigfd_pending(struct mproc *mp, int sig);

/* main.c */
struct mproc *mproc_of(endpoint_t ep);
struct mproc *mproc_by_pid(int pid);
void reply_to(struct mproc *mp, int64_t result);
/* One VFS_PM_* request (its body typed, samsara/msg/vfs_pm.h); *result = the reply's, or -EIO. */
int vfs_request(message_t *m, int64_t *result);
#define SUSPEND (-0x7fff0000ll)

/* exec.c */
int64_t exec_image(struct mproc *mp, uint64_t path, uint64_t argv, uint64_t envp, int from_pm);
int64_t do_execve(struct mproc *mp, const uint64_t *a);

/* procinfo.c: /proc's view of a process, for vfs */
void procinfo_send(int pid, endpoint_t reader);

/* cred.c */
int64_t cred_exec(struct mproc *mp, uint64_t mode, uint64_t uid, uint64_t gid, int *secure);
int cred_may_signal(const struct mproc *sender, const struct mproc *target);

/* proc.c */
int pid_alloc(void);
struct mproc *mproc_alloc(void);
void mproc_exit(struct mproc *mp, int status);
void child_died(struct mproc *mp);
void check_waiters(struct mproc *parent);
void report_exit(struct mproc *mp);
void vfork_release(struct mproc *c);

/* thread.c */
struct mproc *leader_of(struct mproc *mp);
int vfs_restarted(endpoint_t ep); /* vfsnew.c */
void vfs_orphans(void);
struct mproc *group_next(const struct mproc *mp, const struct mproc *from);
void threads_end(struct mproc *mp, const struct mproc *keep);
struct mproc *thread_takeover(struct mproc *t);
int64_t thread_create(struct mproc *mp, const uint64_t *a);
int64_t fork_room(const struct mproc *mp); /* proc.c */
int64_t fork_entry(struct mproc *mp, uint64_t flags, struct mproc **out, int *pid);

/* signal.c */
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGWINCH 28
int fault_signal(int64_t vector);
void signal_fault(struct mproc *mp, const struct death_info *d);
int64_t signal_interrupt_call(struct mproc *mp);
void signal_call_mask(struct mproc *mp, int on, uint64_t mask);
void signal_send(struct mproc *mp, int sig);
void signal_send_info(struct mproc *mp, int sig, const struct sig_info *info);
void signal_check(struct mproc *mp);
int signal_group(int pgid, int sig, struct mproc *sender);
int64_t timespec_ns(struct mproc *mp, uint64_t uaddr, uint64_t *ns); /* time.c */

/* stop.c: job control */
int stop_signal(int sig);
void job_stop(struct mproc *mp, int sig);
void job_continue(struct mproc *mp);
void job_terminal(struct mproc *mp, int sig);
int pgrp_orphaned(int pgid, const struct mproc *ignored);
void orphans_check(struct mproc *gone);

/* misc.c */
void limits_init(struct mproc *mp);

/* mem.c */
int64_t mem_admit(uint64_t fresh);
int64_t mem_admit_fork(uint64_t pages);
int64_t mem_pages(const struct mproc *mp);
void mem_forget(struct mproc *mp);
void mem_limits_init(struct mproc *mp);
int64_t mem_exec_layout(struct mproc *mp, uint64_t image_pages, uint64_t arg_bytes,
                        uint64_t *stack_len);
int64_t mem_exec_stack(struct mproc *mp, uint64_t stack_len);
void mem_exec_segment(struct mproc *mp, uint64_t addr, uint64_t len, int prot);

/* mapfile.c: MAP_SHARED and mapped files */
void mfile_hold(struct mfile *f);
void mfile_drop(struct mfile *f);
void mfile_id(const struct mfile *f, uint64_t *dev, uint64_t *ino);
int64_t mfile_open(struct mproc *mp, int fd, int need_write, struct mfile **out, int *writable);
uint64_t mfile_new_pages(const struct mfile *f, uint64_t off, uint64_t len, int shared);
int64_t mfile_map_anon_shared(struct mproc *mp, uint64_t a, uint64_t len, int prot);
int64_t mfile_map(struct mproc *mp, uint64_t a, uint64_t len, int prot, int shared, struct mfile *f,
                  uint64_t off);
void mfile_writable(struct mfile *f);
int64_t mfile_writeback(struct mfile *f, uint64_t off, uint64_t len);
int mfile_past_end(const struct mfile *f, uint64_t off);
int mem_fault_signal(struct mproc *mp, uint64_t addr, int sig);

/* region.c */
int region_reserve(uint64_t n);
int region_kind_shared(int kind);
int region_has_offset(const struct region *r);
void region_init(struct mproc *mp);
int region_is_end(const struct mproc *mp, const struct region *r);
struct region *region_from(struct mproc *mp, uint64_t addr);
struct region *region_merge(struct mproc *mp, struct region *r);
void region_cut(struct mproc *mp, uint64_t a, uint64_t b);
void region_drop(struct mproc *mp, uint64_t a, uint64_t b);
struct region *region_add(struct mproc *mp, uint64_t a, uint64_t b, const struct region *how);
void region_set(struct mproc *mp, struct region *r, int prot, int backed);
uint64_t region_pages_in(struct mproc *mp, uint64_t a, uint64_t b, int data_only);
uint64_t region_gap(struct mproc *mp, uint64_t len, uint64_t floor, uint64_t top);
void region_free_all(struct mproc *mp);
int region_copy_ready(const struct mproc *mp);
void region_copy(struct mproc *c, const struct mproc *mp);

/* sysv.c: the System V IPC server's view of processes */
void sysv_init(void);
void sysv_fork(const struct mproc *parent, const struct mproc *child);
int64_t sysv_setcred(const struct mproc *mp, const struct cred *c);
int64_t sysv_tell(int type, const struct mproc *mp);
int sysv_is(endpoint_t ep);

/* time.c */
uint64_t now_ticks(void);
uint64_t cpu_ms(const struct mproc *mp);
uint64_t process_cpu_ms(struct mproc *mp);
void timers_run(void);
void timers_arm(void);
uint64_t realtime_base(void);
uint64_t deadline_after(uint64_t ns);

/* clock.c */
void clock_init(void);
uint64_t now_ns(void);
uint64_t realtime_ns(void);
void clock_set_realtime(uint64_t ns);
uint64_t clock_map(struct mproc *mp, uint64_t image_low, uint64_t image_end);

typedef int64_t (*pm_call_t)(struct mproc *mp, const uint64_t *a);

#endif
