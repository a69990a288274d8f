/*
 * Message bodies of the SOCK protocol: vfs -> inet (samsara/sock.h has the
 * types and what each request does). One struct per request and per reply
 * that carries more than a result; each is a member of union msg_sock,
 * reached as m.u.sock.NAME. Every reply has type SOCK_REPLY and starts with
 * `int64_t result` (0, a count or an id, or a negative Linux errno).
 */
#ifndef SAMSARA_MSG_SOCK_H
#define SAMSARA_MSG_SOCK_H

#include <stdint.h>
#include <samsara/msg/reply.h>

struct msg_sock_mailbox { /* SOCK_MAILBOX */
    int64_t grant;        /* write access to a struct sock_status_table */
    uint64_t size;
};

struct msg_sock_socket { /* SOCK_SOCKET */
    uint32_t type, protocol;
    uint32_t family; /* AF_INET or AF_INET6 */
    uint32_t flags;  /* SOCK_CALLER_PRIV: the caller may make a raw socket */
};

struct msg_sock_addr { /* SOCK_BIND, SOCK_CONNECT */
    uint64_t id;
    uint32_t addr_len; /* the caller's length; addr holds its first 28 bytes */
    uint32_t flags;    /* SOCK_CALLER_PRIV: the caller may bind a port below 1024 */
    uint8_t addr[28];  /* SOCK_ADDR_BYTES */
};

struct msg_sock_arg { /* SOCK_LISTEN (backlog), SOCK_ACCEPT, SOCK_SHUTDOWN (how), SOCK_NAME
                         (peer), SOCK_CLOSE */
    uint64_t id;
    int64_t arg;
};

struct msg_sock_data { /* SOCK_SEND, SOCK_RECV */
    uint32_t id;       /* 32 bits here (64 in the other requests), and */
    uint32_t flags;    /* the call's MSG_* flags beside it, so that a sockaddr_in6 fits */
    int64_t grant;     /* read access (send) or write access (recv) to len bytes */
    uint64_t len;
    uint32_t addr_len; /* send: the destination's length (0: the peer) */
    uint8_t addr[28];
};

struct msg_sock_recv_reply { /* the reply to SOCK_RECV */
    int64_t result;
    uint32_t flags;    /* MSG_TRUNC if the datagram was longer */
    uint32_t addr_len; /* the source (datagrams), 0 for a stream */
    uint8_t addr[28];
};

struct msg_sock_name_reply { /* the reply to SOCK_NAME */
    int64_t result;
    uint32_t addr_len;
    uint32_t pad;
    uint8_t addr[28];
};

struct msg_sock_opt { /* SOCK_GETOPT, SOCK_SETOPT; and the reply to SOCK_GETOPT (result, len) */
    uint64_t id;      /* the reply: result */
    int32_t level, name;
    uint32_t len; /* the value's bytes (at most 16) */
    uint32_t pad;
    uint8_t value[16];
};

struct msg_sock_ifreq { /* SOCK_IFREQ; and its reply (result, then ifr) */
    uint64_t cmd;       /* the reply: result */
    uint8_t ifr[40];    /* struct ifreq (SOCK_IFREQ_BYTES) */
};

struct msg_sock_table { /* SOCK_TABLE */
    uint32_t kind;      /* SOCK_TABLE_* */
    uint32_t pad;
    int64_t grant; /* write access to len bytes */
    uint64_t len;
};

union msg_sock {
    struct msg_reply reply;
    struct msg_sock_mailbox mailbox;
    struct msg_sock_socket socket;
    struct msg_sock_addr addr;
    struct msg_sock_arg arg;
    struct msg_sock_data data;
    struct msg_sock_recv_reply recv_reply;
    struct msg_sock_name_reply name_reply;
    struct msg_sock_opt opt;
    struct msg_sock_ifreq ifreq;
    struct msg_sock_table table;
};
MSG_BODY_FITS(union msg_sock);

#endif
