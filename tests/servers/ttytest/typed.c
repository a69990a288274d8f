/*
 * ttytest, the tests with typed input. Each prompt("KEY") prints
 * "ttytest: type KEY"; tools/suite_tty.py then writes the bytes it has for
 * KEY to the serial port (the table there must match the comments here).
 */
#include "ttytest.h"

/* A read (op_wait or read_line into o) brought exactly want: its length, then its bytes. */
#define EXPECT_READ(read, o, want)                                                                 \
    do {                                                                                           \
        EXPECT(read, strlen(want));                                                                \
        CHECK(!memcmp((o)->buf, want, strlen(want)));                                              \
    } while (0)

static void set_raw(int vmin, int vtime)
{
    struct lx_termios t = default_termios;
    t.lflag &= ~(uint32_t)(L_ICANON | L_ECHO);
    t.cc[C_VMIN] = (uint8_t)vmin;
    t.cc[C_VTIME] = (uint8_t)vtime;
    set_termios(&t);
}

/* "hello" = hello CR: select's "tell me" reports the line. */
static void t_select_notify(void)
{
    reset_tty();
    EXPECT(cdev(CDEV_SELECT, 0, SEL_RD, 1, 0, 0, 0, 0), 0);
    prompt("hello");
    uint64_t minor = 9, ops = 0;
    CHECK(wait_status(CDEV_ST_SELECT, ~0ull, &minor, &ops));
    EXPECT(minor, 0);
    EXPECT(ops, SEL_RD);
    int32_t n = -1;
    EXPECT(ioctl_ptr(T_FIONREAD, &n, sizeof(n)), 0);
    EXPECT(n, 6);
    EXPECT(cdev(CDEV_SELECT, 0, SEL_RD | SEL_WR, 1, 0, 0, 0, 0), SEL_RD | SEL_WR);
}

/* The line typed for select_notify, with ICRNL's newline. */
static void t_canon_read(void)
{
    static struct op o;
    EXPECT_READ(read_line(&o, 64), &o, "hello\n");
    int32_t n = -1;
    EXPECT(ioctl_ptr(T_FIONREAD, &n, sizeof(n)), 0);
    EXPECT(n, 0);
}

/* A read that waits while key is typed, then brings want. */
static void read_while_typed(const char *key, const char *want)
{
    static struct op o;
    EXPECT(op_start(&o, CDEV_READ, 64, 0), CDEV_SUSPENDED);
    prompt(key);
    EXPECT_READ(op_wait(&o), &o, want);
}

/* "world" = world CR, typed while the read waits. */
static void t_read_blocks(void)
{
    read_while_typed("world", "world\n");
}

/* "two" = one CR two CR: two waiting reads get a line each, in order */
static void t_read_queue(void)
{
    static struct op a, b;
    EXPECT(op_start(&a, CDEV_READ, 64, 0), CDEV_SUSPENDED);
    EXPECT(op_start(&b, CDEV_READ, 64, 0), CDEV_SUSPENDED);
    prompt("two");
    EXPECT_READ(op_wait(&a), &a, "one\n");
    EXPECT_READ(op_wait(&b), &b, "two\n");
}

/* "edits" = abx DEL c ^H d CR, junk ^U ok CR, one two ^W three CR,
 * x TAB DEL DEL y CR */
static void t_erase_kill(void)
{
    static struct op o;
    reset_tty();
    prompt("edits");
    EXPECT_READ(read_line(&o, 64), &o, "abd\n");
    EXPECT_READ(read_line(&o, 64), &o, "ok\n");
    EXPECT_READ(read_line(&o, 64), &o, "one three\n");
    EXPECT_READ(read_line(&o, 64), &o, "y\n");
}

/* "eof" = ^D a b ^D: end of file, then a pushed partial line */
static void t_eof(void)
{
    static struct op o;
    reset_tty();
    prompt("eof");
    EXPECT(read_line(&o, 64), 0);
    EXPECT_READ(read_line(&o, 64), &o, "ab");
}

/* "intr" = z z ^C: SIGINT to the foreground group, the input flushed;
 * "afterintr" = ok CR completes the read that waited meanwhile. */
static void t_intr(void)
{
    static struct op o;
    reset_tty();
    int32_t pg = 42;
    EXPECT(ioctl_ptr(T_TIOCSPGRP, &pg, sizeof(pg)), 0);
    EXPECT(op_start(&o, CDEV_READ, 64, 0), CDEV_SUSPENDED);
    prompt("intr");
    uint64_t sig = 0;
    CHECK(wait_status(CDEV_ST_SIGNAL, 42, 0, &sig));
    EXPECT(sig, 2);
    prompt("afterintr");
    EXPECT_READ(op_wait(&o), &o, "ok\n");
}

/* "quit" = ^\ ^Z: SIGQUIT and SIGTSTP */
static void t_quit_susp(void)
{
    reset_tty();
    prompt("quit");
    uint64_t a = 0, b = 0;
    CHECK(wait_status(CDEV_ST_SIGNAL, 42, 0, &a));
    CHECK(wait_status(CDEV_ST_SIGNAL, 42, 0, &b));
    EXPECT(a + b, 3 + 20);
    CHECK(a == 3 || b == 3);
}

/* "xyz" = x y z, raw with VMIN 3: one read returns all three */
static void t_raw_vmin(void)
{
    reset_tty();
    set_raw(3, 0);
    read_while_typed("xyz", "xyz");
}

/* "xycr" = x y CR: ICRNL applies in raw mode too */
static void t_raw_icrnl(void)
{
    static struct op o;
    prompt("xycr");
    EXPECT_READ(read_line(&o, 16), &o, "xy\n");
}

static void t_raw_vmin0(void)
{
    static struct op o;
    set_raw(0, 0);
    EXPECT(op_start(&o, CDEV_READ, 16, 0), 0); /* a poll: nothing there */
}

static void t_raw_vtime(void)
{
    static struct op o;
    set_raw(0, 3); /* 0.3 s */
    uint64_t t0 = sys_uptime();
    EXPECT(op_start(&o, CDEV_READ, 16, 0), CDEV_SUSPENDED);
    EXPECT(op_wait(&o), 0);
    uint64_t dt = sys_uptime() - t0;
    CHECK(dt >= 250 && dt < 5000);
}

/* "ab" = a b with VMIN 5, VTIME 3: the inter-byte timer ends the read */
static void t_raw_interbyte(void)
{
    set_raw(5, 3);
    read_while_typed("ab", "ab");
}

/* "junk" = j u n k in raw mode; TCSETSF throws it away */
static void t_tcsetsf(void)
{
    static struct op o;
    set_raw(1, 0);
    EXPECT(cdev(CDEV_SELECT, 0, SEL_RD, 1, 0, 0, 0, 0), 0);
    prompt("junk");
    CHECK(wait_status(CDEV_ST_SELECT, 0, 0, 0));
    int32_t n = 0;
    for (int i = 0; i < 200 && n < 4; i++) {
        EXPECT(ioctl_ptr(T_FIONREAD, &n, sizeof(n)), 0);
        if (n < 4)
            sleep_ticks(10);
    }
    EXPECT(n, 4);
    struct lx_termios t;
    EXPECT(get_termios(&t), 0);
    EXPECT(ioctl_ptr(T_TCSETSF, &t, sizeof(t)), 0);
    EXPECT(ioctl_ptr(T_FIONREAD, &n, sizeof(n)), 0);
    EXPECT(n, 0);
    EXPECT(op_start(&o, CDEV_READ, 16, CDEV_NONBLOCK), -LX_EAGAIN);
}

/* "stop" = ^S g o CR: output stops (IXON), so writes fill the output ring;
 * "start" = ^Q lets it go. Non-blocking writes are partial then -EAGAIN, a
 * blocking write and TCSETSW (drain) wait, select's SEL_WR watch fires. */
static void t_write_blocks(void)
{
    static struct op o;
    static uint8_t dots[3000];
    reset_tty();
    prompt("stop");
    EXPECT_READ(read_line(&o, 64), &o, "go\n");
    memset(dots, '.', sizeof(dots));
    grant_id_t g = grant_alloc(tty_ep, dots, sizeof(dots), GRANT_READ);
    /* the ring holds 2048 bytes; the echo "go" CR NL took 4 */
    EXPECT(cdev(CDEV_WRITE, 0, 901, (uint64_t)g, sizeof(dots), CDEV_NONBLOCK, 0, 0), 2044);
    EXPECT(cdev(CDEV_WRITE, 0, 902, (uint64_t)g, 10, CDEV_NONBLOCK, 0, 0), -LX_EAGAIN);
    grant_free(g);
    memset(o.buf, '+', 100);
    EXPECT(op_start(&o, CDEV_WRITE, 100, 0), CDEV_SUSPENDED);
    static struct op o2, o3; /* a second writer waits behind the first */
    memset(o2.buf, '#', 5);
    EXPECT(op_start(&o2, CDEV_WRITE, 5, 0), CDEV_SUSPENDED);
    EXPECT(op_start(&o3, CDEV_WRITE, 5, CDEV_NONBLOCK), -LX_EAGAIN);
    EXPECT(cdev(CDEV_SELECT, 0, SEL_WR, 1, 0, 0, 0, 0), 0);
    struct lx_termios t = default_termios;
    g = grant_alloc(tty_ep, &t, sizeof(t), GRANT_READ | GRANT_WRITE);
    int64_t r = cdev(CDEV_IOCTL, 0, 903, 0x5403 /* TCSETSW */, (uint64_t)g, sizeof(t), 0, 0);
    grant_free(g); /* the driver copied the settings in already */
    EXPECT(r, CDEV_SUSPENDED);
    prompt("start");
    EXPECT(op_wait(&o), 100);
    EXPECT(op_wait(&o2), 5);
    uint64_t ops = 0, result = 1;
    CHECK(wait_status(CDEV_ST_SELECT, 0, 0, &ops));
    EXPECT(ops, SEL_WR);
    CHECK(wait_status(CDEV_ST_DONE, 903, 0, &result));
    EXPECT(result, 0);
}

/* "secret" = hidden-word CR with ECHO off (the host checks it is not echoed) */
static void t_noecho(void)
{
    static struct op o;
    reset_tty();
    struct lx_termios t = default_termios;
    t.lflag &= ~(uint32_t)L_ECHO;
    EXPECT(set_termios(&t), 0);
    prompt("secret");
    EXPECT_READ(read_line(&o, 64), &o, "hidden-word\n");
    reset_tty();
}

const struct test typed_tests[] = {
    {"select_notify", t_select_notify},
    {"canon_read", t_canon_read},
    {"read_blocks", t_read_blocks},
    {"read_queue", t_read_queue},
    {"erase_kill", t_erase_kill},
    {"eof", t_eof},
    {"intr", t_intr},
    {"quit_susp", t_quit_susp},
    {"raw_vmin", t_raw_vmin},
    {"raw_icrnl", t_raw_icrnl},
    {"raw_vmin0", t_raw_vmin0},
    {"raw_vtime", t_raw_vtime},
    {"raw_interbyte", t_raw_interbyte},
    {"tcsetsf", t_tcsetsf},
    {"noecho", t_noecho},
    {"write_blocks", t_write_blocks},
    {0},
};
