/*
 * Message bodies of the VFS_PM protocol: pm -> vfs (samsara/fs.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_vfs_pm, reached as m.u.vfs_pm.NAME.
 * Endpoints and grant ids are int32 (endpoint_t, grant_id_t); results
 * are 0 or a negative Linux errno (struct msg_reply).
 */
#ifndef SAMSARA_MSG_VFS_PM_H
#define SAMSARA_MSG_VFS_PM_H

#include <stdint.h>
#include <samsara/msg/reply.h>

struct msg_vfs_pm_fork { /* VFS_PM_FORK */
    int32_t parent;      /* 0: none (init) */
    int32_t child;
    int32_t pid;    /* the child's (a thread: its process's) */
    uint32_t flags; /* VFS_FORK_THREAD: a thread of parent's process, sharing its descriptor
                       table, cwd, root and umask (CLONE_FILES, CLONE_FS); VFS_FORK_ADOPT: a
                       process a new vfs instance learns of (parent 0), without descriptors
                       (init, pid 1: the console on 0, 1 and 2, as at boot) */
    int32_t ppid;   /* VFS_FORK_ADOPT: its parent's pid */
};
#define VFS_FORK_THREAD 1
#define VFS_FORK_ADOPT 2

struct msg_vfs_pm_proc { /* VFS_PM_EXIT, VFS_PM_CANCEL: the process */
    int32_t ep;
};

struct msg_vfs_pm_exec { /* VFS_PM_EXEC */
    int32_t ep;
    int32_t grant;      /* write access, len bytes, for the program file */
    int32_t path_grant; /* read access: the path (from pm: the caller's, or a #! interpreter) */
    int32_t have_fs;    /* with have_ino and have_version: the file the buffer holds */
    uint64_t path_len;  /* with its NUL; resolved as ep sees it */
    uint64_t len;
    uint64_t have_ino, have_version; /* (struct fs_stat's version; 0: nothing known) */
};

struct msg_vfs_pm_exec_reply { /* VFS_PM_EXEC's reply */
    int64_t result;            /* the file's size, or -errno */
    uint64_t mode, uid, gid;   /* of the program file (set-id bits) */
    uint64_t ino, version;     /* the file the buffer holds now: have_* of the next request */
    int32_t fs;
};

struct msg_vfs_pm_exec_done { /* VFS_PM_EXEC_DONE */
    int32_t ep;
    int32_t grant; /* read access: the command line, argv NUL-separated */
    uint64_t len;
    int32_t ppid;
    char name[16]; /* its name (Linux's comm: the exec'd path's last part), NUL-ended */
};

struct msg_vfs_pm_setname { /* VFS_PM_SETNAME: prctl(PR_SET_NAME) */
    int32_t ep;
    char name[16]; /* NUL-ended */
};

struct msg_vfs_pm_pull_reply { /* VFS_PM_PULL's reply: one queued signal */
    int64_t result;            /* its kind, VFS_SIG_* (VFS_SIG_NONE: no more) */
    int64_t target;            /* an endpoint (VFS_SIG_PROC) or a process group */
    int64_t sig;
    int32_t pid, uid; /* VFS_SIG_MESGQ: the sender's (the siginfo's si_pid, si_uid) */
};

struct msg_vfs_pm_setpgrp { /* VFS_PM_SETPGRP */
    int32_t ep;
    int32_t pgrp, sid;
};

struct msg_vfs_pm_setcred { /* VFS_PM_SETCRED */
    int32_t ep;
    int32_t grant; /* read access to its struct cred */
};

struct msg_vfs_pm_release { /* VFS_PM_RELEASE */
    int32_t pid;            /* a reaped zombie */
};

struct msg_vfs_pm_setlimit { /* VFS_PM_SETLIMIT */
    int32_t ep;
    uint32_t fd_limit; /* descriptors 0..fd_limit-1 may be made (EINVAL past NR_FDS) */
};

struct msg_vfs_pm_map_open { /* VFS_PM_MAP_OPEN */
    int32_t ep;
    int32_t fd;
    int32_t need_write; /* MAP_SHARED with PROT_WRITE: the descriptor must be open for writing */
};

#define VFS_MAP_FILE 1             /* a regular file: a handle, its size and ids */
#define VFS_MAP_ZERO 2             /* /dev/zero: anonymous memory (no handle) */
struct msg_vfs_pm_map_open_reply { /* VFS_PM_MAP_OPEN's reply */
    int64_t result;                /* VFS_MAP_*, or -errno (EBADF, EACCES, ENODEV) */
    int32_t handle;                /* VFS_MAP_FILE: vfs holds the file until VFS_PM_MAP_CLOSE */
    int32_t writable;              /* the descriptor is open for writing (mprotect may add it) */
    uint64_t size, dev, ino;
};

struct msg_vfs_pm_map_io { /* VFS_PM_MAP_IO */
    int32_t handle;
    int32_t write; /* 0: file -> pm's memory; 1: pm's memory -> file, cut at the file's size */
    int32_t grant; /* pm's memory, len bytes: write access to read into, read access to write */
    uint64_t offset, len;
};

struct msg_vfs_pm_map_close { /* VFS_PM_MAP_CLOSE */
    int32_t handle;
};

struct msg_vfs_pm_siginfo { /* VFS_PM_SIGINFO: a signal taken for a signalfd read */
    int32_t ep;
    int32_t signo; /* 0: none of the mask is pending */
    int32_t code, pid, uid, status;
};

struct msg_vfs_pm_procinfo { /* VFS_PM_PROCINFO */
    int32_t reader;          /* the process reading /proc, as VFS_SIG_PROCINFO named it */
    int32_t pid;             /* the process described */
    int32_t grant;           /* read access: len bytes of struct pm_procinfo (none: no such pid) */
    uint64_t len;
};

/*
 * What pm knows of a process and vfs does not, for /proc/PID/stat, status
 * and maps: its state as pm sees it, its memory by kind, and its regions
 * (the first PM_PROCINFO_REGIONS of them, in address order; nregions says
 * how many it has). Sizes in pages.
 */
#define PM_PROCINFO_REGIONS 340
struct pm_procinfo_region {
    uint64_t start, end;
    uint64_t off;   /* a file mapping: the offset of start in the file; else 0 */
    uint64_t ino;   /* ... the file's inode (0: not a file mapping) */
    uint32_t dev;   /* ... and device, as VFS_PM_MAP_OPEN gave them (stat's st_dev) */
    uint8_t prot;   /* 1 read, 2 write, 4 execute */
    uint8_t kind;   /* PM_REGION_* */
    uint8_t pad[2]; /* zero */
};
#define PM_REGION_ANON 0
#define PM_REGION_SHARED 1 /* MAP_SHARED */
#define PM_REGION_HEAP 2   /* the break */
#define PM_REGION_STACK 3
#define PM_REGION_IMAGE 4 /* the program's segments */
struct pm_procinfo {
    int32_t pid, ppid;
    char state; /* 'Z' zombie, 'T' stopped, 'S' waiting in pm, 'R' otherwise */
    uint8_t pad[3];
    uint32_t threads;
    uint64_t vm_pages, data_pages, stack_pages, image_pages;
    uint64_t brk_start, brk;
    uint64_t start_tick; /* pm's: when it was made (ms of uptime) */
    uint64_t sig_pending, sig_blocked, sig_ignored, sig_caught; /* bit n-1: signal n */
    uint64_t nregions; /* it has; the first (at most PM_PROCINFO_REGIONS) follow */
    struct pm_procinfo_region region[PM_PROCINFO_REGIONS];
};

struct msg_vfs_pm_tty { /* VFS_PM_TTY */
    int32_t ep;
    int32_t pad;
    int64_t result; /* < 0: the call's error (-EIO); 0: it goes on */
};

struct msg_vfs_pm_takeover { /* VFS_PM_TAKEOVER: execve from a thread other than the main one */
    int32_t old;             /* the main thread, already killed: its call ends, its view goes */
    int32_t ep;              /* a thread of old's process: it now holds the process's table */
};

struct msg_vfs_pm_orphan { /* VFS_PM_ORPHAN (index 0: every zombie is forgotten too) */
    int64_t index;
};

struct msg_vfs_pm_orphan_reply { /* VFS_PM_ORPHAN's reply */
    int64_t result;              /* the endpoint of the process forgotten; 0: no more */
    int64_t next;                /* the index to ask next */
};

union msg_vfs_pm {
    struct msg_reply reply;
    struct msg_vfs_pm_fork fork;
    struct msg_vfs_pm_proc proc;
    struct msg_vfs_pm_exec exec;
    struct msg_vfs_pm_exec_reply exec_reply;
    struct msg_vfs_pm_exec_done exec_done;
    struct msg_vfs_pm_pull_reply pull;
    struct msg_vfs_pm_setpgrp setpgrp;
    struct msg_vfs_pm_setcred setcred;
    struct msg_vfs_pm_release release;
    struct msg_vfs_pm_setlimit setlimit;
    struct msg_vfs_pm_setname setname;
    struct msg_vfs_pm_map_open map_open;
    struct msg_vfs_pm_map_open_reply map_open_reply;
    struct msg_vfs_pm_map_io map_io;
    struct msg_vfs_pm_map_close map_close;
    struct msg_vfs_pm_siginfo siginfo;
    struct msg_vfs_pm_procinfo procinfo;
    struct msg_vfs_pm_tty tty;
    struct msg_vfs_pm_takeover takeover;
    struct msg_vfs_pm_orphan orphan;
    struct msg_vfs_pm_orphan_reply orphan_reply;
};
MSG_BODY_FITS(union msg_vfs_pm);

#endif
