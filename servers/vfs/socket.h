/*
 * Sockets in vfs. A socket is an open file whose vnode (no file-system
 * server, mode S_IFSOCK) points to a struct sock; read, write, poll, close,
 * dup, fork and close-on-exec work on it as on a pipe. The system calls
 * (calls_socket.c) copy and check the caller's arguments (addresses,
 * lengths, message headers, flags), then call the socket's family through
 * its struct sock_ops: AF_UNIX is vfs's own (socket_unix.c); AF_INET's ops
 * (socket_inet.c) forward each call to inet as SOCK_* requests (samsara/
 * sock.h). The families are in `families` (socket.c); AF_INET6 and any
 * other family give EAFNOSUPPORT (musl's resolver falls back to IPv4).
 */
#ifndef VFS_SOCKET_H
#define VFS_SOCKET_H

#include "vfs.h"

/* Linux values */
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_SEQPACKET 5
#define SOCK_TYPE_MASK 0xf
#define SOCK_NONBLOCK O_NONBLOCK
#define SOCK_CLOEXEC O_CLOEXEC
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2
#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
#define MSG_CMSG_CLOEXEC 0x40000000
#define SOL_SOCKET 1
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_PEERCRED 17
#define SO_ACCEPTCONN 30
#define SO_PROTOCOL 38
#define SO_DOMAIN 39
#define FIONREAD 0x541B
#define SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage): longer is EINVAL, as Linux */
#define NR_SOCKS 64
#define SOCKS_FOR_ROOT 8 /* the last free sockets are root's (table_entry_allowed) */

/* A socket address as the caller gave it, or as a call returns it (len 0: none). */
struct sock_addr {
    uint32_t len;
    uint8_t bytes[SOCKADDR_MAX];
};

/* One send or receive, decoded by calls_socket.c. */
struct sock_msg {
    const uint64_t *iov;   /* (base, length) pairs in vfs memory; lengths checked */
    uint64_t count;        /* pairs */
    uint64_t total;        /* their sum, at most MAX_RW_COUNT */
    int flags;             /* the call's MSG_* flags */
    int nonblock;          /* O_NONBLOCK on the file, or MSG_DONTWAIT */
    struct sock_addr addr; /* send: the destination (len 0: the peer); recv: the source */
    int out_flags;         /* recv: MSG_TRUNC if a record was cut */
};

/* Socket states (connection-oriented types; a datagram socket stays IDLE or CONNECTED). */
enum sock_state { SOCK_IDLE, SOCK_LISTENING, SOCK_CONNECTED };

/* SO_PEERCRED's struct ucred */
struct sock_cred {
    int32_t pid;
    uint32_t uid, gid;
};

struct sock;
/* What a family does; each returns 0 or a count, -errno, or SUSPEND (a blocking call waits). */
struct sock_ops {
    int64_t (*create)(struct sock *s, int protocol);
    int64_t (*pair)(struct sock *a, struct sock *b);
    int64_t (*bind)(struct vproc *p, struct sock *s, const struct sock_addr *a);
    int64_t (*connect)(struct vproc *p, struct sock *s, const struct sock_addr *a, int nonblock);
    int64_t (*listen)(struct sock *s, int backlog);
    int64_t (*accept)(struct vproc *p, struct sock *s, uint32_t flags, int nonblock); /* an fd */
    int64_t (*send)(struct vproc *p, struct sock *s, struct sock_msg *m);
    int64_t (*recv)(struct vproc *p, struct sock *s, struct sock_msg *m);
    int64_t (*shutdown)(struct sock *s, int how);
    int64_t (*name)(struct sock *s, int peer, struct sock_addr *out);
    int (*ready)(struct sock *s, int ops); /* SEL_RD, SEL_WR, SEL_ERR */
    int (*hangup)(struct sock *s);         /* poll's POLLHUP */
    uint64_t (*unread)(struct sock *s);    /* FIONREAD */
    /* getsockopt (set 0) and setsockopt (set 1), if the family serves them (0: calls_socket.c):
     * value holds *len bytes (at most 16) */
    int64_t (*option)(struct sock *s, int set, int level, int name, uint8_t *value, uint32_t *len);
    void (*release)(struct sock *s); /* its last file is closed */
};

struct sock {
    int in_use;
    int family, type;
    const struct sock_ops *ops;
    struct vnode *vn; /* its vnode, once a file holds it (0: a connection not yet accepted) */
    enum sock_state state;
    int shut;              /* 1: this end will not read (SHUT_RD), 2: will not write (SHUT_WR) */
    int error;             /* SO_ERROR: reported once, then cleared */
    struct sock_cred cred; /* who made it (connect, listen, socketpair) */
    struct sock_cred peer_cred; /* SO_PEERCRED: its peer's cred when they were joined */
    /* AF_INET (socket_inet.c) */
    int inet_id;  /* inet's id of it (samsara/sock.h) */
    int inet_gen; /* the inet instance that has it: an older one's is dead */
    /* AF_UNIX (socket_unix.c) */
    struct sock *peer;         /* connected: the other end (datagram: where sends go) */
    int peer_gone;             /* the peer closed: EOF, EPIPE, ECONNREFUSED */
    struct sock *listener;     /* a connection waiting to be accepted: its listener */
    struct sock *next_pending; /* the listener's accept queue, oldest first */
    int backlog, pending;      /* listener: the queue's limit and length */
    struct sock_addr name;     /* its address, as getsockname shows it (len 0: none) */
    int holds_name;            /* bound: name is its own (an accepted end shows its listener's) */
    struct vnode *node;        /* bound to a path: the S_IFSOCK node, held */
    struct ring rx;            /* what was sent to it: bytes, or records (datagrams) */
};

#define SHUT_READ 1
#define SHUT_WRITE 2

/* socket.c */
struct sock *sock_new(struct vproc *p, int family, int type, const struct sock_ops *ops);
struct sock_cred sock_cred_of(const struct vproc *p);
void sock_free(struct sock *s);
int64_t sock_install(struct vproc *p, struct sock *s, uint32_t flags);
int64_t sock_create(struct vproc *p, int family, int type, int protocol, struct sock **out);
struct sock *sock_of(struct vproc *p, uint64_t fd, int64_t *err);
struct sock *sock_by_index(int i);
uint64_t sock_msg_walk(const struct sock_msg *m, uint64_t skip, uint64_t len,
                       uint64_t (*piece)(void *ctx, uint64_t base, uint64_t done, uint64_t n),
                       void *ctx);
uint64_t sock_msg_copy(struct ring *r, struct vproc *p, uint64_t at, const struct sock_msg *m,
                       uint64_t skip, uint64_t len, int into_ring);
void sock_changed(void);

/* socket_unix.c */
extern const struct sock_ops unix_ops;

/* socket_inet.c */
extern const struct sock_ops inet_ops;
int64_t inet_request(message_t *m, int64_t *grant, void *buf, uint64_t len, uint32_t access);

/* netinfo.c: interface and route ioctls (-ENOTTY if req is none), /proc/net's files */
int64_t net_ioctl(struct vproc *p, uint64_t req, uint64_t arg);
int64_t net_text(int file, char *buf, uint64_t size);

#endif
