/*
 * Message bodies of the FS protocol: vfs -> file-system servers (samsara/fs.h
 * lists the types). One struct per request and per reply that carries more
 * than a result; each is a member of union msg_fs, reached as m.u.fs.NAME.
 *
 * Every field is 64 bits wide, so a value that does not fit what it names
 * (a grant id above INT32_MAX, an owner above 32 bits) reaches the server
 * whole and is refused there, instead of being cut to something valid.
 * `ino` and `dir` are inode numbers; `*grant` fields are grant ids
 * (grant_id_t) of grants the requester made to the server; `name_len`
 * and `len` are byte counts within those grants.
 */
#ifndef SAMSARA_MSG_FS_H
#define SAMSARA_MSG_FS_H

#include <stddef.h>
#include <stdint.h>
#include <samsara/msg/reply.h>

/* FS_LOOKUP: the entry `name` of dir (1..FS_NAME_MAX bytes, no NUL) */
struct msg_fs_name {
    uint64_t dir, name_grant, name_len;
};

/* FS_UNLINK, FS_RMDIR: the entry `name` of dir goes; then, if put is not 0, the requester gives
 * back one reference to inode put (as FS_PUTNODE would; whatever the removal's result) */
struct msg_fs_remove {
    uint64_t dir, name_grant, name_len, put;
};

/* FS_CREATE: a file, directory, fifo or character device (mode says which) owned by uid:gid,
 * both in `owner` (FS_OWNER: uid in the low 32 bits, gid in the high: the seventh word is the
 * request's sequence number) */
struct msg_fs_create {
    uint64_t dir, name_grant, name_len, mode, rdev, owner;
};
#define FS_OWNER(uid, gid) ((uint64_t)(uint32_t)(uid) | (uint64_t)(uint32_t)(gid) << 32)

/* FS_SYMLINK: the grant holds "name NUL target" (len bytes in all) */
struct msg_fs_symlink {
    uint64_t dir, grant, len, uid, gid;
};

/* FS_LINK: a new name in dir for inode ino */
struct msg_fs_link {
    uint64_t dir, name_grant, name_len, ino;
};

/* FS_RENAME: the grant holds "old NUL new" (len bytes in all) */
struct msg_fs_rename {
    uint64_t old_dir, new_dir, grant, len;
};

/* FS_READ (grant: write access), FS_WRITE (read access): len bytes at offset */
struct msg_fs_io {
    uint64_t ino, offset, grant, len;
};

/* FS_TRUNC */
struct msg_fs_trunc {
    uint64_t ino, size;
};

/* FS_STAT: a struct fs_stat into the grant */
struct msg_fs_stat {
    uint64_t ino, grant;
};

/* FS_STATFS: a struct fs_statfs into the grant */
struct msg_fs_statfs {
    uint64_t grant;
};

/* FS_GETDENTS: linux_dirent64 records from cookie on, at most len bytes into the grant */
struct msg_fs_getdents {
    uint64_t ino, cookie, grant, len;
};

/* FS_READLINK: at most len bytes of the target into the grant */
struct msg_fs_readlink {
    uint64_t ino, grant, len;
};

/* FS_CHMOD: the permission bits (07777) */
struct msg_fs_chmod {
    uint64_t ino, mode;
};

/* FS_CHOWN: the new owner, and the permission bits vfs computed (set-id cleared) */
struct msg_fs_chown {
    uint64_t ino, uid, gid, mode;
};

/* FS_UTIME: seconds, or FS_TIME_NOW / FS_TIME_OMIT */
struct msg_fs_utime {
    uint64_t ino, atime, mtime;
};

/* FS_PUTNODE: the requester gives back one reference to ino */
struct msg_fs_putnode {
    uint64_t ino;
};

/* FS_WALK: len bytes of path at the grant's start; at most max records after it */
struct msg_fs_walk {
    uint64_t dir, grant, len, max;
};

/* FS_SYNC: the file ino (fsync), or 0 for the whole file system (a server may write it all) */
struct msg_fs_sync {
    uint64_t ino;
};

/*
 * Every request's seventh (last) word: its sequence number on vfs's channel to the server (each
 * request body is at most six words), 0 for none. A server that keeps a "last committed request"
 * record (lib/fsdriver: fsdriver_last) stores it, with the reply, in the same commit as the
 * request's changes; FS_LAST asks for it (docs/FILESYSTEMS.md, "Replay").
 */
struct msg_fs_tag {
    uint64_t body[6], seq;
};

/* FS_LAST: was request seq (of type `type`) the last one the server committed? */
struct msg_fs_last {
    uint64_t seq, type;
};

/* Reply to FS_LOOKUP, FS_CREATE, FS_SYMLINK, FS_MOUNT: the inode, with one reference counted */
struct msg_fs_node_reply {
    int64_t result;
    uint64_t ino, mode, rdev, size, uid, gid;
};

/* Reply to FS_WALK: result = records written (each holds one reference); error: what stopped
 * the walk at the component after them (-ENOENT, -ENOTDIR, ...), or 0 */
struct msg_fs_walk_reply {
    int64_t result;
    int64_t error;
};

/* Reply to FS_GETDENTS: result = bytes of records; the cookie to continue from */
struct msg_fs_getdents_reply {
    int64_t result;
    uint64_t cookie;
};

union msg_fs {
    struct msg_fs_name lookup;
    struct msg_fs_remove unlink, rmdir;
    struct msg_fs_create create;
    struct msg_fs_symlink symlink;
    struct msg_fs_link link;
    struct msg_fs_rename rename;
    struct msg_fs_io read, write;
    struct msg_fs_trunc trunc;
    struct msg_fs_stat stat;
    struct msg_fs_statfs statfs;
    struct msg_fs_getdents getdents;
    struct msg_fs_readlink readlink;
    struct msg_fs_chmod chmod;
    struct msg_fs_chown chown;
    struct msg_fs_utime utime;
    struct msg_fs_putnode putnode;
    struct msg_fs_sync sync;
    struct msg_fs_walk walk;
    struct msg_fs_last last;
    struct msg_fs_tag tag;              /* every request's sequence number: tag.seq */
    struct msg_reply reply;             /* every request's result */
    struct msg_fs_node_reply node;      /* LOOKUP, CREATE, SYMLINK, MOUNT */
    struct msg_fs_getdents_reply dents; /* GETDENTS */
    struct msg_fs_walk_reply walked;    /* WALK */
};
MSG_BODY_FITS(union msg_fs);
#define FS_REQUEST_FITS(s)                                                                         \
    _Static_assert(sizeof(s) <= offsetof(struct msg_fs_tag, seq), #s " leaves the seq word")
FS_REQUEST_FITS(struct msg_fs_create);
FS_REQUEST_FITS(struct msg_fs_symlink);
FS_REQUEST_FITS(struct msg_fs_walk);
FS_REQUEST_FITS(struct msg_fs_getdents);

#endif
