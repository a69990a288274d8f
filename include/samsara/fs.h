/*
 * The vfs protocols: vfs to file-system servers (FS_*), vfs to character
 * drivers (CDEV_*), and pm to vfs (VFS_PM_*). Every request is a sendrec
 * from the caller; the server answers at once with sendnb (the caller is
 * waiting), so nothing here can deadlock: servers never call vfs or pm.
 * Bulk data moves through grants the requester made (lib/sys/grant.c).
 *
 * Replies: type = FS_REPLY (or CDEV_REPLY, VFS_PM_REPLY), reply.result
 * (samsara/msg/reply.h): 0 or a byte count, or a negative Linux errno
 * (samsara/linux.h). Every body is typed: one struct per request and reply
 * in samsara/msg/fs.h, msg/cdev.h and msg/vfs_pm.h (the words below name
 * their fields in order).
 * The three protocols' types are the FS, CDEV and VFS_PM ranges of
 * samsara/msgtypes.h.
 */
#ifndef SAMSARA_FS_H
#define SAMSARA_FS_H

#include <stdint.h>
#include <samsara/msgtypes.h>

/*
 * ---- vfs -> file-system server. ino = inode number; the root is what FS_MOUNT
 * answers (ramfs: FS_ROOT_INO, lib/fsdriver's default; ext2: 2).
 * The bodies are the structs of samsara/msg/fs.h (m.u.fs.NAME); the reply
 * is FS_REPLY with m.u.fs.reply.result, and for the requests marked "->
 * node" m.u.fs.node (the inode, with one reference the requester gives back
 * with FS_PUTNODE). Only the server's one client (vfs) may send these.
 */
#define FS_ROOT_INO 1
#define FS_NAME_MAX 255

enum fs_request {
    FS_LOOKUP = FS_RQ_BASE, /* lookup: dir, name -> node */
    FS_STAT,                /* stat: ino, grant(struct fs_stat, write) */
    FS_READ,                /* read: ino, offset, grant(write), len -> bytes */
    FS_WRITE,               /* write: ino, offset, grant(read), len -> bytes */
    FS_TRUNC,               /* trunc: ino, size */
    FS_CREATE,              /* create: dir, name, mode (file, dir, fifo, char device), */
                            /*   rdev, owner (FS_OWNER(uid, gid)) -> node */
    FS_SYMLINK,             /* symlink: dir, grant(name NUL target), len, uid, gid -> node */
    FS_LINK,                /* link: dir, name, ino */
    FS_UNLINK,              /* unlink: dir, name (not directories) */
    FS_RMDIR,               /* rmdir: dir, name (empty directories) */
    FS_RENAME,              /* rename: old_dir, new_dir, grant(old NUL new), len */
    FS_GETDENTS,            /* getdents: ino, cookie, grant(write), len */
                            /*   -> bytes of linux_dirent64 records; dents.cookie: the next */
    FS_READLINK,            /* readlink: ino, grant(write), len -> bytes */
    FS_CHMOD,               /* chmod: ino, mode (permission bits) */
    FS_PUTNODE,             /* putnode: ino: the requester holds one reference less */
    FS_STATFS,              /* statfs: grant(struct fs_statfs, write) */
    FS_CHOWN,               /* chown: ino, uid, gid, mode (permission bits: */
                            /*   vfs clears the set-id bits as Linux does) */
    FS_UTIME,               /* utime: ino, atime, mtime (seconds, or FS_TIME_*) */
    FS_MOUNT,               /* mount: -> node (the root, one reference); the server serves */
                            /*   again after an FS_UNMOUNT. result 1 (not 0): this instance */
                            /*   carries on its previous one's state, the request in flight */
                            /*   rolled back (docs/FILESYSTEMS.md, "Replay") */
    FS_SYNC,                /* sync: ino (0: the whole file system): what the server holds */
                            /*   in memory of it goes to its disk, then the disk flushes */
    FS_UNMOUNT,             /* unmount: write everything out; every later request but */
                            /*   FS_MOUNT answers EIO */
    FS_RESULT,              /* result: the whole reply of the request the server answered */
                            /*   FS_SUSPENDED and has finished since (it notified vfs); */
                            /*   -EAGAIN if none is finished */
    FS_WALK,                /* walk: dir, grant(path, then records; read and write), len, */
                            /*   max -> records found (struct fs_walk_record each, one */
                            /*   reference each); walk.error: why the walk stopped */
    FS_HOLD,                /* hold (msg putnode): ino: the requester holds one reference */
                            /*   more, to an inode it held from a dead instance whose state */
                            /*   this one kept (FS_MOUNT's 1); ENOSYS: not counted */
    FS_LAST,                /* last (msg last): seq, type: the reply of that request if it */
                            /*   was the last the server committed (its record), else */
                            /*   FS_NOT_LAST; ENOSYS: the server keeps no record */
    FS_RQ_END,              /* (not a request: one past the last) */
};
#define FS_TIME_NOW (~0ull)      /* FS_UTIME: the server's current time */
#define FS_TIME_OMIT (~0ull - 1) /* FS_UTIME: leave this time as it is */
#define FS_REPLY (FS_RQ_BASE + 0xff)
/*
 * In an FS_REPLY's result: the server must wait for its device (lib/bdev),
 * so it answers now and finishes the request later; then it notifies vfs,
 * which takes the whole reply with FS_RESULT (docs/FILESYSTEMS.md, "When a
 * file server waits for its driver"). Never a count: reads and writes move
 * at most 0x7ffff000 bytes.
 */
#define FS_SUSPENDED 0x7fffffffll
/* In FS_LAST's reply: the request named was not the last one committed (it did not run, or was
 * rolled back, or others were committed after it). */
#define FS_NOT_LAST 0x7ffffffell
_Static_assert(FS_RQ_END <= FS_REPLY && IS_FS_RQ(FS_REPLY), "fs types stay in the FS range");

/*
 * FS_WALK: the server looks the path's components up one after another from dir, as far as it
 * can go within its own file system, and writes one record per component found into the grant at
 * FS_WALK_RECORDS(len) (all of them at once, after the last lookup). It stops after a component
 * that is not a directory (a file, a symbolic link: vfs follows links), before "." and "..",
 * before a name longer than FS_NAME_MAX, at the path's end, after max records, and at a lookup
 * that fails (its error in the reply's `error`; 0 when a rule above stopped it). Components are
 * separated by one or more '/'. vfs checks search permission, crosses mount points and follows
 * symbolic links itself, on the records, in order.
 */
#define FS_WALK_MAX 16        /* records in one walk, at most */
#define FS_WALK_PATH_MAX 4096 /* bytes of path in one walk, at most (ENAMETOOLONG) */
#define FS_WALK_RECORDS(len) (((len) + 7) & ~7ull) /* where the records start in the grant */
struct fs_walk_record {
    uint64_t ino, mode, rdev, size, uid, gid;
};

struct fs_stat {
    uint64_t ino, mode, nlink, uid, gid, size, rdev;
    uint64_t atime, mtime, ctime; /* seconds */
    uint64_t blocks;              /* 512-byte units the file holds (st_blocks) */
    uint64_t version; /* changes with every change of the data, never repeats while the server */
                      /* runs (ino reused too); 0 if the server keeps none (vfs's exec_load) */
};

/* statfs(2)'s numbers as Linux's file system of that type gives them: blocks counts what holds
 * data (ext2: the metadata left out, as Linux's default bsddf); bavail, what a user who is not
 * root may still take (bfree less the blocks reserved for root). */
struct fs_statfs {
    uint64_t type, bsize, blocks, bfree, files, ffree, namelen, bavail;
};

/* Mode bits (the Linux/POSIX values) */
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define S_IFIFO 0010000
#define S_ISUID 0004000
#define S_ISGID 0002000
#define S_ISVTX 0001000 /* sticky: in a directory, only owners may remove names */

/*
 * Device numbers: rdev = major << 8 | minor. A driver's manifest names the
 * majors it serves (`dev char 4,5`, docs/MANIFESTS.md); vfs maps each to
 * the driver's label (servers/vfs/dmap.c) and the driver answers for its
 * minors. Two character majors are vfs's own, and no manifest may claim
 * them: DEV_MEM_MAJOR (null, zero, full: served inside vfs) and DEV_MISC_MAJOR
 * (DEV_SERVICE_MINOR: /dev/service, rs's administrator interface).
 */
#define DEV_MAJOR_MAX 255
#define DEV_MAKE(major, minor) ((uint64_t)(major) << 8 | (minor))
#define DEV_MAJOR(rdev) ((rdev) >> 8)
#define DEV_MINOR(rdev) ((rdev)&0xff)
#define DEV_MEM_MAJOR 1
#define DEV_MEM_NULL 3
#define DEV_MEM_ZERO 5
#define DEV_MEM_FULL 7
#define DEV_MISC_MAJOR 10
#define DEV_SERVICE_MINOR 240
#define DEV_IS_VFS_OWN(major) ((major) == DEV_MEM_MAJOR || (major) == DEV_MISC_MAJOR)

/* ---- vfs -> character driver. minor = device number within the driver. */
enum cdev_request {
    CDEV_OPEN = CDEV_RQ_BASE, /* w0 minor, w1 open flags -> 0 or errno */
    CDEV_CLOSE,               /* w0 minor */
    CDEV_READ,                /* w0 minor, w1 id, w2 grant(write), w3 len, w4 flags -> bytes */
                              /*   or CDEV_SUSPENDED: the result comes later as a status */
    CDEV_WRITE,               /* w0 minor, w1 id, w2 grant(read), w3 len, w4 flags */
    CDEV_IOCTL,               /* w0 minor, w1 id, w2 request, w3 grant(read+write), */
                              /*   w4 arg size, w5 caller's process group, w6 the raw */
                              /*   argument (for ioctls that take a value, e.g. TCFLSH) */
    CDEV_CANCEL,              /* w0 minor, w1 id: -> the request's final result */
                              /*   (-EINTR if nothing was transferred); no status follows */
    CDEV_SELECT,              /* w0 minor, w1 ops wanted, w2 1 = tell me when ready */
                              /*   -> ops ready now; later a CDEV_ST_SELECT status */
    CDEV_STATUS,              /* -> w0 kind (CDEV_ST_*), w1.. fields, one item per call */
    CDEV_MAILBOX,             /* w0 grant(read+write) of a struct cdev_mailbox, w1 its size */
                              /*   (0: none): the requester's status items go there now */
    CDEV_RQ_END,              /* (not a request: one past the last) */
};
#define CDEV_REPLY (CDEV_RQ_BASE + 0xff)
_Static_assert(CDEV_RQ_END <= CDEV_REPLY && IS_CDEV_RQ(CDEV_REPLY),
               "cdev types stay in the CDEV range");
#define CDEV_SUSPENDED 0x7fffffff /* in w0 of a reply: answer comes later */
#define CDEV_NONBLOCK 1           /* flags: O_NONBLOCK semantics */
#define SEL_RD 1
#define SEL_WR 2
#define SEL_ERR 4

enum cdev_status {
    CDEV_ST_NONE = 0,
    CDEV_ST_DONE,   /* w1 id, w2 result */
    CDEV_ST_SELECT, /* w1 minor, w2 ops now ready */
    CDEV_ST_SIGNAL, /* w1 process group, w2 signal (e.g. ^C -> SIGINT) */
};
/*
 * A driver with status to give notifies its requester. A requester that lent
 * it a mailbox (CDEV_MAILBOX; vfs does) finds the items there; another asks
 * CDEV_STATUS until NONE.
 *
 * The mailbox lives in the requester's memory and the driver writes it with
 * safecopy, so neither side ever waits for the other: the driver writes an
 * item at head % CDEV_MAILBOX_ITEMS, then moves head; the requester takes items
 * from tail and moves tail, and notifies the driver when it has emptied a
 * full box (the driver keeps what does not fit, and writes it then). Each
 * side trusts only its own counter: the other's is read, checked and bounded.
 */
#define CDEV_MAILBOX_ITEMS 64
struct cdev_status_item {
    uint64_t kind, w1, w2; /* as a CDEV_STATUS reply's w0, w1, w2 */
};
struct cdev_mailbox {
    uint64_t head; /* items ever written: the driver's */
    uint64_t tail; /* items ever taken: the requester's */
    struct cdev_status_item item[CDEV_MAILBOX_ITEMS];
};

/* ---- pm -> vfs */
#define VFS_NR_FDS 64 /* descriptors per process: RLIMIT_NOFILE's most (pm) */
enum vfs_pm_request {
    VFS_PM_FORK = VFS_PM_RQ_BASE, /* w0 parent ep, w1 child ep, w2 child pid */
    VFS_PM_EXIT,                  /* w0 ep: close everything */
    VFS_PM_EXEC,                  /* ep, grant(write) for the file, path_grant(read) and */
                                  /*   path_len, len -> file size; path resolved as ep sees it; */
                                  /*   the buffer is not written if it holds that file's data */
                                  /*   already (have_*: fs, ino and data version of it) */
    VFS_PM_EXEC_DONE,             /* w0 ep, w1 grant(read) of the command line (argv */
                                  /*   NUL-separated), w2 its length, w3 ppid, name: after */
                                  /*   a successful exec: close-on-exec, and for /proc */
    VFS_PM_CANCEL,                /* w0 ep: fail its blocked call with -EINTR -> 1 if one was */
    VFS_PM_PULL,                  /* -> w0 kind (VFS_SIG_*), w1 target, w2 signal */
    VFS_PM_SETPGRP,               /* w0 ep, w1 process group, w2 session (for ^C) */
    VFS_PM_SETCRED,               /* w0 ep, w1 grant(read) of its struct cred: after */
                                  /*   any change of its ids (set*id, setgroups, exec) */
    VFS_PM_RELEASE,               /* w0 pid: a zombie was reaped; its group no longer */
                                  /*   counts for TIOCSPGRP */
    VFS_PM_SHUTDOWN,              /* (reboot(2)) every file server syncs and is unmounted, */
                                  /*   the root last -> 0 or the first error */
    VFS_PM_SETLIMIT,              /* ep, fd_limit: its RLIMIT_NOFILE soft limit (0..64) */
    VFS_PM_SETNAME,               /* ep, name[16]: prctl(PR_SET_NAME), for /proc */
    VFS_PM_MAP_OPEN,              /* ep, fd, need_write: the file behind a descriptor for */
                                  /*   mmap -> kind, handle (vfs holds the file), size, ids */
    VFS_PM_MAP_IO,                /* handle, write, offset, grant, len: read a mapped file */
                                  /*   into pm's memory, or write it back (within its size) */
    VFS_PM_MAP_CLOSE,             /* handle: pm maps the file no more */
    VFS_PM_SIGINFO,               /* ep, signo (0: none pending), its siginfo: the answer to */
                                  /*   VFS_SIG_TAKE/TRY -> 0, or -errno: nobody took it */
    VFS_PM_PROCINFO,              /* reader ep, pid, grant(read) of a struct pm_procinfo: */
                                  /*   the answer to a VFS_SIG_PROCINFO pulled, for /proc */
    VFS_PM_TTY,                   /* ep, result: its call that waits for pm's job-control */
                                  /*   decision (VFS_SIG_TTY) fails with result < 0, or */
                                  /*   goes on (0) -> 1 if one waited */
    VFS_PM_TAKEOVER,              /* old, ep: thread ep execs: it becomes its process (whose */
                                  /*   main thread old is dead), holding its descriptor table */
    VFS_PM_ORPHAN,                /* index: a new pm instance (pm was restarted): the next */
                                  /*   process vfs knows at or after index is forgotten ->*/
                                  /*   its endpoint (pm kills it) and the next index, 0: none */
    VFS_PM_RQ_END,                /* (not a request: one past the last) */
};
#define VFS_PM_REPLY (VFS_PM_RQ_BASE + 0xff)
_Static_assert(VFS_PM_RQ_END <= VFS_PM_REPLY && IS_VFS_PM_RQ(VFS_PM_REPLY),
               "vfs-pm types stay in the VFS_PM range");
#define VFS_SIG_NONE 0
#define VFS_SIG_PROC 1     /* w1 = endpoint (e.g. SIGPIPE) */
#define VFS_SIG_PGRP 2     /* w1 = process group (e.g. SIGINT from the terminal) */
#define VFS_SIG_MESGQ 3    /* w1 = endpoint: mq_notify's signal, SI_MESGQ from pid, uid */
#define VFS_SIG_TAKE 4     /* w1 = endpoint, w2 = mask: a signalfd read; pm answers with */
                           /*   VFS_PM_SIGINFO now, and again when one of mask comes */
#define VFS_SIG_TRY 5      /* the same, non-blocking: VFS_PM_SIGINFO now only */
#define VFS_SIG_PROCINFO 6 /* not a signal: w1 = pid whose pm_procinfo a reader of /proc */
                           /*   (w2 = its endpoint) waits for: pm answers VFS_PM_PROCINFO */
#define VFS_SIG_TTY 7      /* w1 = endpoint of a background process whose terminal call waits: */
                           /* w2 (SIGTTIN, SIGTTOU) for its group, or VFS_PM_TTY */
#define VFS_SIG_MASK 8   /* w1 = endpoint waiting in ppoll or pselect6: w2 its mask, for the wait */
#define VFS_SIG_UNMASK 9 /* w1 = endpoint whose masked wait ended: its own mask again */
#define VFS_SIG_CHROOT 10 /* not a signal: w1 = endpoint whose process chrooted: a restarted */
                          /* vfs would not know its root, so pm kills it then (vfsnew.c) */

/*
 * A Linux process's credentials, kept by pm and copied to vfs: real,
 * effective, saved and file-system user and group ids, and the
 * supplementary groups (at most CRED_NGROUPS, musl's NGROUPS_MAX).
 * vfs checks file access with fsuid, fsgid and groups (real ids for
 * access(2)); fsuid 0 is root there.
 */
#define CRED_NGROUPS 32
struct cred {
    uint32_t ruid, euid, suid, fsuid;
    uint32_t rgid, egid, sgid, fsgid;
    uint32_t ngroups;
    uint32_t groups[CRED_NGROUPS];
};

/* Is gid c's file-system group or one of its supplementary groups (Linux's in_group_p)? */
static inline int cred_in_group(const struct cred *c, uint32_t gid)
{
    if (c->fsgid == gid)
        return 1;
    for (uint32_t i = 0; i < c->ngroups && i < CRED_NGROUPS; i++)
        if (c->groups[i] == gid)
            return 1;
    return 0;
}

#endif
