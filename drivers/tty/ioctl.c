/*
 * The tty's ioctls, with Linux numbers and the Linux kernel's argument
 * layouts (termios.h). vfs passes the argument through a grant of w4 bytes
 * (it knows each request's size); requests whose argument is a value, not a
 * pointer (TCSBRK, TCXONC, TCFLSH, TIOCSCTTY), read it from w6. Unknown
 * requests get -ENOTTY, as from any non-terminal.
 *
 * TCSETSW, TCSETSF and TCSBRK (tcdrain) wait until no write waits and the
 * output ring is empty; one such ioctl may wait at a time. The c_cflag speed
 * and size bits are kept but not applied: the UART stays at 115200 8N1.
 */
#include "tty.h"

static int64_t get(const struct chardriver_req *r, void *v, uint64_t size)
{
    if (r->size < size)
        return -LX_EINVAL;
    return chardriver_copy_from(r, 0, v, size);
}

static int64_t put(const struct chardriver_req *r, const void *v, uint64_t size)
{
    if (r->size < size)
        return -LX_EINVAL;
    return chardriver_copy_to(r, 0, v, size);
}

static void drain_apply(void)
{
    if (tty.drain_op == TCSETSF)
        tty_flush_input();
    if (tty.drain_op == TCSETSW || tty.drain_op == TCSETSF)
        tty_set_termios(&tty.drain_tio);
}

/* Finish the waiting drain ioctl once the output is out. */
void tty_drain_progress(void)
{
    if (!tty.drain_active || tty.out_count || tty.nwr)
        return;
    tty.drain_active = 0;
    drain_apply();
    chardriver_done(tty.drain_req.id, 0);
}

int64_t tty_drain_cancel(endpoint_t source, uint64_t id)
{
    if (tty.drain_active && tty.drain_req.id == id && tty.drain_req.source == source)
        tty.drain_active = 0;
    return -LX_EINTR;
}

/* Apply op now if the output is empty, else suspend until it is (the
 * caller has checked that no other drain waits). */
static int64_t after_drain(const struct chardriver_req *r, int op)
{
    tty.drain_op = op;
    tty_uart_kick();
    if (!tty.out_count && !tty.nwr) {
        drain_apply();
        return 0;
    }
    tty.drain_active = 1;
    tty.drain_req = *r;
    return CDEV_SUSPENDED;
}

static int64_t flush(uint64_t which)
{
    if (which > TCIOFLUSH)
        return -LX_EINVAL;
    if (which != TCOFLUSH)
        tty_flush_input();
    if (which != TCIFLUSH)
        tty_flush_output();
    return 0;
}

int64_t tty_ioctl(const struct chardriver_req *r)
{
    struct tty_termios t;
    struct tty_winsize w;
    int32_t v;
    int64_t e;
    switch (r->request) {
    case TCGETS:
        return put(r, &tty.tio, sizeof(tty.tio));
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        if ((e = get(r, &t, sizeof(t))) < 0)
            return e;
        if (r->request == TCSETS) {
            tty_set_termios(&t);
            return 0;
        }
        if (tty.drain_active)
            return -LX_EBUSY;
        tty.drain_tio = t;
        return after_drain(r, (int)r->request);
    case TCSBRK: /* tcdrain(); a break is not sent */
        if (tty.drain_active)
            return -LX_EBUSY;
        return after_drain(r, TCSBRK);
    case TCXONC:
        if (r->arg == TCOOFF || r->arg == TCOON)
            tty.stopped = r->arg == TCOOFF;
        return r->arg <= 3 ? 0 : -LX_EINVAL;
    case TCFLSH:
        return flush(r->arg);
    case TIOCGWINSZ:
        return put(r, &tty.ws, sizeof(tty.ws));
    case TIOCSWINSZ:
        if ((e = get(r, &w, sizeof(w))) < 0)
            return e;
        if (memcmp(&w, &tty.ws, sizeof(w)) && tty.pgrp > 0)
            chardriver_signal(tty.pgrp, TTY_SIGWINCH);
        tty.ws = w;
        return 0;
    case TIOCGPGRP:
        return put(r, &tty.pgrp, sizeof(tty.pgrp));
    case TIOCSPGRP:
        if ((e = get(r, &v, sizeof(v))) < 0)
            return e;
        if (v <= 0)
            return -LX_EINVAL;
        tty.pgrp = v;
        return 0;
    case FIONREAD:
        v = (int32_t)tty_readable();
        return put(r, &v, sizeof(v));
    case TIOCSCTTY: /* the caller's group becomes the foreground */
        if (r->pgrp > 0)
            tty.pgrp = r->pgrp;
        return 0;
    case TIOCNOTTY:
        return 0;
    default:
        return -LX_ENOTTY;
    }
}
