/*
 * tty: the serial console driver. One minor (0), the 16550 UART on COM1
 * (uart.c: ports 0x3f8-0x3ff, IRQ 4), served through libchardriver with the
 * CDEV_* protocol (samsara/fs.h); vfs exposes it as /dev/console and
 * /dev/tty. Its privileges are drivers/tty/tty.conf. QEMU: -serial stdio.
 *
 * This file: main and the chardriver callbacks. A read suspends until the
 * line discipline (line.c) has what the mode asks for: a line in canonical
 * mode; VMIN bytes, or a byte and VTIME, or VTIME alone in raw mode (VTIME
 * uses the process's alarm). A write is done once its bytes are in the
 * output ring and suspends only while the ring is full. Up to TTY_QUEUE
 * reads and as many writes wait, each served in turn (then -EBUSY); VTIME
 * runs for the first waiting read only.
 */
#include "tty.h"

static uint64_t vtime_ticks(void)
{
    return (uint64_t)tty.tio.c_cc[VTIME] * TTY_HZ / 10;
}
static int raw_mode(void)
{
    return !(tty.tio.c_lflag & ICANON);
}

/* Copy what the read can return now to the requester and consume it. */
static int64_t transfer(const struct chardriver_req *r)
{
    static uint8_t buf[TTY_IN_SIZE];
    unsigned elems;
    unsigned len = r->size < TTY_IN_SIZE ? (unsigned)r->size : TTY_IN_SIZE;
    unsigned n = tty_peek(buf, len, &elems);
    if (chardriver_copy_to(r, 0, buf, n) < 0)
        return -LX_EFAULT; /* the input stays */
    tty_consume(elems);
    return n;
}

/* The read's result if it can finish now, else CDEV_SUSPENDED. */
static int64_t read_now(const struct chardriver_req *r, int timed_out)
{
    if (!raw_mode())
        return tty.lines ? transfer(r) : CDEV_SUSPENDED;
    uint64_t vmin = tty.tio.c_cc[VMIN], avail = tty_readable();
    if (vmin == 0)
        return avail || timed_out || !vtime_ticks() ? transfer(r) : CDEV_SUSPENDED;
    uint64_t need = vmin < r->size ? vmin : r->size;
    return avail >= need || (timed_out && avail) ? transfer(r) : CDEV_SUSPENDED;
}

static void arm_deadline(void)
{
    tty.rd_deadline = sys_uptime() + vtime_ticks();
    sys_alarm(vtime_ticks());
}

static void clear_deadline(void)
{
    if (tty.rd_deadline)
        sys_alarm(0);
    tty.rd_deadline = 0;
}

/* rdq[0] has just become the read that moves: start its VTIME timer. */
static void head_started(void)
{
    clear_deadline();
    if (!tty.nrd || !raw_mode() || !vtime_ticks())
        return;
    if (!tty.tio.c_cc[VMIN] || tty_readable())
        arm_deadline(); /* VTIME alone: from the start; with VMIN: from a byte */
}

static void remove_at(struct chardriver_req *q, unsigned *n, unsigned i)
{
    for (; i + 1 < *n; i++)
        q[i] = q[i + 1];
    (*n)--;
}

static void read_progress(int timed_out, unsigned arrived)
{
    while (tty.nrd) {
        int64_t n = read_now(&tty.rdq[0], timed_out);
        if (n == CDEV_SUSPENDED) {
            /* VMIN and VTIME: the timer runs from the last byte received */
            if (raw_mode() && arrived && tty.tio.c_cc[VMIN] && vtime_ticks() && tty_readable())
                arm_deadline();
            return;
        }
        uint64_t id = tty.rdq[0].id;
        remove_at(tty.rdq, &tty.nrd, 0);
        head_started();
        chardriver_done(id, n);
        timed_out = 0;
    }
}

static int64_t tty_read(const struct chardriver_req *r)
{
    if (r->size == 0)
        return 0;
    if (tty_uart_poll()) /* bytes whose interrupt is still on its way */
        tty_events();
    if (!tty.nrd) {
        int64_t n = read_now(r, 0);
        if (n != CDEV_SUSPENDED)
            return n;
    }
    if (r->flags & CDEV_NONBLOCK)
        return -LX_EAGAIN;
    if (tty.nrd == TTY_QUEUE)
        return -LX_EBUSY;
    tty.rdq[tty.nrd++] = *r;
    if (tty.nrd == 1)
        head_started();
    return CDEV_SUSPENDED;
}

/* Queue more of a write's bytes; 0, or -LX_EFAULT if its grant failed. */
static int write_some(const struct chardriver_req *r, uint64_t *done)
{
    static uint8_t buf[256];
    while (*done < r->size) {
        if (!tty_out_free())
            tty_uart_kick();
        uint64_t chunk = r->size - *done, space = tty_out_free();
        if (!space)
            break;
        chunk = chunk < sizeof(buf) ? chunk : sizeof(buf);
        chunk = chunk < space ? chunk : space;
        if (chardriver_copy_from(r, *done, buf, chunk) < 0)
            return -LX_EFAULT;
        uint64_t i = 0;
        while (i < chunk && tty_output(buf[i]))
            i++;
        *done += i;
        if (i < chunk && !tty_out_free()) {
            tty_uart_kick();
            if (!tty_out_free())
                break;
        } else if (i < chunk) {
            break; /* a CR NL needs two bytes of room */
        }
    }
    tty_uart_kick();
    return 0;
}

static int64_t tty_write(const struct chardriver_req *r)
{
    if (r->size == 0)
        return 0;
    if (tty.nwr) { /* behind the waiting ones, so output keeps its order */
        if (r->flags & CDEV_NONBLOCK)
            return -LX_EAGAIN;
        if (tty.nwr == TTY_QUEUE)
            return -LX_EBUSY;
        tty.wrq[tty.nwr++] = *r;
        return CDEV_SUSPENDED;
    }
    uint64_t done = 0;
    int e = write_some(r, &done);
    if (e < 0 || done == r->size)
        return done ? (int64_t)done : e;
    if (r->flags & CDEV_NONBLOCK)
        return done ? (int64_t)done : -LX_EAGAIN;
    tty.wrq[tty.nwr++] = *r;
    tty.wr_done = done;
    return CDEV_SUSPENDED;
}

static void write_progress(void)
{
    while (tty.nwr) {
        int e = write_some(&tty.wrq[0], &tty.wr_done);
        if (e == 0 && tty.wr_done < tty.wrq[0].size)
            return;
        uint64_t id = tty.wrq[0].id, done = tty.wr_done;
        remove_at(tty.wrq, &tty.nwr, 0);
        tty.wr_done = 0;
        chardriver_done(id, done ? (int64_t)done : e);
    }
}

void tty_events(void)
{
    tty_drain_progress();
    read_progress(0, 0);
    write_progress();
    tty_drain_progress();
    tty_uart_kick();
    if (tty_can_read())
        chardriver_select_ready(0, SEL_RD);
    if (tty_out_free())
        chardriver_select_ready(0, SEL_WR);
}

static int64_t tty_cancel(int minor, endpoint_t source, uint64_t id)
{
    (void)minor;
    for (unsigned i = 0; i < tty.nrd; i++)
        if (tty.rdq[i].id == id && tty.rdq[i].source == source) {
            remove_at(tty.rdq, &tty.nrd, i);
            if (i == 0)
                head_started();
            return -LX_EINTR;
        }
    for (unsigned i = 0; i < tty.nwr; i++)
        if (tty.wrq[i].id == id && tty.wrq[i].source == source) {
            uint64_t done = i == 0 ? tty.wr_done : 0;
            remove_at(tty.wrq, &tty.nwr, i);
            if (i == 0)
                tty.wr_done = 0;
            return done ? (int64_t)done : -LX_EINTR;
        }
    return tty_drain_cancel(source, id);
}

static unsigned tty_select(int minor, unsigned ops)
{
    (void)minor;
    if (tty_uart_poll())
        tty_events();
    unsigned ready = 0;
    if ((ops & SEL_RD) && tty_can_read())
        ready |= SEL_RD;
    if ((ops & SEL_WR) && tty_out_free())
        ready |= SEL_WR;
    return ready;
}

static void tty_interrupt(uint32_t irqs)
{
    unsigned arrived = 0;
    if (irqs & (1u << TTY_IRQ)) {
        arrived = tty_uart_service();
        driver_irq_ack("tty", TTY_IRQ);
    }
    read_progress(0, arrived);
    tty_events();
}

static void tty_alarm(uint64_t now)
{
    (void)now;
    if (!tty.nrd || !tty.rd_deadline)
        return;
    uint64_t t = sys_uptime();
    if (t < tty.rd_deadline) {
        sys_alarm(tty.rd_deadline - t); /* an older alarm: wait on */
        return;
    }
    tty.rd_deadline = 0;
    read_progress(1, 0);
}

static int64_t tty_ioctl_cb(const struct chardriver_req *r)
{
    int64_t res = tty_ioctl(r);
    tty_events(); /* new settings may finish a read */
    return res;
}

/* vfs, and ttytest (tests/servers/ttytest), which speaks CDEV_* as vfs does */
static const char *const clients[] = {"vfs", "ttytest", 0};

static const struct chardriver tty_driver = {
    .name = "tty",
    .clients = clients,
    .minors = 1,
    .read = tty_read,
    .write = tty_write,
    .ioctl = tty_ioctl_cb,
    .cancel = tty_cancel,
    .select = tty_select,
    .interrupt = tty_interrupt,
    .alarm = tty_alarm,
};

int main(uint64_t arg)
{
    (void)arg;
    tty_line_init(); /* a restart starts from the defaults too: the device is reset below */
    int r = tty_uart_init();
    if (r < 0) {
        printf("tty: %s\n", r == -1 ? "no 16550 UART at 0x3f8" : "cannot take IRQ 4");
        return 1;
    }
    service_startup("tty", 0); /* tell rs it is ready (and learn whether this is a restart) */
    chardriver_task(&tty_driver);
}
