/*
 * lib/fsdriver: the loop every file-system server shares (ramfs now, ext2
 * to come). The server gives a table of callbacks and calls fsdriver_task,
 * which never returns: it receives through service_receive (heartbeats and
 * save requests are answered there), refuses every sender but the one
 * client (EPERM, counted and logged), decodes each FS_* request of
 * samsara/fs.h from its typed body (samsara/msg/fs.h), calls the callback,
 * and answers with one FS_REPLY through sendnb (or FS_SUSPENDED first, when
 * the server must wait for its device: fsdriver_suspend below).
 *
 * What the library checks before a callback runs, so that no server need
 * repeat it: grant ids fit a grant_id_t (EFAULT); names are 1..FS_NAME_MAX
 * bytes without '/' or NUL, copied in through their grant (EINVAL,
 * ENAMETOOLONG, EFAULT); "a NUL b" pairs likewise, b at most
 * symlink_max bytes for SYMLINK and FS_NAME_MAX for RENAME; owners and
 * modes fit 32 bits (EINVAL). STAT and STATFS results are copied out by
 * the library. FS_WALK (several components in one request) is the library's, made of the
 * server's lookup callback. What the server checks: its inode numbers (EINVAL for none
 * such), kinds, and the rest of the semantics. A missing callback answers
 * ENOSYS, as an unknown type does, except for the mounting requests (FS_MOUNT,
 * FS_SYNC, FS_UNMOUNT), which have defaults (struct fsdriver below). A server with a state
 * region gives `last` and `commit` (below) and the library keeps the record of the last request
 * committed (exact replay: FS_LAST, a request with the record's sequence number answered from it).
 *
 * Callbacks return 0 or a byte count, or a negative Linux errno (LX_*).
 */
#ifndef FSDRIVER_H
#define FSDRIVER_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include "sys.h"

#define FSDRIVER_SYMLINK_MAX 4095 /* the longest target any server may take */

/* What a LOOKUP, CREATE or SYMLINK reply says of the inode it hands over. */
struct fsdriver_node {
    uint64_t ino, mode, rdev, size, uid, gid;
};

/* A requester's buffer: bytes move with fsdriver_copyin / fsdriver_copyout. */
struct fsdriver_data {
    endpoint_t ep;
    grant_id_t grant;
};

/* The record of the last request committed that carried a sequence number (its tag.seq): what
 * makes vfs's replay exact (docs/FILESYSTEMS.md, "Replay"). In the server's state region. */
struct fsdriver_last {
    uint64_t seq, type;
    uint64_t reply[7]; /* the reply's body (message_t's u.w) */
};

struct fsdriver {
    const char *label;    /* for log lines */
    uint64_t symlink_max; /* the longest symlink target (<= FSDRIVER_SYMLINK_MAX) */
    /* Name operations; names and targets are checked and NUL-terminated. The three that
     * hand over an inode count one reference on it, given back by putnode. */
    int (*lookup)(uint64_t dir, const char *name, uint64_t len, struct fsdriver_node *node);
    int (*create)(uint64_t dir, const char *name, uint64_t len, uint32_t mode, uint64_t rdev,
                  uint32_t uid, uint32_t gid, struct fsdriver_node *node);
    int (*symlink)(uint64_t dir, const char *name, uint64_t len, const char *target, uint64_t tlen,
                   uint32_t uid, uint32_t gid, struct fsdriver_node *node);
    int (*link)(uint64_t dir, const char *name, uint64_t len, uint64_t ino);
    int (*unlink)(uint64_t dir, const char *name, uint64_t len);
    int (*rmdir)(uint64_t dir, const char *name, uint64_t len);
    int (*rename)(uint64_t old_dir, const char *old_name, uint64_t old_len, uint64_t new_dir,
                  const char *new_name, uint64_t new_len);
    /* Data: at most len bytes between the file and the requester's buffer d. */
    int64_t (*read)(uint64_t ino, uint64_t offset, const struct fsdriver_data *d, uint64_t len);
    int64_t (*write)(uint64_t ino, uint64_t offset, const struct fsdriver_data *d, uint64_t len);
    int (*trunc)(uint64_t ino, uint64_t size);
    int64_t (*getdents)(uint64_t dir, uint64_t *cookie, const struct fsdriver_data *d,
                        uint64_t len);
    int64_t (*readlink)(uint64_t ino, const struct fsdriver_data *d, uint64_t len);
    /* Inodes */
    int (*stat)(uint64_t ino, struct fs_stat *st);
    int (*statfs)(struct fs_statfs *sf);
    int (*chmod)(uint64_t ino, uint32_t mode);
    int (*chown)(uint64_t ino, uint32_t uid, uint32_t gid, uint32_t mode);
    int (*utime)(uint64_t ino, uint64_t atime, uint64_t mtime);
    int (*putnode)(uint64_t ino);
    /* Mounting (all three optional). mount: the root, one reference counted (default: the
     * inode FS_ROOT_INO, as stat says it is). sync: write ino's dirty data out, or everything
     * for ino 0 (default: nothing to write). unmount: write everything out before the server
     * stops serving (default: sync(0)). After FS_UNMOUNT the library answers every request
     * but FS_MOUNT with EIO, and logs "LABEL: unmounted (N syncs)". */
    int (*mount)(struct fsdriver_node *root);
    int (*sync)(uint64_t ino);
    int (*unmount)(void);
    /* Optional: a message another part of the server received (e.g. lib/bdev while it waited
     * for its driver) to serve before receiving again: 1 and the message, or 0. */
    int (*pending)(message_t *m);
    /* Optional: the kernel's alarm (sys_alarm) went off. */
    void (*alarm)(void);
    /* Optional: called after each request was answered. */
    void (*after)(void);
    /* Optional: 1 when this instance carries on its previous instance's state (a state region)
     * with the request that was in flight when it died rolled back, so that vfs may send every
     * request again (FS_MOUNT's result 1 says it: docs/FILESYSTEMS.md, "Replay"); 0 or absent: a
     * fresh start, and vfs sends again only the requests that may run twice. */
    int (*kept)(void);
    /* Optional (with `kept`): FS_HOLD, one reference to ino that the client held from the dead
     * instance (vfs sends one per inode it holds when the new instance kept the state). */
    int (*hold)(uint64_t ino);
    /* Optional (with `kept`): exact replay. last: the record of the last request with a
     * sequence number that was committed (0: none yet). commit: called after every request,
     * before its answer can leave: ends the request's transaction, storing *rec (when rec is not
     * 0) as the new record in the same commit, so that the record and the request's changes are
     * kept or undone together. A request whose sequence number is the record's is answered the
     * recorded reply and not run again; FS_LAST asks for the record. */
    const struct fsdriver_last *(*last)(void);
    void (*commit)(const struct fsdriver_last *rec);
};

/* The entries of a file server that names its handlers fs_OPERATION (ramfs and ext2 do): its
 * table is FSDRIVER_FS_OPS plus what it has beyond them (label, mount, sync, hooks). */
#define FSDRIVER_FS_OPS                                                                            \
    .lookup = fs_lookup, .create = fs_create, .symlink = fs_symlink, .link = fs_link,              \
    .unlink = fs_unlink, .rmdir = fs_rmdir, .rename = fs_rename, .read = fs_read,                  \
    .write = fs_write, .trunc = fs_trunc, .getdents = fs_getdents, .readlink = fs_readlink,        \
    .stat = fs_stat, .statfs = fs_statfs, .chmod = fs_chmod, .chown = fs_chown, .utime = fs_utime, \
    .putnode = fs_putnode

/* Serve FS_* requests from the service labelled client (found with root_lookup), forever. */
_Noreturn void fsdriver_task(const struct fsdriver *fs, const char *client);

/*
 * The server must wait for its device (lib/bdev calls it through bdev_wait_hook: m = 0 as it
 * starts to wait, else a message that came meanwhile): the client's request in hand, or m,
 * is answered FS_SUSPENDED now, and its reply is kept when it has been served; the client,
 * notified, takes it with FS_RESULT (samsara/fs.h). A server that calls it names its client
 * in its manifest's `ipc` (the notification). The client's FS_RESULT for a reply finished
 * before the wait is answered at once too (1: m was served; 0 otherwise).
 */
int fsdriver_suspend(const message_t *m);

/*
 * The test hook of exact replay, for a server booted with its test word (ext2 `crashtest`, ramfs
 * `crash-hook`): on, a lookup of a name starting with FSDRIVER_DIE_AFTER_COMMIT arms it, and the
 * next request with a sequence number dies right after its commit, before its answer leaves
 * (the request is done and vfs does not know it).
 */
#define FSDRIVER_DIE_AFTER_COMMIT ".die-after-commit"
void fsdriver_test_hook(int on);

/* Seconds since 1970 for file times: the kernel's boot time (pm sets it from the RTC at its
 * start, KC_BOOTTIME) plus the seconds since boot; seconds since boot before pm has set it. */
uint64_t fsdriver_now(void);

/* A name: 1..FS_NAME_MAX bytes, none of them '/' or NUL (0, -LX_EINVAL, -LX_ENAMETOOLONG). */
int fsdriver_name_ok(const char *name, uint64_t len);

/* Copies through a requester's buffer, at offset off in it: 0 or -LX_EFAULT. */
int fsdriver_copyin(const struct fsdriver_data *d, uint64_t off, void *buf, uint64_t len);
int fsdriver_copyout(const struct fsdriver_data *d, uint64_t off, const void *buf, uint64_t len);

#endif
