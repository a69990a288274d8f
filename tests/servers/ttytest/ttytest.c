/*
 * ttytest: the tty driver's in-OS tests. It finds the driver with
 * ROOT_LOOKUP("tty") and speaks the CDEV_* protocol (samsara/fs.h) the way
 * vfs does: requests with sendrec, data through grants, and on
 * CDEV_SUSPENDED it waits for the driver's notify and pulls CDEV_STATUS.
 * Tests that need typed input print "ttytest: type WHAT" and wait; the
 * host (tools/suite_tty.py) writes the bytes for WHAT to QEMU's serial
 * port. lib/test runs the tables (basic.c, typed.c): "TEST tty.NAME
 * PASS|FAIL" per test, "ttytest: N passed, M failed", then it leaves QEMU
 * through port 0x501.
 * Boot: -initrd "build/root,build/tty,build/ttytest" (manifest "ttytest").
 */
#include "ttytest.h"

endpoint_t tty_ep;
static uint64_t next_id = 1000;

const struct lx_termios default_termios = {
    .iflag = 02400,   /* ICRNL | IXON */
    .oflag = 05,      /* OPOST | ONLCR */
    .cflag = 02277,   /* B38400 | CS8 | CREAD | HUPCL */
    .lflag = 0105073, /* ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN */
    .line = 0,
    .cc = {3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0},
};

/*
 * A request as raw words, so that tests can send what no typed struct would
 * (a minor of 2^40, a grant of ~0): each CDEV_* body of samsara/msg/cdev.h
 * keeps its fields one 64-bit word each, in the order the words come here.
 */
message_t cdev_reply;

int64_t cdev(int type, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4, uint64_t w5,
             uint64_t w6)
{
    message_t *m = &cdev_reply;
    *m = (message_t){.type = type, .u.w = {w0, w1, w2, w3, w4, w5, w6}};
    int r = ipc_sendrec(tty_ep, m);
    if (r < 0)
        return IPC_FAILED + r;
    if (m->type != CDEV_REPLY)
        return IPC_FAILED - 1000;
    return m->u.cdev.reply.result;
}

void sleep_ticks(uint64_t ticks)
{
    uint64_t end = sys_uptime() + ticks;
    while (sys_uptime() < end) {
        message_t m;
        sys_alarm(end - sys_uptime() + 1);
        ipc_receive(SYSTEM, &m);
    }
}

/* ---- statuses ---- */

static struct {
    int kind;
    uint64_t w1, w2;
} got[32];
static int ngot;

static void pull_statuses(void)
{
    const struct msg_cdev_status *st = &cdev_reply.u.cdev.status;
    for (int n = 0; n < 64 && cdev(CDEV_STATUS, 0, 0, 0, 0, 0, 0, 0) > CDEV_ST_NONE; n++)
        if (ngot < 32) {
            got[ngot].kind = (int)st->result;
            got[ngot].w1 = st->w1;
            got[ngot].w2 = st->w2;
            ngot++;
        }
}

int status_pending(void)
{
    return ngot;
}

/* Wait until the driver notifies us or the deadline passes. */
static int wait_notify(uint64_t deadline)
{
    for (;;) {
        uint64_t now = sys_uptime();
        if (now >= deadline)
            return 0;
        sys_alarm(deadline - now);
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 0;
        if (m.source == tty_ep && m.type == MSG_NOTIFY) {
            sys_alarm(0);
            return 1;
        }
    }
}

int wait_status(int kind, uint64_t w1, uint64_t *w1_out, uint64_t *w2_out)
{
    uint64_t deadline = sys_uptime() + WAIT_TICKS;
    for (;;) {
        pull_statuses();
        for (int i = 0; i < ngot; i++)
            if (got[i].kind == kind && (w1 == ~0ull || got[i].w1 == w1)) {
                if (w1_out)
                    *w1_out = got[i].w1;
                if (w2_out)
                    *w2_out = got[i].w2;
                got[i] = got[--ngot];
                return 1;
            }
        if (!wait_notify(deadline))
            return 0;
    }
}

/* ---- requests ---- */

/* Suspended operations not yet finished (their id and grant): after_test
 * cancels what a failed test left behind, so the next test starts clean. */
static struct {
    uint64_t id;
    grant_id_t grant; /* -1: free */
} outstanding[8] = {[0 ... 7] = {0, -1}};

static void track(const struct op *o, int on)
{
    for (int i = 0; i < 8; i++)
        if (on ? outstanding[i].grant < 0 : outstanding[i].id == o->id) {
            outstanding[i].id = on ? o->id : 0;
            outstanding[i].grant = on ? o->grant : -1;
            return;
        }
}

static void cancel_outstanding(void)
{
    for (int i = 0; i < 8; i++)
        if (outstanding[i].grant >= 0) {
            cdev(CDEV_CANCEL, 0, outstanding[i].id, 0, 0, 0, 0, 0);
            grant_free(outstanding[i].grant);
            outstanding[i].grant = -1;
        }
}

int64_t op_cancel(struct op *o)
{
    int64_t r = cdev(CDEV_CANCEL, 0, o->id, 0, 0, 0, 0, 0);
    track(o, 0);
    grant_free(o->grant);
    return r;
}

int64_t op_start(struct op *o, int type, uint64_t len, uint32_t flags)
{
    o->id = next_id++;
    o->grant =
        grant_alloc(tty_ep, o->buf, sizeof(o->buf), type == CDEV_READ ? GRANT_WRITE : GRANT_READ);
    int64_t r = cdev(type, 0, o->id, (uint64_t)o->grant, len, flags, 0, 0);
    if (r != CDEV_SUSPENDED)
        grant_free(o->grant);
    else
        track(o, 1);
    return r;
}

int64_t op_wait(struct op *o)
{
    uint64_t result;
    int ok = wait_status(CDEV_ST_DONE, o->id, 0, &result);
    if (!ok)
        return IPC_FAILED; /* still suspended: after_test cancels it */
    track(o, 0);
    grant_free(o->grant);
    return (int64_t)result;
}

int64_t read_line(struct op *o, uint64_t len)
{
    int64_t r = op_start(o, CDEV_READ, len, 0);
    return r == CDEV_SUSPENDED ? op_wait(o) : r;
}

int64_t write_str(const char *s)
{
    static struct op o;
    uint64_t len = strlen(s);
    memcpy(o.buf, s, len);
    int64_t r = op_start(&o, CDEV_WRITE, len, 0);
    return r == CDEV_SUSPENDED ? op_wait(&o) : r;
}

int64_t ioctl_ptr(uint32_t req, void *arg, uint64_t size)
{
    grant_id_t g = grant_alloc(tty_ep, arg, size ? size : 1, GRANT_READ | GRANT_WRITE);
    int64_t r = cdev(CDEV_IOCTL, 0, next_id++, req, (uint64_t)g, size, 0, 0);
    grant_free(g);
    return r;
}

int64_t ioctl_val(uint32_t req, uint64_t value, int32_t pgrp)
{
    return cdev(CDEV_IOCTL, 0, next_id++, req, 0, 0, (uint64_t)pgrp, value);
}

int get_termios(struct lx_termios *t)
{
    return (int)ioctl_ptr(T_TCGETS, t, sizeof(*t));
}
int set_termios(const struct lx_termios *t)
{
    struct lx_termios copy = *t;
    return (int)ioctl_ptr(T_TCSETS, &copy, sizeof(copy));
}

void reset_tty(void)
{
    set_termios(&default_termios);
    ioctl_val(T_TCFLSH, 0, 0); /* TCIFLUSH */
    pull_statuses();
    ngot = 0;
}

void prompt(const char *what)
{
    printf("ttytest: type %s\n", what);
}

static endpoint_t lookup(const char *name)
{
    for (int i = 0; i < 100; i++) {
        endpoint_t ep = root_lookup(name);
        if (ep > 0)
            return ep;
        sleep_ticks(10);
    }
    return -E_SRCH;
}

/* After each test: cancel what it left suspended, so the next starts clean. */
static void after_test(void)
{
    cancel_outstanding();
}

static const struct test *const groups[] = {basic_tests, typed_tests, 0};
static const struct test_suite tty_suite = {
    .program = "ttytest", .prefix = "tty.", .groups = groups, .after_each = after_test};

int main(uint64_t arg)
{
    tty_ep = lookup("tty");
    if (tty_ep <= 0)
        return test_abort(&tty_suite, "no tty driver");
    return test_main(&tty_suite, (const char *)arg);
}
