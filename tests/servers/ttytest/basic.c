/*
 * ttytest, the tests that need no typing: open, ioctls, writes (the host
 * checks the bytes on the wire), non-blocking and cancelled reads, select
 * on an idle terminal, and malformed requests.
 */
#include "ttytest.h"

static void t_open(void)
{
    EXPECT(cdev(CDEV_OPEN, 0, 0, 0, 0, 0, 0, 0), 0); /* we become the signal target */
    EXPECT(cdev(CDEV_OPEN, 3, 0, 0, 0, 0, 0, 0), -LX_ENXIO);
    EXPECT(cdev(CDEV_CLOSE, 0, 0, 0, 0, 0, 0, 0), 0);
    EXPECT(cdev(CDEV_OPEN, 0, 0, 0, 0, 0, 0, 0), 0);
}

static void t_tcgets_defaults(void)
{
    struct lx_termios t;
    _Static_assert(sizeof(t) == 36, "kernel termios");
    memset(&t, 0xee, sizeof(t));
    EXPECT(get_termios(&t), 0);
    EXPECT(t.iflag, default_termios.iflag);
    EXPECT(t.oflag, default_termios.oflag);
    EXPECT(t.cflag, default_termios.cflag);
    EXPECT(t.lflag, default_termios.lflag);
    EXPECT(t.line, 0);
    for (int i = 0; i < 19; i++)
        EXPECT(t.cc[i], default_termios.cc[i]);
}

static void t_tcsets_roundtrip(void)
{
    struct lx_termios t = default_termios, back;
    t.lflag &= ~(uint32_t)L_ECHO;
    t.cc[C_VMIN] = 5;
    t.cc[2] = 8; /* VERASE = ^H */
    t.iflag = 0;
    EXPECT(set_termios(&t), 0);
    EXPECT(get_termios(&back), 0);
    EXPECT(memcmp(&t, &back, sizeof(t)), 0);
    EXPECT(set_termios(&default_termios), 0);
    EXPECT(get_termios(&back), 0);
    EXPECT(memcmp(&default_termios, &back, sizeof(back)), 0);
}

static void t_winsize(void)
{
    struct lx_winsize w = {0, 0, 0, 0};
    EXPECT(ioctl_ptr(T_TIOCGWINSZ, &w, sizeof(w)), 0);
    EXPECT(w.row, 24);
    EXPECT(w.col, 80);
    struct lx_winsize set = {30, 100, 0, 0};
    EXPECT(ioctl_ptr(T_TIOCSWINSZ, &set, sizeof(set)), 0);
    EXPECT(ioctl_ptr(T_TIOCGWINSZ, &w, sizeof(w)), 0);
    EXPECT(w.row, 30);
    EXPECT(w.col, 100);
    set.row = 24;
    set.col = 80;
    EXPECT(ioctl_ptr(T_TIOCSWINSZ, &set, sizeof(set)), 0);
}

static void t_pgrp(void)
{
    int32_t v = 42;
    EXPECT(ioctl_ptr(T_TIOCSPGRP, &v, sizeof(v)), 0);
    v = 0;
    EXPECT(ioctl_ptr(T_TIOCGPGRP, &v, sizeof(v)), 0);
    EXPECT(v, 42);
    v = 0;
    EXPECT(ioctl_ptr(T_TIOCSPGRP, &v, sizeof(v)), -LX_EINVAL);
    EXPECT(ioctl_val(T_TIOCSCTTY, 0, 77), 0); /* the caller's group (w5) */
    EXPECT(ioctl_ptr(T_TIOCGPGRP, &v, sizeof(v)), 0);
    EXPECT(v, 77);
    EXPECT(ioctl_val(T_TIOCNOTTY, 0, 77), 0);
    v = 42;
    EXPECT(ioctl_ptr(T_TIOCSPGRP, &v, sizeof(v)), 0);
}

static void t_ioctl_errors(void)
{
    uint8_t junk[64];
    EXPECT(ioctl_ptr(0x1234, junk, sizeof(junk)), -LX_ENOTTY);
    EXPECT(ioctl_ptr(0x5401 | (1u << 31), junk, sizeof(junk)), -LX_ENOTTY);
    EXPECT(cdev(CDEV_IOCTL, 0, 1, 0x100005401ull, 0, 36, 0, 0), -LX_ENOTTY);
    EXPECT(ioctl_ptr(T_TCGETS, junk, 8), -LX_EINVAL); /* argument too small */
    int32_t n = -1;
    EXPECT(ioctl_ptr(T_FIONREAD, &n, sizeof(n)), 0);
    EXPECT(n, 0);
}

static void t_write(void)
{
    EXPECT(write_str("onlcr-on:1\nonlcr-on:2\n"), 22);
    struct lx_termios t = default_termios;
    t.oflag = O_OPOST; /* no ONLCR: NL goes out alone */
    EXPECT(set_termios(&t), 0);
    EXPECT(write_str("onlcr-off:1\nonlcr-off:2\n"), 24);
    EXPECT(set_termios(&default_termios), 0);
}

/* More than the output ring holds: done when all of it is queued. */
static void t_write_big(void)
{
    static char text[3000];
    for (int i = 0; i < 3000; i++)
        text[i] = (i % 75 == 74) ? '\n' : (char)('a' + i % 26);
    grant_id_t g = grant_alloc(tty_ep, text, sizeof(text), GRANT_READ);
    int64_t r = cdev(CDEV_WRITE, 0, 777, (uint64_t)g, sizeof(text), 0, 0, 0);
    uint64_t result = 0;
    if (r == CDEV_SUSPENDED)
        r = wait_status(CDEV_ST_DONE, 777, 0, &result) ? (int64_t)result : IPC_FAILED;
    grant_free(g);
    EXPECT(r, 3000);
}

static void t_read_nonblock(void)
{
    static struct op o;
    EXPECT(op_start(&o, CDEV_READ, 16, CDEV_NONBLOCK), -LX_EAGAIN);
    EXPECT(op_start(&o, CDEV_READ, 0, 0), 0); /* nothing asked, nothing waits */
}

static void t_select_idle(void)
{
    EXPECT(cdev(CDEV_SELECT, 0, SEL_RD | SEL_WR, 0, 0, 0, 0, 0), SEL_WR);
    EXPECT(cdev(CDEV_SELECT, 0, SEL_RD, 0, 0, 0, 0, 0), 0);
    EXPECT(cdev(CDEV_SELECT, 4, SEL_RD, 0, 0, 0, 0, 0), -LX_ENXIO);
}

static void t_cancel_read(void)
{
    static struct op o;
    EXPECT(op_start(&o, CDEV_READ, 16, 0), CDEV_SUSPENDED);
    EXPECT(op_cancel(&o), -LX_EINTR);
    EXPECT(cdev(CDEV_CANCEL, 0, o.id, 0, 0, 0, 0, 0), -LX_EINVAL); /* nothing left */
    EXPECT(cdev(CDEV_STATUS, 0, 0, 0, 0, 0, 0, 0), CDEV_ST_NONE);  /* no status follows */
}

static void t_garbage(void)
{
    static struct op a, b, c;
    EXPECT(cdev(CDEV_RQ_BASE + 0x77, 1, 2, 3, 4, 5, 6, 7), -LX_ENOSYS);
    EXPECT(cdev(0, 0, 0, 0, 0, 0, 0, 0), -LX_ENOSYS);
    EXPECT(cdev(CDEV_READ, 9, 1, 0, 16, 0, 0, 0), -LX_ENXIO);
    EXPECT(cdev(CDEV_READ, 1ull << 40, 1, 0, 16, 0, 0, 0), -LX_ENXIO);
    EXPECT(cdev(CDEV_OPEN, ~0ull, 0, 0, 0, 0, 0, 0), -LX_ENXIO);
    EXPECT(cdev(CDEV_CLOSE, 1ull << 63, 0, 0, 0, 0, 0, 0), -LX_ENXIO);
    EXPECT(cdev(CDEV_WRITE, 0, 1, 4000, 5, 0, 0, 0), -LX_EFAULT); /* no such grant */
    EXPECT(cdev(CDEV_WRITE, 0, 1, ~0ull, 5, 0, 0, 0), -LX_EFAULT);
    EXPECT(cdev(CDEV_WRITE, 0, 1, 0, 1ull << 40, 0, 0, 0), -LX_EINVAL);
    EXPECT(cdev(CDEV_IOCTL, 0, 1, T_TCGETS, 4000, 36, 0, 0), -LX_EFAULT);
    EXPECT(cdev(CDEV_CANCEL, 0, 123456, 0, 0, 0, 0, 0), -LX_EINVAL);
    /* the same id twice; a second read queues behind the first */
    EXPECT(op_start(&a, CDEV_READ, 16, 0), CDEV_SUSPENDED);
    EXPECT(cdev(CDEV_READ, 0, a.id, (uint64_t)a.grant, 16, 0, 0, 0), -LX_EINVAL);
    EXPECT(op_start(&b, CDEV_READ, 16, 0), CDEV_SUSPENDED);
    EXPECT(op_start(&c, CDEV_READ, 16, CDEV_NONBLOCK), -LX_EAGAIN);
    EXPECT(op_cancel(&b), -LX_EINTR);
    EXPECT(op_cancel(&a), -LX_EINTR);
    EXPECT(ipc_notify(tty_ep), 0); /* a notification is not a request */
    EXPECT(cdev(CDEV_STATUS, 0, 0, 0, 0, 0, 0, 0), CDEV_ST_NONE);
    struct lx_termios t;
    EXPECT(get_termios(&t), 0); /* still alive and well */
    EXPECT(t.lflag, default_termios.lflag);
}

/*
 * A mailbox (CDEV_MAILBOX, as vfs lends one): the driver writes our status
 * items into our memory and we never ask. A full box keeps the rest in the
 * driver until we say we took some; then they come, in order.
 */
static void t_status_mailbox(void)
{
    static struct cdev_mailbox box;
    memset(&box, 0, sizeof(box));
    grant_id_t g = grant_alloc(tty_ep, &box, sizeof(box), GRANT_READ | GRANT_WRITE);
    int32_t fg = 0;
    EXPECT(ioctl_ptr(T_TIOCGPGRP, &fg, sizeof(fg)), 0);
    EXPECT(cdev(CDEV_MAILBOX, (uint64_t)g, sizeof(box) - 1, 0, 0, 0, 0, 0), -LX_EINVAL);
    EXPECT(cdev(CDEV_MAILBOX, 99999, sizeof(box), 0, 0, 0, 0, 0), -LX_EFAULT); /* no such grant */
    EXPECT(cdev(CDEV_MAILBOX, (uint64_t)g, sizeof(box), 0, 0, 0, 0, 0), 0);
    EXPECT(ioctl_val(T_TIOCSCTTY, 0, 55), 0);
    struct lx_winsize w[2] = {{25, 80, 0, 0}, {24, 80, 0, 0}};
    for (int i = 0; i <= CDEV_MAILBOX_ITEMS; i++) /* one SIGWINCH more than the box holds */
        EXPECT(ioctl_ptr(T_TIOCSWINSZ, &w[i % 2], sizeof(w[0])), 0);
    EXPECT(box.head, CDEV_MAILBOX_ITEMS);
    for (int i = 0; i < CDEV_MAILBOX_ITEMS; i++) {
        EXPECT(box.item[i].kind, CDEV_ST_SIGNAL);
        EXPECT(box.item[i].w1, 55);
        EXPECT(box.item[i].w2, 28); /* SIGWINCH */
    }
    EXPECT(cdev(CDEV_STATUS, 0, 0, 0, 0, 0, 0, 0), CDEV_ST_SIGNAL); /* the one kept back */
    EXPECT(ioctl_ptr(T_TIOCSWINSZ, &w[1], sizeof(w[0])), 0);
    EXPECT(ioctl_ptr(T_TIOCSWINSZ, &w[0], sizeof(w[0])), 0); /* two more, kept back */
    box.tail = CDEV_MAILBOX_ITEMS;                           /* took them all */
    EXPECT(ipc_notify(tty_ep), 0);                     /* room: the driver writes what it kept */
    EXPECT(cdev(CDEV_SELECT, 0, 0, 0, 0, 0, 0, 0), 0); /* (after the notification) */
    EXPECT(box.head, CDEV_MAILBOX_ITEMS + 2);
    EXPECT(box.item[0].kind, CDEV_ST_SIGNAL);
    EXPECT(cdev(CDEV_MAILBOX, 0, 0, 0, 0, 0, 0, 0), 0); /* back to CDEV_STATUS */
    EXPECT(ioctl_ptr(T_TIOCSWINSZ, &w[1], sizeof(w[0])), 0);
    EXPECT(box.head, CDEV_MAILBOX_ITEMS + 2);
    EXPECT(cdev(CDEV_STATUS, 0, 0, 0, 0, 0, 0, 0), CDEV_ST_SIGNAL);
    EXPECT(ioctl_ptr(T_TIOCSPGRP, &fg, sizeof(fg)), 0);
    grant_free(g);
}

const struct test basic_tests[] = {
    {"open", t_open},
    {"tcgets_defaults", t_tcgets_defaults},
    {"tcsets_roundtrip", t_tcsets_roundtrip},
    {"winsize", t_winsize},
    {"pgrp", t_pgrp},
    {"ioctl_errors", t_ioctl_errors},
    {"write", t_write},
    {"write_big", t_write_big},
    {"read_nonblock", t_read_nonblock},
    {"select_idle", t_select_idle},
    {"cancel_read", t_cancel_read},
    {"garbage", t_garbage},
    {"status_mailbox", t_status_mailbox},
    {0},
};
