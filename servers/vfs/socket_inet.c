/*
 * AF_INET and AF_INET6 sockets: each is a socket of inet (net/inet/sock*.c), reached
 * through the SOCK protocol (samsara/sock.h, docs/INET.md "Sockets").
 *
 * inet answers every request at once and never waits; a call that cannot
 * go on is -EAGAIN there, and waits here (WAIT_SOCK, as AF_UNIX calls do).
 * What a call would find is in the status table vfs lends inet: inet writes
 * a socket's entry whenever it changes and then notifies us; the
 * notification re-runs the waiting calls and polls (sock_changed). A waiting
 * call asks inet again only when the entry says it would not wait, so a
 * change elsewhere costs no message. A signal ends a waiting call with
 * EINTR (cancel_call) and inet has nothing to undo.
 *
 * Data moves once, between inet and the Linux process: a send or receive of
 * one buffer hands inet a GRANT_USER_MEMORY grant of it (vfs's own memory
 * for sendfile). Several vectors go through `gather`, 64 KiB of vfs, so a
 * datagram stays whole. A blocking stream send goes on until all is sent
 * (p->done keeps the count across waits), as MSG_WAITALL's receive does.
 *
 * inet is found by its label when first needed and lent the table; every
 * request is a bounded sendrec (DRIVER_TIMEOUT_MS: rs hears of an inet that
 * stops answering). When inet dies (a request meets E_DEADEP, or ds's
 * ep.inet changes: inet_check), its sockets are dead (inet_gone): the grant
 * of the table is freed at once, so the dead or hung instance can write no
 * more, and its late notifications are ignored; every call on its sockets
 * fails with ECONNRESET (a send with EPIPE and SIGPIPE; a call that moved
 * bytes before returns their count), waiting calls are woken to fail so,
 * poll shows them readable, writable, in error and hung up, close works.
 * The new instance is lent the table afresh, zeroed, at the next socket(),
 * and new sockets are its own (inet_gen tells the instances apart). A TCP
 * listener and a bound, unconnected UDP socket are the exceptions: vfs keeps
 * the address (and backlog), and makes them again on the new instance as
 * soon as one is found (revive), so a server's accept or receive goes on
 * waiting and its next connection or datagram comes.
 *
 * Waits end at SO_RCVTIMEO/SO_SNDTIMEO (sock_wait): then a receive or
 * accept is EAGAIN, a send EAGAIN or what it sent, a connect EINPROGRESS
 * (it goes on), as Linux.
 */
#include <samsara/root.h>
#include <samsara/sock.h>
#include "socket.h"

#define MSG_WAITALL_ 0x100
#define SO_PROTOCOL_ 38
#define IPPROTO_UDP_ 17
#define SIGPIPE 13
#define GATHER_SIZE 65536

static endpoint_t inet_ep;  /* 0: not found yet, or gone */
static endpoint_t inet_old; /* the last instance that died: its late notifications are no news */
static int inet_gen;        /* which instance: a socket of an older one is dead */
static grant_id_t table_grant = -1;
static struct sock_status_table table; /* written by inet (safecopy), read here */
static uint8_t gather[GATHER_SIZE];

static void inet_gone(void)
{
    if (table_grant >= 0)
        grant_free(table_grant); /* a hung instance, not yet killed, writes no more */
    table_grant = -1;
    if (inet_ep > 0)
        printf("vfs: inet (endpoint %d) is gone: its sockets fail with ECONNRESET\n", inet_ep);
    inet_old = inet_ep;
    inet_ep = 0;
    sock_changed(); /* its sockets' waiting calls fail now */
}

static int revive_listeners(void);

/* inet's endpoint, found and lent the status table the first time; <= 0 if it does not run. */
static endpoint_t inet_find(void)
{
    static int finding; /* a revival's failure wakes calls that would look again: not now */
    if (inet_ep > 0)
        return inet_ep;
    if (finding)
        return -E_SRCH;
    endpoint_t ep = root_lookup("inet");
    if (ep <= 0)
        return -E_SRCH;
    memset(&table, 0, sizeof(table));
    grant_id_t g = grant_alloc(ep, &table, sizeof(table), GRANT_WRITE);
    message_t m = {.type = SOCK_MAILBOX, .u.sock.mailbox = {g, sizeof(table)}};
    keep_seal(); /* inet's change: not undone (keep.c) */
    if (g < 0 || ipc_sendrec_bounded(ep, &m, DRIVER_TIMEOUT_MS) < 0 || m.type != SOCK_REPLY ||
        m.u.sock.reply.result < 0) {
        grant_free(g);
        return -E_SRCH;
    }
    table_grant = g;
    inet_gen++;
    inet_ep = ep;
    finding = 1;
    int revived = revive_listeners();
    finding = 0;
    if (revived)
        sock_changed(); /* their accepts and polls: a connection may be waiting already */
    return inet_ep;
}

/* A notification: 1 if it is inet's (the table changed: waiting calls and polls run again). */
int inet_notified(endpoint_t from)
{
    if (from > 0 && from == inet_old)
        return 1; /* sent before it died: its sockets have failed already */
    if (from <= 0 || from != inet_ep)
        return 0;
    sock_changed();
    return 1;
}

static int dead(const struct sock *s)
{
    return inet_ep <= 0 || s->inet_gen != inet_gen;
}

/*
 * A socket of a dead instance that the next one gets again (revive): a TCP
 * listener (vfs kept its address, asked at listen, and backlog) or a bound,
 * unconnected UDP socket (its address, asked at bind). Until then its calls
 * and poll wait as if nothing had come (in_gap).
 */
static int revivable(const struct sock *s)
{
    return s->ops == &inet_ops && s->name.len && dead(s) &&
           (s->state == SOCK_LISTENING || (s->type == SOCK_DGRAM && s->state != SOCK_CONNECTED));
}

/* 1 if s waits for a new instance to be made again: no instance found yet. */
static int in_gap(struct sock *s)
{
    if (revivable(s) && inet_find() > 0 && revivable(s))
        s->name.len = 0; /* the new instance is up and refused it: dead for good */
    return revivable(s);
}

/* ds said a service came or went: if inet is gone, its sockets are dead. */
void inet_check(void)
{
    struct proc_info info;
    if (inet_ep > 0 && sys_proc_info(inet_ep, &info) < 0)
        inet_gone();
    for (int i = 0; inet_ep <= 0 && i < NR_SOCKS; i++) {
        struct sock *s = sock_by_index(i);
        if (s && revivable(s)) { /* a new instance may be up: inet_find revives them */
            inet_find();
            break;
        }
    }
}

static uint32_t status(const struct sock *s)
{
    if (revivable(s))
        return 0; /* waits for the next instance (revive) */
    if (dead(s))
        return SOCK_ST_RD | SOCK_ST_WR | SOCK_ST_ERR | SOCK_ST_HUP;
    return table.entry[s->inet_id].flags;
}

/*
 * One request to inet: its result (a count, an id, -errno), checked to be
 * one; -ECONNRESET if inet died or did not answer in time.
 */
static int64_t inet_call(message_t *m)
{
    if (inet_find() <= 0)
        return -LX_ECONNRESET;
    keep_seal(); /* inet's change: not undone (keep.c) */
    int r = ipc_sendrec_bounded(inet_ep, m, DRIVER_TIMEOUT_MS);
    if (r == -E_TIMEDOUT) {
        printf("vfs: inet did not answer in %d ms: complaint to rs\n", DRIVER_TIMEOUT_MS);
        root_complain("inet", DRIVER_TIMEOUT_MS);
    }
    if (r < 0) {
        inet_gone();
        return -LX_ECONNRESET;
    }
    int64_t result = m->u.sock.reply.result;
    if (m->type != SOCK_REPLY || result < -4095 || result > (1ll << 30)) {
        vfs_refuse(REFUSE_STATUS, inet_ep, "a SOCK reply that is neither a count nor an errno");
        return -LX_EIO;
    }
    return result;
}

/*
 * A request about no socket (netinfo.c): its result, -ENODEV if no inet
 * runs. With len, inet gets a grant of buf (access) in *grant for the call.
 */
int64_t inet_request(message_t *m, int64_t *grant, void *buf, uint64_t len, uint32_t access)
{
    if (inet_find() <= 0)
        return -LX_ENODEV;
    grant_id_t g = len ? grant_alloc(inet_ep, buf, len, access) : -1;
    if (len && g < 0)
        return -LX_ENOMEM;
    if (len)
        *grant = g;
    int64_t r = inet_call(m);
    if (g >= 0)
        grant_free(g);
    return r;
}

/* A request about s with one argument (listen, accept, shutdown, name, close). */
static int64_t call_arg(const struct sock *s, int type, int64_t arg, message_t *m)
{
    *m = (message_t){.type = type, .u.sock.arg = {(uint64_t)s->inet_id, arg}};
    return dead(s) ? -LX_ECONNRESET : inet_call(m);
}

/* Wait for s to change (sock_wait); at the timeout EAGAIN, or what the call moved before it. */
static int64_t wait_sock(struct vproc *p, const struct sock *s, int dir)
{
    int64_t r = sock_wait(p, s, dir);
    return r == -LX_EAGAIN && p->done ? (int64_t)p->done : r;
}

/*
 * SOCK_CALLER_PRIV if a caller of effective uid euid may do what Linux keeps
 * for CAP_NET_RAW and CAP_NET_BIND_SERVICE (root); inet decides what needs it.
 */
static uint32_t caller_flags(uint32_t euid)
{
    return euid == 0 ? SOCK_CALLER_PRIV : 0;
}

static int64_t inet_create(struct sock *s, int protocol)
{
    message_t m;
    int64_t r = -LX_ECONNRESET;
    uint32_t flags = caller_flags(s->cred.uid); /* the creator's, now (raw sockets: EPERM) */
    /* twice: the instance we knew may have died unnoticed; the first call finds that out */
    for (int tries = 0; tries < 2; tries++) {
        if (inet_find() <= 0)
            return -LX_EAFNOSUPPORT; /* no network stack runs */
        m = (message_t){
            .type = SOCK_SOCKET,
            .u.sock.socket = {(uint32_t)s->type, (uint32_t)protocol, (uint32_t)s->family, flags}};
        r = inet_call(&m);
        if (inet_ep > 0)
            break;
    }
    if (r >= SOCK_MAX) {
        vfs_refuse(REFUSE_STATUS, inet_ep, "a socket id out of range");
        r = -LX_EIO;
    }
    if (r < 0)
        return r;
    s->inet_id = (int)r;
    s->inet_gen = inet_gen;
    return 0;
}

static int64_t with_addr(const struct sock *s, int type, const struct sock_addr *a, uint32_t flags)
{
    message_t m = {.type = type,
                   .u.sock.addr = {.id = (uint64_t)s->inet_id, .addr_len = a->len, .flags = flags}};
    memcpy(m.u.sock.addr.addr, a->bytes, a->len < SOCK_ADDR_BYTES ? a->len : SOCK_ADDR_BYTES);
    return dead(s) ? -LX_ECONNRESET : inet_call(&m);
}

static int64_t inet_name(struct sock *s, int peer, struct sock_addr *out);
static int64_t inet_option(struct sock *s, int set, int level, int name, uint8_t *value,
                           uint32_t *len);

static int64_t inet_bind(struct vproc *p, struct sock *s, const struct sock_addr *a)
{
    int64_t r = with_addr(s, SOCK_BIND, a,
                          caller_flags(p->cred.euid)); /* ports below 1024: EACCES in inet */
    int32_t proto = 0;
    uint32_t len = sizeof(proto);
    /* a UDP socket's address, for a new instance (revive); not ICMP's, also SOCK_DGRAM */
    if (r == 0 && s->type == SOCK_DGRAM &&
        (inet_option(s, 0, SOL_SOCKET, SO_PROTOCOL_, (uint8_t *)&proto, &len) < 0 ||
         proto != IPPROTO_UDP_ || inet_name(s, 0, &s->name) < 0))
        s->name.len = 0;
    return r;
}

/*
 * connect: a stream's starts (-EINPROGRESS) and a blocking caller waits while
 * the entry shows it under way; asked again then, inet reports how it ended.
 * At SO_SNDTIMEO the wait ends and the connection goes on: EINPROGRESS for
 * the call that started it (p->done 1), EALREADY for a later one (Linux).
 */
static int64_t connect_wait(struct vproc *p, const struct sock *s)
{
    int64_t r = sock_wait(p, s, SOCK_SND);
    return r != -LX_EAGAIN ? r : p->done ? -LX_EINPROGRESS : -LX_EALREADY;
}

static int64_t inet_connect(struct vproc *p, struct sock *s, const struct sock_addr *a,
                            int nonblock)
{
    if (!dead(s) && (status(s) & SOCK_ST_CONNECTING))
        return nonblock ? -LX_EALREADY : connect_wait(p, s);
    int64_t r = with_addr(s, SOCK_CONNECT, a, 0); /* an implicit bind takes an ephemeral port */
    if (r == -LX_EINPROGRESS && !nonblock) {
        p->done = 1;
        return connect_wait(p, s);
    }
    if (r == 0)
        s->state = SOCK_CONNECTED;
    return r;
}

static int64_t inet_listen(struct sock *s, int backlog)
{
    message_t m;
    int64_t r = call_arg(s, SOCK_LISTEN, backlog, &m);
    if (r == 0) {
        s->state = SOCK_LISTENING;
        s->backlog = backlog;
        if (s->type != SOCK_STREAM || inet_name(s, 0, &s->name) < 0)
            s->name.len = 0; /* not revived */
    }
    return r;
}

/*
 * A listener of a dead instance made again on the new one: a socket of its
 * family, bound to the address it had (its port too: an ephemeral one was
 * asked for at listen), listening with its backlog. Connections that waited
 * in the old instance's queue are lost (their peers get resets); options
 * other than vfs's own are not replayed. Failing, it stays dead.
 */
static void revive(struct sock *s)
{
    uint32_t flags = caller_flags(s->cred.uid);
    message_t m = {.type = SOCK_SOCKET,
                   .u.sock.socket = {(uint32_t)s->type, 0, (uint32_t)s->family, flags}};
    int64_t id = inet_call(&m);
    if (id < 0 || id >= SOCK_MAX) {
        if (inet_ep > 0)
            s->name.len = 0; /* refused; if this instance died too, the next one tries */
        return;
    }
    struct sock tmp = *s;
    tmp.inet_id = (int)id;
    tmp.inet_gen = inet_gen;
    int64_t r = with_addr(&tmp, SOCK_BIND, &s->name, flags);
    if (r == 0 && s->state == SOCK_LISTENING)
        r = call_arg(&tmp, SOCK_LISTEN, s->backlog, &m);
    if (r < 0 && inet_ep > 0) {
        call_arg(&tmp, SOCK_CLOSE, 0, &m);
        printf("vfs: a socket could not be made again on the new inet: error %ld\n", (long)-r);
        s->name.len = 0;
    }
    if (r < 0)
        return;
    s->inet_id = (int)id;
    s->inet_gen = inet_gen;
}

/* Every revivable listener on the new instance; 1 if there was one (its waits must look again). */
static int revive_listeners(void)
{
    int any = 0;
    for (int i = 0; i < NR_SOCKS && inet_ep > 0; i++) {
        struct sock *s = sock_by_index(i);
        if (s && revivable(s)) {
            revive(s);
            any = 1;
        }
    }
    return any;
}

/* accept: a socket of ours first, so that a full table leaves the connection queued in inet. */
static int64_t inet_accept(struct vproc *p, struct sock *s, uint32_t flags, int nonblock)
{
    int listening = s->state == SOCK_LISTENING; /* only a listener's accept may wait */
    if (in_gap(s))
        return nonblock ? -LX_EAGAIN : wait_sock(p, s, SOCK_RCV);
    if (!nonblock && listening && !(status(s) & SOCK_ST_RD))
        return wait_sock(p, s, SOCK_RCV);
    struct sock *c = sock_new(p, s->family, SOCK_STREAM, s->ops);
    if (!c)
        return -LX_ENFILE;
    message_t m;
    int64_t r = call_arg(s, SOCK_ACCEPT, 0, &m);
    if (r >= SOCK_MAX) {
        vfs_refuse(REFUSE_STATUS, inet_ep, "a socket id out of range");
        r = -LX_EIO;
    }
    if (r < 0) {
        sock_free(c);
        return r == -LX_EAGAIN && !nonblock && listening ? wait_sock(p, s, SOCK_RCV) : r;
    }
    c->inet_id = (int)r;
    c->inet_gen = inet_gen;
    c->state = SOCK_CONNECTED;
    memcpy(c->timeo, s->timeo, sizeof(c->timeo)); /* TCP's accepted socket inherits them (Linux) */
    int64_t fd = sock_install(p, c, flags);
    if (fd < 0)
        c->ops->release(c);
    return fd;
}

struct buf_piece {
    struct vproc *p;
    uint8_t *buf;
    int in;
};

static uint64_t buf_piece(void *ctx, uint64_t base, uint64_t done, uint64_t n)
{
    struct buf_piece *c = ctx;
    int r = c->in ? copy_in(c->p, base, c->buf + done, n) : copy_out(c->p, base, c->buf + done, n);
    return r < 0 ? 0 : n;
}

/*
 * The bytes of m's vectors from `skip` on, at most `max`, copied in (send)
 * or out (receive) of buf: the count moved (short at a fault).
 */
static uint64_t move(struct vproc *p, const struct sock_msg *m, uint64_t skip, uint8_t *buf,
                     uint64_t max, int in)
{
    struct buf_piece c = {p, buf, in};
    return sock_msg_walk(m, skip, max, buf_piece, &c);
}

/*
 * One SOCK_SEND or SOCK_RECV of m's data from byte `skip` on: straight from
 * the process's buffer if it is one vector, else through `gather`. The
 * result; a receive fills m->addr and m->out_flags.
 */
static int64_t transfer(struct vproc *p, struct sock *s, struct sock_msg *m, uint64_t skip,
                        int send)
{
    uint64_t len = m->total - skip;
    int direct = m->count == 1;
    if (!direct && len > GATHER_SIZE) {
        if (s->type == SOCK_DGRAM && send)
            return -LX_EMSGSIZE;
        len = GATHER_SIZE; /* a stream moves the rest later; a datagram is cut (MSG_TRUNC) */
    }
    if (!direct && send && move(p, m, skip, gather, len, 1) < len)
        return -LX_EFAULT;
    uint64_t addr = direct ? m->iov[0] + skip : (uint64_t)gather;
    uint32_t access = send ? GRANT_READ : GRANT_WRITE;
    grant_id_t g = -1;
    if (len && direct && !p->kernel_io)
        g = grant_alloc_indirect(inet_ep, p->ep, GRANT_USER_MEMORY, addr, len, access);
    else if (len)
        g = grant_alloc(inet_ep, (const void *)addr, len, access);
    if (len && g < 0)
        return -LX_ENOMEM;
    message_t q = {
        .type = send ? SOCK_SEND : SOCK_RECV,
        .u.sock.data = {
            .id = (uint32_t)s->inet_id, .grant = g, .len = len, .flags = (uint32_t)m->flags}};
    if (send && m->addr.len) {
        q.u.sock.data.addr_len = m->addr.len;
        memcpy(q.u.sock.data.addr, m->addr.bytes,
               m->addr.len < SOCK_ADDR_BYTES ? m->addr.len : SOCK_ADDR_BYTES);
    }
    int64_t r = inet_call(&q);
    if (g >= 0)
        grant_free(g);
    if (send || r < 0)
        return r;
    const struct msg_sock_recv_reply *rr = &q.u.sock.recv_reply;
    m->out_flags = (int)(rr->flags & MSG_TRUNC);
    m->addr.len = rr->addr_len <= SOCK_ADDR_BYTES ? rr->addr_len : SOCK_ADDR_BYTES;
    memcpy(m->addr.bytes, rr->addr, m->addr.len);
    uint64_t got = (uint64_t)r < len ? (uint64_t)r : len; /* MSG_TRUNC: r is the whole length */
    if (!direct && move(p, m, skip, gather, got, 0) < got)
        return -LX_EFAULT;
    return r;
}

/* A send that failed with r: what it sent before, if anything; else r (EPIPE raises SIGPIPE). */
static int64_t send_failed(struct vproc *p, const struct sock_msg *m, int64_t r)
{
    if (p->done)
        return (int64_t)p->done;
    if (r == -LX_EPIPE && !(m->flags & MSG_NOSIGNAL))
        signal_queue(VFS_SIG_PROC, p->ep, SIGPIPE);
    return r;
}

static int64_t inet_send(struct vproc *p, struct sock *s, struct sock_msg *m)
{
    if (m->flags & MSG_OOB)
        return -LX_EOPNOTSUPP;
    if (in_gap(s))
        return m->nonblock ? -LX_EAGAIN : wait_sock(p, s, SOCK_SND);
    if (dead(s))
        return send_failed(p, m, -LX_EPIPE);
    if (!m->nonblock && !(status(s) & SOCK_ST_WR))
        return wait_sock(p, s, SOCK_SND);
    int64_t r = transfer(p, s, m, p->done, 1);
    if (r == -LX_EAGAIN && !m->nonblock)
        return wait_sock(p, s, SOCK_SND);
    if (r == -LX_ECONNRESET && dead(s))
        r = -LX_EPIPE; /* inet died under this send */
    if (r >= 0 && s->type == SOCK_STREAM) {
        p->done += (uint64_t)r;
        if (p->done < m->total && !m->nonblock)
            return wait_sock(p, s, SOCK_SND); /* the rest when there is room */
        return (int64_t)p->done;
    }
    return r < 0 ? send_failed(p, m, r) : r;
}

static int64_t inet_recv(struct vproc *p, struct sock *s, struct sock_msg *m)
{
    if (m->flags & MSG_OOB)
        return -LX_EOPNOTSUPP;
    if (in_gap(s))
        return m->nonblock ? -LX_EAGAIN : wait_sock(p, s, SOCK_RCV);
    if (dead(s))
        return p->done ? (int64_t)p->done : -LX_ECONNRESET;
    if (!m->nonblock && !(status(s) & SOCK_ST_RD))
        return wait_sock(p, s, SOCK_RCV);
    int64_t r = transfer(p, s, m, p->done, 0);
    if (r == -LX_EAGAIN && !m->nonblock)
        return wait_sock(p, s, SOCK_RCV);
    if (r > 0 && s->type == SOCK_STREAM && !(m->flags & MSG_PEEK)) {
        p->done += (uint64_t)r;
        if ((m->flags & MSG_WAITALL_) && !m->nonblock && p->done < m->total)
            return wait_sock(p, s, SOCK_RCV);
        return (int64_t)p->done;
    }
    return p->done && r <= 0 ? (int64_t)p->done : r;
}

static int64_t inet_shutdown(struct sock *s, int how)
{
    message_t m;
    return call_arg(s, SOCK_SHUTDOWN, how, &m);
}

static int64_t inet_name(struct sock *s, int peer, struct sock_addr *out)
{
    message_t m;
    int64_t r = call_arg(s, SOCK_NAME, peer, &m);
    if (r < 0)
        return r;
    const struct msg_sock_name_reply *n = &m.u.sock.name_reply;
    out->len = n->addr_len <= SOCK_ADDR_BYTES ? n->addr_len : SOCK_ADDR_BYTES;
    memcpy(out->bytes, n->addr, out->len);
    return 0;
}

/*
 * An option of a socket whose inet died: SO_ERROR is ECONNRESET once (then
 * 0), SO_TYPE and SO_DOMAIN are still known; the rest fails with
 * ECONNRESET.
 */
static int64_t dead_option(struct sock *s, int set, int level, int name, uint8_t *value,
                           uint32_t *len)
{
    int32_t v;
    if (set || level != SOL_SOCKET)
        return -LX_ECONNRESET;
    switch (name) {
    case SO_ERROR:
        v = s->error ? 0 : LX_ECONNRESET; /* s->error: reported already (AF_INET uses no other) */
        s->error = 1;
        break;
    case SO_TYPE:
        v = s->type;
        break;
    case SO_DOMAIN:
        v = s->family;
        break;
    default:
        return -LX_ECONNRESET;
    }
    memcpy(value, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}

static int64_t inet_option(struct sock *s, int set, int level, int name, uint8_t *value,
                           uint32_t *len)
{
    message_t m = {.type = set ? SOCK_SETOPT : SOCK_GETOPT,
                   .u.sock.opt = {.id = (uint64_t)s->inet_id, .level = level, .name = name}};
    if (set) {
        m.u.sock.opt.len = *len < SOCK_OPT_BYTES ? *len : SOCK_OPT_BYTES;
        memcpy(m.u.sock.opt.value, value, m.u.sock.opt.len);
    }
    int64_t r = dead(s) ? dead_option(s, set, level, name, value, len) : inet_call(&m);
    if (r < 0 || set || dead(s))
        return r;
    *len = m.u.sock.opt.len <= SOCK_OPT_BYTES ? m.u.sock.opt.len : SOCK_OPT_BYTES;
    memcpy(value, m.u.sock.opt.value, *len);
    return 0;
}

static int inet_ready(struct sock *s, int ops)
{
    uint32_t f = status(s);
    int r = f & SOCK_ST_ERR ? SEL_ERR : 0;
    if ((ops & SEL_RD) && (f & SOCK_ST_RD))
        r |= SEL_RD;
    if ((ops & SEL_WR) && (f & SOCK_ST_WR))
        r |= SEL_WR;
    return r;
}

static int inet_hangup(struct sock *s)
{
    return (status(s) & SOCK_ST_HUP) != 0;
}

static uint64_t inet_unread(struct sock *s)
{
    return dead(s) ? 0 : table.entry[s->inet_id].unread;
}

static void inet_release(struct sock *s)
{
    message_t m;
    if (!dead(s))
        call_arg(s, SOCK_CLOSE, 0, &m);
    sock_free(s);
}

const struct sock_ops inet_ops = {
    .create = inet_create,
    .bind = inet_bind,
    .connect = inet_connect,
    .listen = inet_listen,
    .accept = inet_accept,
    .send = inet_send,
    .recv = inet_recv,
    .shutdown = inet_shutdown,
    .name = inet_name,
    .option = inet_option,
    .ready = inet_ready,
    .hangup = inet_hangup,
    .unread = inet_unread,
    .release = inet_release,
};
