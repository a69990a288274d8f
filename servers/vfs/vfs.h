/*
 * vfs: the virtual file system server. It owns every Linux process's
 * descriptor table, current directory and umask; resolves paths over the
 * mounted file-system servers (FS_* protocol), checking permissions with
 * the ids pm gives it for each process (perm.c); and forwards I/O to files,
 * character drivers (CDEV_* protocol), pipes and the built-in memory
 * devices (/dev/null, /dev/zero). User memory is reached with KC_VCOPY
 * (vfs has PRIV_USERS). File-system servers copy file data straight from
 * and into the user's buffer through an indirect grant vfs makes of it
 * (GRANT_USER_MEMORY, file.c); names, stat results and drivers' data go
 * through windows of vfs's own memory (the bounce buffer), through grants.
 *
 * A call that must wait (a read from an empty pipe or the terminal, poll)
 * is suspended: vfs does not reply, records the call in the process entry,
 * and finishes it when the condition changes, or with -EINTR when pm asks
 * (a signal). vfs itself waits only for the replies of servers it chose:
 * the file-system servers, root, and the drivers of its device map
 * (dmap.c), which answer each request at once. It never waits to learn a
 * driver's status (the drivers write it into vfs's memory), and checks
 * every message for its sender's right to send it ("Who may send what" in
 * docs/USERLAND.md; refusals are counted in refuse.c, shown in /proc/refusals).
 */
#ifndef VFS_H
#define VFS_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/manifest.h>
#include "format/format.h"
#include "sys.h"

#define NR_FDS VFS_NR_FDS
#define NR_FILES 512
#define NR_VNODES 2048
#define VNODE_BUCKET_BITS 10 /* vnode.c finds a vnode by (fs, ino) in 1 << this chains */
#define VNODE_BUCKETS (1 << VNODE_BUCKET_BITS)
#define NR_PIPES 64
#define FILES_FOR_ROOT                                                                             \
    64 /* the last free open files and pipes are root's (table_entry_allowed)                      \
        */
#define PIPES_FOR_ROOT 8
#define PIPE_SIZE 16384
#define PIPE_BUF 4096 /* a pipe write of this many bytes or fewer is not split (POSIX) */
#define PATH_MAX 4096
#define SYMLINK_MAX_DEPTH 40 /* symbolic links one lookup follows (Linux's MAXSYMLINKS) */
#define BOUNCE_SIZE (64 * 1024)
#define MAX_RW_COUNT 0x7ffff000ull   /* the most one call moves (Linux's limit too) */
#define PROCFS_EP ((endpoint_t)-100) /* the "server" of /proc: vfs itself */

/* open(2) flags, Linux values */
#define O_ACCMODE 3
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_EMPTY_PATH 0x1000
#define AT_EACCESS 0x200 /* faccessat2: check with the effective ids */

struct vnode {
    int refs;      /* files, cwds and lookups holding it; 0 = free slot */
    endpoint_t fs; /* file-system server, or NONE for a pipe */
    uint64_t ino, mode, rdev, size;
    uint32_t uid, gid; /* the owner; mode and owner are refreshed by every */
                       /* lookup, stat, chmod and chown (perm.c checks them) */
    struct pipe *pipe; /* S_IFIFO: the pipe buffer */
    struct sock *sock; /* S_IFSOCK: the socket (socket.h) */
    struct mqueue *mq; /* a POSIX message queue (mqueue.c; no type bits, no server) */
    int sigfd;         /* a signalfd (signalfd.c; no type bits, no server): sigmask's */
    uint64_t sigmask;
    struct vnode *mounted;   /* root of a file system mounted here */
    int bind;                /* reached through bind mount number `bind` (mount.c); 0: through */
                             /* its file system's own mount. One file has a vnode per mount */
    struct vnode *lent;      /* a file bound on a file (mount.c): the server counted the source's */
                             /* reference, held here, not this vnode's */
    struct vnode *covering;  /* a mounted root: the mount point it covers (vnode_covered) */
    struct vnode *next_same; /* vnode.c's chain of the vnodes whose (fs, ino) hash alike */
    int cached_names;        /* name-cache entries in this directory (namecache.c) */
};

/* A byte ring inside vfs (ring.c): a pipe's buffer, a socket's receive queue. */
struct ring {
    uint32_t head, count; /* the data: count bytes from head on, wrapping */
    uint8_t buf[PIPE_SIZE];
};

struct pipe {
    int in_use, readers, writers;
    struct ring ring;
};

#define FILE_NAME_MAX 200 /* a longer path is not kept: /proc/PID/fd shows the inode */
struct file {
    int refs;
    uint32_t flags; /* O_* status flags and access mode */
    uint64_t pos;
    struct vnode *vn;
    /* the path open was given, for /proc/PID/fd (file_name_set): relative to dir (held), or
       absolute with dir 0; "" when not kept */
    struct vnode *dir;
    char name[FILE_NAME_MAX];
};

/* A suspended call, finished later by vfs_wakeup(). */
enum wait_kind {
    WAIT_NONE,
    WAIT_PIPE_READ,
    WAIT_PIPE_WRITE,
    WAIT_SOCK,
    WAIT_DEV,
    WAIT_POLL,
    WAIT_FIFO_OPEN, /* an open of a FIFO waiting for its other end (vproc.fifo) */
    WAIT_FS,        /* a busy file server (fswait.c) */
    WAIT_LOCK,      /* F_SETLKW or flock waiting for a lock (lock.c) */
    WAIT_MQ,        /* mq_timedsend to a full queue, mq_timedreceive from an empty one */
    WAIT_SIGFD,     /* a signalfd read waiting for pm's VFS_PM_SIGINFO (signalfd.c) */
    WAIT_PROCINFO,  /* a read of /proc waiting for pm's part (procfs.c) */
    WAIT_TTY        /* a background process's terminal call: pm decides (VFS_SIG_TTY) */
};

struct vproc {
    endpoint_t ep; /* 0 = free */
    int pid;       /* a thread: its process's */
    /* Whose descriptors, close-on-exec bits, limit, cwd, root and umask it uses: its own, or a
     * thread's (VFS_FORK_THREAD) its process's main thread's, which pm keeps until the last
     * thread is gone (CLONE_FILES, CLONE_FS). Only files-> reaches those fields. */
    struct vproc *files;
    struct file *fd[NR_FDS];
    uint64_t cloexec;  /* bit per descriptor */
    uint32_t fd_limit; /* RLIMIT_NOFILE (from pm): new descriptors are below it */
    struct vnode *cwd;
    struct vnode *root; /* chroot's, held; 0: the file system's root (proc_root) */
    uint32_t umask;
    int pgrp, sid;
    struct cred cred; /* its ids, as pm sent them (VFS_PM_FORK, VFS_PM_SETCRED) */
    /* the suspended call, if any */
    enum wait_kind wait;
    message_t call;  /* the original MSG_LINUX_CALL */
    uint64_t done;   /* bytes already transferred by this call */
    uint64_t dev_id; /* WAIT_DEV: request id at the driver */
    endpoint_t dev_ep;
    endpoint_t fs_wait;   /* WAIT_FS: the busy file server (or the dead one, fs_deadline set) */
    uint64_t fs_deadline; /* WAIT_FS for a dead server: EIO after this tick (fswait.c, replay) */
    int fs_unsafe;        /* a request of this call that must not run twice died with a server */
    uint64_t deadline;    /* WAIT_POLL, WAIT_SOCK: tick, 0 = none */
    int waited;           /* WAIT_SOCK: the call waited once, so its deadline is fixed */
    int kernel_io;        /* copy_in/out address vfs memory (sendfile) */
    int tty_passed;       /* pm let its background terminal call go on (VFS_PM_TTY), once */
    int poll_masked;      /* its ppoll or pselect6 waits with its mask told to pm (poll.c) */
    struct {              /* WAIT_FIFO_OPEN: the FIFO (server, inode) and the end it opens */
        endpoint_t fs;
        uint64_t ino;
        int reads;
    } fifo;
    /* for /proc (procfs.c), kept up to date by pm */
    int ppid;
    char comm[16];
    char cmdline[256];
    uint64_t cmdline_len, start_tick;
    char exe[256];      /* the program running: /proc/PID/exe */
    char exe_next[256]; /* the program being loaded, until VFS_PM_EXEC_DONE */
};

/* keep.c: the tables kept in the state region across a restart (tab: the live set) */
/* A POSIX message queue (mqueue.c) and its messages, in the arena of its set of tables */
#define NR_MQUEUES 256  /* queues_max; root may pass it (ENOSPC for others) */
#define MQ_NAME_MAX 255 /* NAME_MAX */
#define MQ_HEAP (4u << 20)
struct mq_msg {
    struct mq_msg *next;
    uint64_t len;
    uint32_t prio;
    uint8_t data[];
};
struct mqueue {
    int used, linked, opens; /* linked: the name is there (till mq_unlink); opens: files */
    char name[MQ_NAME_MAX + 1];
    uint32_t uid, gid, mode; /* the creator's fsuid and fsgid; the mode's 0777 bits */
    uint64_t maxmsg, msgsize, curmsgs;
    uint64_t charge;  /* bytes charged to the creator's MQ_RLIMIT_BYTES, given back at the end */
    uint32_t charged; /* the creator's real uid (Linux's user_struct) */
    struct mq_msg *head;
    endpoint_t notify_ep; /* mq_notify's registration (0: none) */
    int notify_pid, notify_sig, notify_kind;
};

/* An advisory lock (lock.c) */
#define NR_LOCKS 1024
struct lock {
    int in_use;
    int flock; /* a flock(2) lock, else a record lock */
    int type;  /* F_RDLCK or F_WRLCK */
    endpoint_t fs;
    uint64_t ino;       /* the file: (server, inode), or (NONE, vnode) for a pipe or socket */
    int pid;            /* the owner of a POSIX lock; 0 for OFD and flock locks */
    struct file *file;  /* the owner of an OFD or flock lock; 0 for POSIX locks */
    int64_t start, end; /* the bytes start..end, both included (flock: the whole file) */
};

struct tables {
    struct vproc procs[NR_SLOTS];
    struct file files[NR_FILES];
    struct vnode vnodes[NR_VNODES];
    struct pipe pipes[NR_PIPES];
    struct terminal_kept { /* each terminal driver's session and foreground group (dmap.c) */
        char label[16];
        int sid, fgrp, tostop;
    } terminals[16];
    struct lock locks[NR_LOCKS];
    /* Every lock in use is below locks_end (lock.c) */
    int locks_end;
    struct mqueue mqueues[NR_MQUEUES];
    uint64_t mq_heap[MQ_HEAP / 8] __attribute__((aligned(16))); /* their messages (arena) */
};
extern struct tables *tab;
void keep_start(void);
int keep_adopt(struct vproc *p);
void keep_terminals(void);
struct vproc *keep_early(endpoint_t ep);
int keep_again(message_t *m);
void keep_log_words(const void *p, size_t len);

/*
 * The head of vfs's state region (keep.c): a header, then the undo log of the request in hand.
 * What each request does with them (a store or two) is inline here: they run on every call.
 */
#define UNDO_MAX 512        /* table stores of one request that can be undone */
#define UNDO_SEALED (~0ull) /* in undo.n: this request cannot be undone (an effect outside) */
struct keep_header {
    uint64_t magic;
    uint32_t version, len; /* the layout's, and sizeof(struct keep_state) */
    uint64_t live;         /* the set in use: 0 or 1; | 2: it took the other set over */
    uint64_t check;        /* FNV-1a of the fields above */
    uint64_t busy;         /* 1: a message is being handled, 2: the instance is starting */
};
/* The old values of the words the request in hand stored to in the live set, in order. */
struct keep_undo {
    uint64_t n;      /* records; UNDO_SEALED: an effect outside the tables, not undone */
    uint64_t caller; /* the Linux process whose call this request is (0: none, or answered) */
    struct {
        uint64_t addr, old;
    } e[UNDO_MAX];
};
#define KEEP_UNDO_OFFSET sizeof(struct keep_header)
#define KEEP_HEAD ((struct keep_header *)MANIFEST_STATE_VADDR)
#define KEEP_UNDO ((struct keep_undo *)(MANIFEST_STATE_VADDR + KEEP_UNDO_OFFSET))

/* 1 while a message is being handled (2 while starting): its stores are undone after a death
 * there. The value before. */
static inline int keep_busy(int busy)
{
    int was = (int)KEEP_HEAD->busy;
    *(volatile uint64_t *)&KEEP_HEAD->busy = (uint64_t)busy;
    return was;
}

/*
 * Before the request in hand stores to len bytes at p: each word of the live set they touch is
 * logged with its value (keep.c). The usual case, one word with room in the log, is done here:
 * the record first, then its count, by one 8-byte store.
 */
static inline void keep_log(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, w = a & ~(uintptr_t)7;
    uint64_t n = KEEP_UNDO->n;
    if ((a & 7) + len <= 8 && w - (uintptr_t)tab >= sizeof(*tab))
        return; /* outside the live set: not undone */
    if ((a & 7) + len <= 8 && n < UNDO_MAX) {
        KEEP_UNDO->e[n].addr = w;
        KEEP_UNDO->e[n].old = *(const uint64_t *)w;
        __asm__ volatile("" ::: "memory"); /* the record before its count */
        *(volatile uint64_t *)&KEEP_UNDO->n = n + 1;
    } else if (n != UNDO_SEALED) { /* sealed: nothing is undone, nothing to log */
        keep_log_words(p, len);
    }
}

/* The request in hand did something outside the tables (a file server's change, a driver's
 * write, inet's request): it cannot be undone, and a death before keep_commit starts fresh. */
static inline void keep_seal(void)
{
    *(volatile uint64_t *)&KEEP_UNDO->n = UNDO_SEALED;
}

/* The request's effects stand (its answer goes out): nothing to undo from here on. */
static inline void keep_commit(void)
{
    *(volatile uint64_t *)&KEEP_UNDO->n = 0;
    *(volatile uint64_t *)&KEEP_UNDO->caller = 0;
}

/* The request in hand is ep's Linux call (after keep_commit): undone whole, it may run again. */
static inline void keep_caller(endpoint_t ep)
{
    *(volatile uint64_t *)&KEEP_UNDO->caller = (uint64_t)ep;
}

/* The terminal ioctls vfs follows (Linux values) */
#define SIGTTIN 21 /* for a background job's terminal calls */
#define SIGTTOU 22
#define TCSETS 0x5402 /* and TCSETSW, TCSETSF after it */
#define TCSETSF 0x5404
#define TCXONC 0x540A
#define TCFLSH 0x540B
#define TIOCSCTTY 0x540E
#define TIOCGPGRP 0x540F
#define TIOCSPGRP 0x5410
#define TIOCNOTTY 0x5422

/* A character driver of the device map (dmap.c). */
struct driver {
    char label[16]; /* the service, as its manifest names it; "": rs (/dev/service) */
    int terminal;   /* its minor 0 is a terminal, which may signal its foreground */
    endpoint_t ep;  /* 0: not looked up yet, or gone */
    int used;       /* found once: found again when rs restarts it */
    int has_box;    /* it took the mailbox below (box_grant is its grant) */
    grant_id_t box_grant;
    uint64_t taken;          /* items taken from the box: the tail we write */
    struct cdev_mailbox box; /* its status items, written by the driver */
    int sid, fgrp;           /* terminal: its session and foreground group (0: none) */
    int tostop;              /* terminal: TOSTOP, as the last TCSETS* set it */
};

/* Refused messages, by kind (refuse.c); the names are /proc/refusals' */
enum refusal {
    REFUSE_NOTIFY,     /* a notification from neither the kernel, ds, nor a driver of ours */
    REFUSE_PM_REQUEST, /* VFS_PM_* from another than pm */
    REFUSE_LINUX_CALL, /* MSG_LINUX_CALL from a process pm did not make */
    REFUSE_MESSAGE,    /* any other message from anyone */
    REFUSE_SIGNAL,     /* a driver's signal for another than its terminal's foreground */
    REFUSE_STATUS,     /* a driver's status item that makes no sense */
    NR_REFUSALS
};
void vfs_refuse(enum refusal kind, endpoint_t who, const char *what);
int64_t refusals_text(char *buf, size_t size);

extern struct vnode *root_vnode;
extern uint8_t bounce[BOUNCE_SIZE];

/* main.c */
void reply(endpoint_t ep, int64_t result);
struct vproc *vproc_of(endpoint_t ep);
struct vproc *vproc_new(endpoint_t ep);
struct vproc *vproc_by_index(int i);
extern struct vproc *procfs_caller;
int64_t procfs_request(message_t *m);
/* procinfo.c: pm's part of /proc/PID/stat, status and maps */
struct pm_part {
    uint64_t nregions; /* of info.region[] that came */
    struct pm_procinfo info;
};
int64_t pm_part(int pid, const struct pm_part **out);
int procfs_pull(struct msg_vfs_pm_pull_reply *out);
void pm_wake(void);
struct vproc *procfs_answer(endpoint_t pm, const struct msg_vfs_pm_procinfo *q);
void procfs_forget(const struct vproc *reader);
void procfs_died(const struct vproc *p);
void procfs_reaped(int pid);
uint64_t terminal_of(int sid, int *fgrp);

/* user.c: user memory */
int copy_in(struct vproc *p, uint64_t uaddr, void *buf, uint64_t len);
int copy_out(struct vproc *p, uint64_t uaddr, const void *buf, uint64_t len);
int copy_path(struct vproc *p, uint64_t uaddr, char *path);
int64_t dir_path(struct vnode *dir, struct vnode *top, const char **path);
struct vnode *proc_root(const struct vproc *p);
int64_t exec_load(struct vproc *p, const message_t *m, struct msg_vfs_pm_exec_reply *out);

/* mapfile.c: files pm maps (VFS_PM_MAP_*) */
int64_t map_open(const message_t *m, struct msg_vfs_pm_map_open_reply *out);
int64_t map_io(const message_t *m);
int64_t map_close(const message_t *m);
const char *map_name(uint64_t dev, uint64_t ino);

/* What a server's LOOKUP, CREATE or SYMLINK reply says of the inode. */
struct fs_node {
    uint64_t ino, mode, rdev, uid, gid;
};

/* vnode.c, path.c */
struct vnode *vnode_get(endpoint_t fs, uint64_t ino, uint64_t mode, uint64_t rdev);
struct vnode *vnode_get_in(endpoint_t fs, int bind, uint64_t ino, uint64_t mode, uint64_t rdev);
struct vnode *vnode_lent(struct vnode *v, int bind);
void vnode_hold(struct vnode *v);
void vnode_hold_again(endpoint_t now);
void vnode_rebind(endpoint_t old, endpoint_t now);
int vnode_count(endpoint_t fs, int bind);
struct vnode *vnode_covered(struct vnode *v);
void vnode_mount_on(struct vnode *covered, struct vnode *root);
void vnode_put(struct vnode *v);
uint64_t vnode_put_later(struct vnode *v);
struct vnode *vnode_from_fs(endpoint_t fs, const struct fs_node *node);
struct vnode *vnode_from_fs_in(endpoint_t fs, int bind, const struct fs_node *node);
struct vnode *vnode_child(const struct vnode *dir, const struct fs_node *node);
int64_t fs_buffer_call(endpoint_t fs, message_t *m, uint64_t *grant, const void *buf, uint64_t len,
                       uint32_t access);
int64_t fs_io(struct vnode *v, int type, uint64_t offset, grant_id_t g, uint64_t len);
int64_t fs_read_into(struct vnode *v, uint64_t offset, void *buf, uint64_t len);
int64_t fs_readlink(struct vnode *v, char *buf, uint64_t len);
int64_t fs_getdents(struct vnode *dir, uint64_t *cookie, void *buf, uint64_t len);
int64_t fs_lookup(struct vnode *dir, const char *name, size_t len, struct fs_node *node);
int64_t fs_create(struct vnode *dir, const char *name, uint64_t mode, uint64_t rdev, uint32_t uid,
                  uint32_t gid, struct fs_node *node);
int64_t fs_symlink(struct vnode *dir, const char *both, size_t len, uint32_t uid, uint32_t gid,
                   struct fs_node *node);
int64_t fs_link(struct vnode *dir, const char *name, uint64_t ino);
int64_t fs_remove(int type, struct vnode *dir, const char *name);
int64_t fs_stat(struct vnode *v, struct fs_stat *st);
int64_t fs_rename(struct vnode *d1, const char *l1, struct vnode *d2, const char *l2);
void vnode_attrs_spread(const struct vnode *v);
void vnode_each_alias(struct vnode *v, void (*fn)(struct vnode *w, void *arg), void *arg);
int path_lookup(struct vproc *p, int dirfd, const char *path, int follow, struct vnode **out);

/* namecache.c: (directory, name) -> vnode, and names known not to exist */
int64_t namecache_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out);
int64_t namecache_walk(struct vnode *dir, const char *path, size_t len, int walk,
                       struct vnode **out);
void namecache_enter(struct vnode *dir, const char *name, struct vnode *v);
int namecache_known(struct vnode *dir, const char *name, size_t len);
uint64_t namecache_forget(struct vnode *dir, const char *name, size_t len, int removed_dir);
void namecache_forget_fs(endpoint_t fs);
int namecache_shrink(void);
int64_t namecache_text(char *buf, size_t size);
int path_parent(struct vproc *p, int dirfd, const char *path, struct vnode **dir, char *last);

/* fswait.c: requests to file-system servers, and calls that wait for a busy one */
int64_t fs_call(endpoint_t fs, message_t *m);
int64_t fs_putnode(endpoint_t fs, uint64_t ino);
int fswait_notified(endpoint_t ep);
int fswait_dead_met(void);
void fswait_puts_again(endpoint_t old, endpoint_t now, int kept);
void fswait_begin(struct vproc *p);
int64_t fswait_end(struct vproc *p, int64_t r);
void fswait_cancel(struct vproc *p);
void fswait_server_gone(endpoint_t old);
int fswait_server_back(endpoint_t old, endpoint_t now, int kept);
void fswait_appending(int on);
uint64_t fswait_deadline(const struct vproc *p);
void fswait_cached_lookup(endpoint_t fs, uint64_t dir, int64_t result);
int fswait_answer_replayed(void);
uint64_t fswait_sent(void);
void fswait_resume(void);

/* mount.c: the mount table (root=LABEL, mount=PATH:LABEL), sync and shutdown */
#define FS_TIMEOUT_MS 30000 /* the longest vfs waits for a file server's answer */
int mount_root(const char *args);
void mount_others(const char *args);
void mounts_check(void);
uint64_t mount_gone_ms(endpoint_t fs);
uint64_t mount_dev(endpoint_t fs);
int64_t mount_sync(endpoint_t fs, uint64_t ino);
int64_t mount_shutdown(void);
int64_t mounts_text(char *buf, size_t size);
int mount_may_serve(const char *label);
int mount_erofs(const struct vnode *v);

/* perm.c: permissions, as Linux checks them (fsuid 0 is root) */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4
int perm_check(const struct vproc *p, const struct vnode *v, int want);
int perm_owner(const struct vproc *p, const struct vnode *v);
int perm_follow(const struct vproc *p, const struct vnode *dir, const struct vnode *link);
int perm_may_create(struct vproc *p, struct vnode *dir, const char *name);
int perm_may_mknod(const struct vproc *p, uint64_t mode);
int perm_may_delete(struct vproc *p, struct vnode *dir, const char *name, struct vnode **victim);
int perm_may_rename(struct vproc *p, struct vnode *d1, const char *l1, struct vnode *d2,
                    const char *l2);
int perm_may_link(struct vproc *p, struct vnode *src);
int64_t vfs_create(struct vproc *p, struct vnode *dir, const char *name, uint64_t mode,
                   uint64_t rdev, struct vnode **out);
int64_t vfs_symlink(struct vproc *p, struct vnode *dir, const char *both, size_t len);
int64_t attr_chmod(struct vproc *p, struct vnode *v, uint64_t mode);
int64_t attr_chown(struct vproc *p, struct vnode *v, uint32_t uid, uint32_t gid);
int64_t attr_utimes(struct vproc *p, struct vnode *v, const uint64_t *times);
void attr_drop_setid(struct vproc *p, struct vnode *v);
int64_t perm_set_cred(endpoint_t pm, const message_t *m);

/* file.c */
struct file *file_new(struct vnode *v, uint32_t flags);
int file_writers(endpoint_t fs, int bind);
int table_entry_allowed(int free_entries, int reserve);
int table_take(int n, int (*is_free)(int i), int reserve);
void file_put(struct file *f);
void file_name_set(struct file *f, struct vproc *p, int dirfd, const char *path);
int fd_install(struct vproc *p, struct file *f, int min, int cloexec);
struct file *fd_file(struct vproc *p, int fd);
void fd_close(struct vproc *p, int fd);
int64_t file_rw(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len, uint64_t *pos,
                int write);
int rw_check(uint64_t pos, uint64_t count);

/* lock.c: fcntl record locks and flock */
int64_t lock_fcntl(struct vproc *p, struct file *f, uint64_t cmd, uint64_t arg);
void lock_close(struct vproc *p, struct file *f);
void lock_file_gone(struct file *f);
void lock_rebind(endpoint_t old, endpoint_t now);
void lock_take(const struct lock *from, struct file *f);

/* ring.c */
uint64_t ring_copy(struct ring *r, struct vproc *p, uint64_t at, uint64_t addr, uint64_t len,
                   int into_ring);
void ring_commit(struct ring *r, uint64_t n);
void ring_consume(struct ring *r, uint64_t n);
uint64_t ring_space(const struct ring *r);

/* pipe.c */
int pipe_create(struct vproc *p, int fds[2], uint32_t flags);
int64_t pipe_read(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len);
int64_t pipe_write(struct vproc *p, struct file *f, const uint64_t *iov, uint64_t count, int whole);
void pipe_release(struct file *f);
int64_t fifo_open(struct vproc *p, struct vnode *v, uint32_t flags);
void pipe_drop(struct vnode *v, uint32_t flags);
int pipe_ready(struct file *f, int ops);

/* mqueue.c: POSIX message queues */
int mq_ready(struct file *f, int ops);
int64_t mq_read(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len);
void mq_closed(struct vproc *p, struct file *f);
void mq_release(struct file *f);
void mq_take(const struct tables *old);
struct mqueue *mq_of_old(const struct tables *old, const struct mqueue *oq);

/* signalfd.c */
int64_t sigfd_read(struct vproc *p, struct file *f, uint64_t len);
int64_t sigfd_answer(const struct msg_vfs_pm_siginfo *in);

/* file.c: vfs's memory devices */
int mem_device(const struct vnode *v);
int mem_known(const struct vnode *v);

/* socket.c, socket_unix.c, calls_socket.c: sockets (socket.h) */
int64_t sock_read(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len);
int64_t sock_write(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len);
int64_t sock_vector(struct vproc *p, struct file *f, const uint64_t *iov, uint64_t count,
                    int write);
int64_t sock_ioctl(struct vproc *p, struct file *f, uint64_t req, uint64_t arg);
int sock_ready(struct file *f, int ops);
int sock_hangup(struct file *f);
void sock_release(struct file *f);

/* dev.c: requests to drivers */
int dev_open(struct vproc *p, struct vnode *v, uint32_t flags);
void dev_close(struct vnode *v);
int64_t dev_rw(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len, int write);
int64_t dev_ioctl(struct vproc *p, struct file *f, uint64_t req, uint64_t arg);
int dev_ready(struct vproc *p, struct file *f, int ops, int watch);
int64_t dev_cancel(struct vproc *p);
int64_t dev_finish(struct vproc *p, int64_t result);
int dev_done(endpoint_t driver, uint64_t id, int64_t result);
uint64_t dev_new_id(void);

/* dmap.c: the device map, status mailboxes, terminals */
void dmap_init(void);
int64_t dmap_text(char *buf, size_t size);
const struct manifest_node *dmap_node(int i);
struct driver *driver_for(uint64_t rdev);
struct driver *driver_of(endpoint_t ep);
endpoint_t driver_endpoint(struct driver *d);
endpoint_t driver_restarted(endpoint_t old);
void zombie_add(const struct vproc *p);
void zombie_release(int pid);
#define DRIVER_TIMEOUT_MS 5000 /* a driver answers at once; after this it is broken */
int driver_sendrec(endpoint_t ep, message_t *m);
void drivers_changed(void);
void driver_status(struct driver *d);
int driver_take_done(endpoint_t ep, uint64_t id, int64_t *result);
int terminal_check(struct vproc *p, struct driver *d, uint64_t req, int64_t value);
int64_t terminal_job_check(struct vproc *p, struct driver *d, int sig);
void terminal_update(struct vproc *p, struct driver *d, uint64_t req, int64_t value);
void terminal_session_ended(int sid);
void terminals_save(void);
void terminals_take(const struct terminal_kept *old);

/* wait.c: suspended calls */
#define SUSPEND (-0x7fff0000ll) /* a handler's result: no reply now */
void suspend(struct vproc *p, enum wait_kind kind);
void rerun(struct vproc *p);
void wakeup_pipes(void);
void wakeup_polls(void);
void wakeups_run(void);
int cancel_call(struct vproc *p);
void timers_check(void);
void timers_arm(void);

/* syscalls in calls_*.c, one table in table.c */
typedef int64_t (*vfs_call_t)(struct vproc *p, const uint64_t *a);
int64_t vfs_dispatch(struct vproc *p, uint64_t nr, const uint64_t *a);
int64_t sendfile_finish(struct vproc *p, int64_t result);
int signal_queue(int kind, int target, int64_t sig);
int signal_queue_info(int kind, int target, int64_t sig, int pid, int uid);
int signal_unqueue(int kind, int target);
void poll_mask_done(struct vproc *p, int cancelled);

/* socket_inet.c: inet's notification (1 if it was one), and its death noticed */
int inet_notified(endpoint_t from);
void inet_check(void);

#endif
