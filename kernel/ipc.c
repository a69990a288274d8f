/*
 * Synchronous message passing (MINIX style, rendezvous, no kernel buffers
 * beyond the one message a blocked sender holds).
 *
 * send: deliver if the destination waits for us, else block in its queue
 *       (refused with E_DEADLK if that closes a cycle of blocked senders).
 * receive: pending notifications first, then queued senders, else block.
 * sendrec: send, then receive the reply from the same endpoint into the same
 *       buffer; notifications from the callee stay pending meanwhile.
 * notify: never blocks; sets a pending bit per source slot if the
 *       destination is not waiting, delivered as a MSG_NOTIFY message.
 * reply_receive: sendnb, then receive from ANY: a server's loop in one entry.
 * Any operation with a dead or stale endpoint fails with E_DEADEP.
 * Message buffers are reached through a cached translation (msg_buffer);
 * sendrec and reply_receive to a peer already waiting take the fast path
 * (ipc_fastpath), straight from syscall_entry.
 */
#include <samsara/linux.h>
#include "kernel.h"

static void wake(struct proc *p, int64_t result)
{
    p->ipc_deadline = 0;
    p->regs.rax = (uint64_t)result;
    proc_unblock(p, p->flags & (PS_SENDING | PS_RECEIVING));
}

/*
 * The kernel address of p's message buffer at va: writable user memory of p
 * inside one page, or 0 (a buffer across pages takes the general copy). One
 * translation per process is cached and used while vm_epoch stays (vm.c moves
 * it whenever a mapping goes or changes), so the usual buffer of a server or
 * a client costs no page-table walk.
 */
static message_t *msg_translate(struct proc *p, uint64_t va)
{
    uint64_t pa;
    if ((va & (PAGE_SIZE - 1)) > PAGE_SIZE - sizeof(message_t) || !(pa = user_phys(p, va, 1)))
        return 0;
    p->buf_va = va;
    p->buf_epoch = vm_epoch;
    return p->buf_kva = P2V(pa);
}

/* Is p's buffer at va cached (the fast path's test)? Then buf_kva is set: vm_epoch starts at 1. */
static inline int msg_cached(const struct proc *p, uint64_t va)
{
    return va == p->buf_va && p->buf_epoch == vm_epoch;
}

static inline message_t *msg_buffer(struct proc *p, uint64_t va)
{
    return msg_cached(p, va) ? p->buf_kva : msg_translate(p, va);
}

/* The message p sends dst from msgp (its buffer, or a copy in p->msg), checked writable for a
 * sendrec; an injected garbage fault scrambles an answer to a dependent (not a request, not rs's).
 */
static const message_t *msg_fetch(struct proc *p, uint64_t msgp, int write, struct proc *dst)
{
    const message_t *m = msg_buffer(p, msgp);
    if (!m && (copy_from_user(p, msgp, &p->msg, sizeof(message_t)) < 0 ||
               (write && !user_range_mapped(p, msgp, sizeof(message_t), 1))))
        return 0;
    m = m ? m : &p->msg;
    return (p->inject & INJECT_GARBAGE) && !write && dst != root_proc ? inject_garbage(p, m) : m;
}

/* Copy m, its source set to from, to p's buffer at va: 0 or -E_FAULT. */
static int64_t msg_put(struct proc *p, uint64_t va, const message_t *m, endpoint_t from)
{
    message_t *k = msg_buffer(p, va), copy;
    if (!k) {
        copy = *m;
        copy.source = from;
        return copy_to_user(p, va, &copy, sizeof(copy));
    }
    *k = *m;
    k->source = from;
    return 0;
}

/*
 * Give m from `from` to p, which is blocked receiving: copy it to p's buffer, or, for a
 * Linux system call's reply, put its result in rax. Wake p.
 */
static void deliver(struct proc *p, const message_t *m, endpoint_t from)
{
    int64_t r;
    if (p->linux_call) {
        r = m->u.reply.result;
        p->linux_call = 0;
    } else {
        r = msg_put(p, p->msgbuf, m, from);
    }
    p->getfrom = NONE;
    p->awaiting_reply = 0;
    wake(p, r);
}

static int waits_for(struct proc *p, endpoint_t src)
{
    return (p->flags & PS_RECEIVING) && (p->getfrom == ANY || p->getfrom == src);
}

/* A caller waiting for its sendrec reply takes only the reply, never a notification. */
static int waits_for_notify(struct proc *p, endpoint_t src)
{
    return waits_for(p, src) && !p->awaiting_reply;
}

/* p's send went through as part of sendrec: now it waits for the reply from dst. */
static void await_reply(struct proc *p, endpoint_t dst)
{
    p->getfrom = dst;
    p->awaiting_reply = 1;
    if (p->flags & PS_SENDING) /* it was queued: still blocked, now receiving */
        p->flags = (p->flags & ~PS_SENDING) | PS_RECEIVING;
    else
        proc_block(p, PS_RECEIVING);
}

static void notify_message(message_t *m, endpoint_t src, uint64_t bits)
{
    memset(m, 0, sizeof(*m));
    m->source = src;
    m->type = MSG_NOTIFY;
    m->u.notify.bits = bits;
    m->u.notify.ticks = ticks;
}

/*
 * Validate a destination endpoint and the caller's right to reach it: one of
 * its IPC targets, itself (refused later), or a reply: a send or sendnb to a
 * process waiting in sendrec for exactly p's answer.
 */
static int64_t check_target(struct proc *p, endpoint_t dst, int answer, struct proc **out)
{
    int r = ep_lookup(dst, out);
    if (r < 0 || *out == p || priv_may_send(p, *out))
        return r;
    if (answer && (*out)->awaiting_reply && waits_for(*out, p->ep))
        return 0;
    return deny(p, 1);
}

/*
 * Deliver m (p's buffer or p->msg) to dst now, with one copy, or queue p
 * behind dst with a copy in p->msg (checks are done).
 */
static int64_t post(struct proc *p, struct proc *dst, const message_t *m, uint64_t msgp,
                    int nonblock, int sendrec)
{
    endpoint_t dst_ep = dst->ep;
    if (waits_for(dst, p->ep)) {
        deliver(dst, m, p->ep);
        if (!sendrec)
            return 0;
        p->msgbuf = msgp;
        await_reply(p, dst_ep);
        return KC_BLOCKED;
    }
    if (nonblock)
        return -E_AGAIN;
    /*
     * Would blocking close a cycle? Follow what each process is blocked on
     * (the target of its send, or the one endpoint it receives from).
     */
    struct proc *q = dst;
    for (int n = 0; n < NR_SLOTS; n++) {
        endpoint_t next = (q->flags & PS_SENDING)     ? q->sendto
                          : (q->flags & PS_RECEIVING) ? q->getfrom
                                                      : NONE;
        if (ep_lookup(next, &q) < 0)
            break;
        if (q == p)
            return -E_DEADLK;
    }
    p->msg = *m;
    p->msg.source = p->ep;
    p->sendto = dst_ep;
    p->in_sendrec = sendrec;
    p->msgbuf = msgp;
    p->next_sender = 0;
    struct proc **tail = &dst->senders;
    while (*tail)
        tail = &(*tail)->next_sender;
    *tail = p;
    proc_block(p, PS_SENDING);
    return KC_BLOCKED;
}

int64_t ipc_send(struct proc *p, endpoint_t dst_ep, uint64_t msgp, int nonblock, int sendrec)
{
    struct proc *dst;
    int64_t r = check_target(p, dst_ep, !sendrec, &dst); /* send and sendnb may answer */
    if (r < 0)
        return r;
    if (dst == p)
        return -E_DEADLK;
    const message_t *m = msg_fetch(p, msgp, sendrec, dst);
    if (!m)
        return refuse(p, 2, -E_FAULT);
    return post(p, dst, m, msgp, nonblock, sendrec);
}

/*
 * KC_REPLY_RECEIVE: sendnb to dst (the reply to a client waiting in sendrec),
 * then receive from ANY into the same buffer: a server's answer and its next
 * wait in one kernel entry. The buffer is checked first (E_FAULT), then as
 * sendnb; on an error nothing was sent or received.
 */
int64_t ipc_reply_receive(struct proc *p, endpoint_t dst, uint64_t msgp)
{
    if (!msg_buffer(p, msgp) && !user_range_mapped(p, msgp, sizeof(message_t), 1))
        return refuse(p, 2, -E_FAULT);
    int64_t r = ipc_send(p, dst, msgp, 1, 0);
    return r < 0 ? r : ipc_receive(p, ANY, msgp, 0);
}

/* Something for p's receive from ANY: a queued sender or a pending notification. */
static int has_waiting(const struct proc *p)
{
    uint64_t any = (uint64_t)p->senders | p->sys_pending | p->irq_pending;
    for (int w = 0; w < NR_SLOTS / 64; w++)
        any |= p->notify_pending[w];
    return any != 0;
}

/*
 * The fast paths' peer: the process in slot ep mod NR_SLOTS if it is ep and
 * waits for p's message (blocked receiving only, from ANY or from p), else 0.
 * PS_RECEIVING alone means alive and in use: a dead process is PS_ZOMBIE
 * until its slot is reaped (and then stays so), and the running p is runnable.
 */
static inline struct proc *waiting_peer(const struct proc *p, endpoint_t ep)
{
    struct proc *dst = &proc_table[(uint32_t)ep % NR_SLOTS];
    __asm__("" : "+r"(dst)); /* kept in a register: GCC would recompute it (x1344) per use */
    return dst->ep == ep && dst->flags == PS_RECEIVING &&
                   (dst->getfrom == ANY || dst->getfrom == p->ep)
               ? dst
               : 0;
}

/*
 * The fast path's end: dst, which waited for p, has its message (in its
 * buffer, or its result in rax); p waits for from's answer (answer set),
 * or for anyone's message (from ANY), and dst runs in its place.
 */
static void handoff(struct proc *p, struct proc *dst, endpoint_t from, int answer)
{
    dst->linux_call = dst->awaiting_reply = 0;
    dst->getfrom = NONE;
    dst->ipc_deadline = 0;
    p->getfrom = from;
    p->awaiting_reply = answer;
    sched_handoff(p, dst);
}

/*
 * The fast path (seL4's fastpath is the model), from syscall_entry before
 * trap(): KC_SENDREC, or KC_REPLY_RECEIVE with nothing else waiting for the
 * caller, to a peer that already waits for it, both message buffers'
 * translations cached. One copy, no sender queue, no deadlock check, no
 * dispatch; the caller blocks and the peer runs in its place. It does what
 * the general path would do, or returns having changed nothing when anything
 * is unusual (a bound on the wait, a buffer not cached, a peer waiting for
 * someone else or held, a denial to trace), and trap() runs the call.
 */
_Static_assert(KCALL_BASE == 0x5a00 && KCALL_BASE + KC_SENDREC == 0x5a02 &&
                   KCALL_BASE + KC_REPLY_RECEIVE == 0x5a2b,
               "KCALL_BASE, FAST_SENDREC and FAST_REPLY_RECEIVE in entry.S");

void ipc_fastpath(void)
{
    struct proc *p = current, *dst;
    struct regs *r = &p->regs;
    int reply = r->rax == KCALL_BASE + KC_REPLY_RECEIVE;
    message_t *m, *to;
    if (!(dst = waiting_peer(p, (endpoint_t)r->rdi)) || p->user || p->inject || r->rdx ||
        r->rip >= USER_TOP) /* p->inject: a fault injected, for the general path to act on */
        return;
    if (!(reply && dst->awaiting_reply) && !priv_may_send(p, dst)) /* the reply rule */
        return;
    if ((reply && has_waiting(p)) || !msg_cached(p, r->rsi))
        return;
    m = p->buf_kva;
    if (dst->linux_call) { /* a Linux call's answer: its result to rax */
        dst->regs.rax = (uint64_t)m->u.reply.result;
    } else {
        if (!msg_cached(dst, dst->msgbuf))
            return;
        to = dst->buf_kva;
        uint64_t words = sizeof(*to) / 8; /* memcpy's rep movsq, without its call and tail */
        __asm__ volatile("rep movsq" : "+D"(to), "+S"(m), "+c"(words)::"memory");
        to[-1].source = p->ep; /* rep left `to` just past the copy */
        dst->regs.rax = 0;
    }
    p->msgbuf = r->rsi;
    if (reply)
        handoff(p, dst, ANY, 0);
    else
        handoff(p, dst, dst->ep, 1); /* sendrec: only dst's answer */
}

/*
 * A Linux system call's fast path (linux_fastpath, before trap()): to
 * server, waiting for anyone, its buffer cached. The message is built in
 * the server's buffer and p waits for the answer in rax (its call number
 * stays in regs.rax meanwhile). Otherwise nothing changed and trap() runs
 * the call (linux_syscall).
 */
void ipc_linux_fastpath(struct proc *p, endpoint_t server)
{
    struct regs *r = &p->regs;
    struct proc *dst = waiting_peer(p, server);
    message_t *k;
    if (!dst || dst->linux_call || r->rip >= USER_TOP || !msg_cached(dst, dst->msgbuf))
        return;
    k = dst->buf_kva;
    k->source = p->ep;
    k->type = MSG_LINUX_CALL;
    k->u.lx.nr = r->rax;
    k->u.lx.arg[0] = r->rdi;
    k->u.lx.arg[1] = r->rsi;
    __asm__("" ::: "memory"); /* not all loads first: no saved registers */
    k->u.lx.arg[2] = r->rdx;
    k->u.lx.arg[3] = r->r10;
    k->u.lx.arg[4] = r->r8;
    k->u.lx.arg[5] = r->r9;
    dst->regs.rax = 0;
    p->linux_call = 1;
    handoff(p, dst, server, 1);
}

/* t, blocked sending, leaves the queue it waits in. */
static void unqueue(struct proc *t)
{
    struct proc *dst;
    if (ep_lookup(t->sendto, &dst) == 0)
        for (struct proc **pp = &dst->senders; *pp; pp = &(*pp)->next_sender)
            if (*pp == t) {
                *pp = t->next_sender;
                break;
            }
    t->next_sender = 0;
    t->sendto = NONE;
    t->in_sendrec = 0;
}

/*
 * KC_PROC_REGS(REGS_INTERRUPT) for pm, before it delivers a signal to t:
 * a Linux call of t still waiting in a server's queue is withdrawn and
 * fails with -EINTR (1); one a server already holds is reported (2). In
 * both cases the rax and rbx fields of the user_regs at uaddr get the
 * server's endpoint and the call number.
 */
int64_t ipc_interrupt(struct proc *t, struct proc *caller, uint64_t uaddr)
{
    uint64_t report[2] = {(uint64_t)t->getfrom, t->regs.rax}; /* server, call number */
    if (!t->linux_call)
        return 0;
    if (t->flags & PS_SENDING)
        report[0] = (uint64_t)t->sendto;
    if (copy_to_user(caller, uaddr, report, sizeof(report)) < 0)
        return -E_FAULT;
    if (t->flags & PS_SENDING) {
        unqueue(t);
        t->linux_call = t->lx_again = 0; /* a held call (linux_hold) ends: its mark goes too */
        wake(t, -LINUX_EINTR);
        return 1;
    }
    return 2;
}

/*
 * A bounded sendrec's deadline passed (timer_tick): withdraw the request if
 * it still waits in the callee's queue, stop waiting for the reply if the
 * callee has it, and fail with E_TIMEDOUT. A late reply then finds nobody
 * waiting (the callee's sendnb gets E_AGAIN).
 */
void ipc_timeout(struct proc *p)
{
    p->ipc_deadline = 0;
    if (p->flags & PS_SENDING)
        unqueue(p);
    else if (!(p->flags & PS_RECEIVING) || !p->awaiting_reply)
        return;
    p->getfrom = NONE;
    p->awaiting_reply = 0;
    wake(p, p->linux_call ? -LINUX_EIO : -E_TIMEDOUT); /* a held Linux call (linux_hold) */
    p->linux_call = p->lx_again = 0;                   /* not resent: its mark goes too */
}

/* A new vfs is named: every held Linux call's `syscall` runs again (2 bytes back). */
void ipc_resend_held(void)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct proc *q = &proc_table[i];
        if (q->in_use && q->linux_call && (q->flags & PS_SENDING) && q->sendto == NONE) {
            q->linux_call = 0;
            q->regs.rip -= 2;
            wake(q, (int64_t)q->regs.rax);
        }
    }
}

/* A Linux system call (see linux.c): m goes to server, the reply to rax. */
int64_t ipc_linux_call(struct proc *p, endpoint_t server, const message_t *m)
{
    struct proc *dst;
    if (ep_lookup(server, &dst) < 0 || dst == p)
        return linux_hold(p, server, 0) ? KC_BLOCKED : -LINUX_EIO;
    p->linux_call = 1;
    int64_t r = post(p, dst, m, 0, 0, 1);
    if (r != KC_BLOCKED) /* cannot happen for a blocking sendrec; be safe */
        p->linux_call = 0;
    return r;
}

/* Take a pending notification matching src into m; 1 if there was one. */
static int take_notification(struct proc *p, endpoint_t src, message_t *m)
{
    if ((src == ANY || src == SYSTEM) && p->sys_pending) {
        notify_message(m, SYSTEM, p->sys_pending);
        p->sys_pending = 0;
        return 1;
    }
    if ((src == ANY || src == HARDWARE) && p->irq_pending) {
        notify_message(m, HARDWARE, p->irq_pending);
        p->irq_pending = 0;
        return 1;
    }
    for (int w = 0; w < NR_SLOTS / 64; w++) {
        uint64_t bits = p->notify_pending[w];
        if (src != ANY) {
            int s = src > 0 ? EP_SLOT(src) : -1;
            bits &= (s >= 0 && s / 64 == w) ? 1ull << (s % 64) : 0;
        }
        if (bits) {
            int slot = w * 64 + __builtin_ctzll(bits);
            p->notify_pending[w] &= ~(1ull << (slot % 64));
            notify_message(m, proc_table[slot].ep, 0);
            return 1;
        }
    }
    return 0;
}

int64_t ipc_receive(struct proc *p, endpoint_t src, uint64_t msgp, uint64_t flags)
{
    struct proc *s;
    message_t m;
    if (src != ANY && src != SYSTEM && src != HARDWARE) {
        int r = ep_lookup(src, &s);
        if (r < 0)
            return r;
    }
    if (src == p->ep)
        return -E_DEADLK;
    if (flags & ~(uint64_t)RECV_NONBLOCK)
        return refuse(p, 3, -E_INVAL);
    if (!msg_buffer(p, msgp) && !user_range_mapped(p, msgp, sizeof(message_t), 1))
        return refuse(p, 2, -E_FAULT);
    if (take_notification(p, src, &m))
        return msg_put(p, msgp, &m, m.source);
    for (struct proc **pp = &p->senders; (s = *pp); pp = &s->next_sender) {
        if (src != ANY && s->ep != src)
            continue;
        *pp = s->next_sender;
        s->next_sender = 0;
        s->sendto = NONE;
        int r = (int)msg_put(p, msgp, &s->msg, s->ep);
        if (s->in_sendrec) {
            s->in_sendrec = 0;
            await_reply(s, p->ep); /* stays blocked */
        } else {
            wake(s, 0);
        }
        return r;
    }
    if (flags & RECV_NONBLOCK)
        return -E_AGAIN;
    p->getfrom = src;
    p->msgbuf = msgp;
    proc_block(p, PS_RECEIVING);
    return KC_BLOCKED;
}

int64_t ipc_notify(struct proc *p, endpoint_t dst_ep)
{
    struct proc *dst;
    int64_t r = check_target(p, dst_ep, 0, &dst);
    if (r < 0)
        return r;
    if (waits_for_notify(dst, p->ep)) {
        message_t m;
        notify_message(&m, p->ep, 0);
        deliver(dst, &m, p->ep);
    } else {
        dst->notify_pending[p->slot / 64] |= 1ull << (p->slot % 64);
    }
    return 0;
}

/* A notification from the kernel itself (src is SYSTEM or HARDWARE). */
void notify_from_kernel(struct proc *dst, endpoint_t src, uint32_t bits)
{
    uint32_t *pending = src == SYSTEM ? &dst->sys_pending : &dst->irq_pending;
    *pending |= bits;
    if (waits_for_notify(dst, src)) {
        message_t m;
        notify_message(&m, src, *pending);
        *pending = 0;
        deliver(dst, &m, src);
    }
}

/* dead is gone: fail everyone waiting on it and forget its notifications. */
void ipc_cleanup(struct proc *dead)
{
    for (struct proc *s = dead->senders; s;) {
        struct proc *next = s->next_sender;
        s->next_sender = 0;
        s->sendto = NONE;
        s->in_sendrec = 0;
        if (!s->linux_call || !linux_hold(s, dead->ep, 0)) {
            wake(s, s->linux_call ? linux_orphaned(dead->ep) : -E_DEADEP);
            s->linux_call = 0;
        }
        s = next;
    }
    dead->senders = 0;
    for (int i = 0; i < NR_SLOTS; i++) {
        struct proc *q = &proc_table[i];
        if (!q->in_use || q == dead)
            continue;
        q->notify_pending[dead->slot / 64] &= ~(1ull << (dead->slot % 64));
        q->priv.ipc_to[dead->slot / 64] &= ~(1ull << (dead->slot % 64)); /* slot: reused */
        if ((q->flags & PS_RECEIVING) && q->getfrom == dead->ep) {
            q->getfrom = NONE;
            q->awaiting_reply = 0;
            if (!q->linux_call || !linux_hold(q, dead->ep, 1)) {
                wake(q, q->linux_call ? linux_orphaned(dead->ep) : -E_DEADEP);
                q->linux_call = 0;
            }
        }
        for (struct proc **pp = &q->senders; *pp; pp = &(*pp)->next_sender)
            if (*pp == dead) {
                *pp = dead->next_sender;
                break;
            }
    }
}

/* Self-check: every queued sender is blocked sending to the queue's owner. */
int ipc_check(void)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct proc *q = &proc_table[i];
        int n = 0;
        for (struct proc *s = q->senders; s; s = s->next_sender)
            if (!q->in_use || !(s->flags & PS_SENDING) || s->sendto != q->ep || ++n > NR_SLOTS)
                return -E_INVAL;
    }
    return 0;
}
