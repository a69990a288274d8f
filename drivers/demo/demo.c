/*
 * demo: a character driver with state, for showing reincarnation. Each
 * read of minor 0 adds one to a counter and returns it as text ("42\n").
 * The counter is kept in ds ("LABEL.counter") before the answer leaves, so a
 * restarted instance reads it back and goes on where the dead one stopped:
 * a client sees every value once, in order.
 *
 * Writes are commands that misbehave on purpose, for rs's tests:
 *   "hang"       loop for ever (missed heartbeats)
 *   "busy MS"    compute for MS milliseconds, then answer (load, not a hang)
 *   "violate N"  make N kernel calls it has no right to (privilege denials)
 *   "signal G S" ask vfs to send signal S to process group G (a driver that
 *                is not a terminal has no right to: vfs refuses and counts it)
 *   "lie N"      answer the next read with N, whatever was asked (vfs must
 *                not copy more than it asked for)
 *   "mute"       take the next read and never answer it, nor any request
 *                after it, while still answering rs's heartbeats (vfs must
 *                not wait for ever: it gives up and complains)
 * With the argument "crash" it dies during its start-up, every time.
 *
 * Before a planned stop it records in ds ("LABEL.clean") that it stopped
 * cleanly; a restarted instance reports whether its predecessor did, which
 * is what a real driver needs to know to decide whether to reset its device.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "chardriver/chardriver.h"
#include "format/format.h"

static uint64_t counter;
static uint64_t lie; /* the next read's answer, if not 0 ("lie N") */
static int mute;     /* "mute": the next read is never answered */
static char key[DS_KEY_MAX]; /* "demo.counter": keys under a label belong to that service */
static char clean_key[DS_KEY_MAX]; /* "demo.clean": 1 after a planned stop */

/* Alive for rs, dead to everyone else: requests are taken and dropped. */
static _Noreturn void ignore_requests(void)
{
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) == 0)
            service_handle(&m);
    }
}

static int64_t demo_read(const struct chardriver_req *r)
{
    char text[24];
    if (mute)
        ignore_requests();
    if (lie) {
        int64_t n = (int64_t)lie;
        lie = 0;
        return n;
    }
    counter++;
    if (ds_publish_u64(key, counter, DS_OVERWRITE) < 0) {
        counter--; /* not kept: not given out either */
        return -LX_EIO;
    }
    int n = snprintf_s(text, sizeof(text), "%lu\n", counter);
    if ((uint64_t)n > r->size)
        return -LX_EINVAL;
    return sys_safecopy_to(r->source, r->grant, 0, text, (uint64_t)n) < 0 ? -LX_EFAULT : n;
}

static uint64_t number(const char *s)
{
    uint64_t v = 0;
    while (*s == ' ')
        s++;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

static int64_t demo_write(const struct chardriver_req *r)
{
    char cmd[32] = {0};
    uint64_t n = r->size < sizeof(cmd) - 1 ? r->size : sizeof(cmd) - 1;
    if (sys_safecopy_from(r->source, r->grant, 0, cmd, n) < 0)
        return -LX_EFAULT;
    if (!strncmp(cmd, "hang", 4)) {
        for (volatile int spin = 1; spin;)
            ;
    } else if (!strncmp(cmd, "busy", 4)) {
        uint64_t until = sys_uptime() + number(cmd + 4);
        while (sys_uptime() < until)
            ;
    } else if (!strncmp(cmd, "signal", 6)) {
        const char *s = cmd + 6;
        while (*s == ' ')
            s++;
        uint64_t group = number(s);
        while (*s >= '0' && *s <= '9')
            s++;
        chardriver_signal((int32_t)group, (int)number(s));
    } else if (!strncmp(cmd, "mute", 4)) {
        mute = 1;
    } else if (!strncmp(cmd, "lie", 3)) {
        lie = number(cmd + 3);
    } else if (!strncmp(cmd, "violate", 7)) {
        for (uint64_t i = number(cmd + 7); i; i--)
            sys_ioport(IO_IN8, 0x60, 0); /* the keyboard's port: not ours */
    } else {
        return -LX_EINVAL;
    }
    return (int64_t)r->size;
}

static int init_restart(uint64_t restarts)
{
    if (ds_retrieve_u64(key, &counter) < 0)
        counter = 0; /* nothing kept yet (it died before its first answer) */
    uint64_t clean = 0;
    ds_retrieve_u64(clean_key, &clean);
    if (clean) /* (a crash is the common case: 1000 of them in a test, so no line for those) */
        printf("demo: restart %lu: the previous instance stopped cleanly, counter %lu\n", restarts,
               counter);
    return clean && ds_publish_u64(clean_key, 0, DS_OVERWRITE) < 0 ? -1 : 0;
}

static void save_state(void)
{
    ds_publish_u64(key, counter, DS_OVERWRITE); /* kept at every change already */
    ds_publish_u64(clean_key, 1, DS_OVERWRITE);
}

/* vfs (/dev/demo), and rs's test programs, which read and command it directly */
static const char *const clients[] = {"vfs", "demotest", "rstest", 0};
static const struct chardriver demo = {
    .name = "demo", .clients = clients, .minors = 1, .read = demo_read, .write = demo_write};
static const struct service_callbacks callbacks = {.init_restart = init_restart,
                                                   .save_state = save_state};

int main(uint64_t arg)
{
    if (!strcmp((const char *)arg, "crash"))
        return 3; /* dies during start-up, before it is ready */
    snprintf_s(key, sizeof(key), "%s.counter", "demo");
    snprintf_s(clean_key, sizeof(clean_key), "%s.clean", "demo");
    service_startup(&callbacks);
    chardriver_task(&demo);
    return 0;
}
