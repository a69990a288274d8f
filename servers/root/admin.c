/*
 * /dev/service: the administrator's interface to rs, for the `service`
 * tool (user/service.c). vfs routes the device (major 10, minor 240) here
 * with the CDEV_* protocol. A write is one command line; the next reads
 * return its answer as text, then end of file. Nothing ever waits.
 *
 *   list | log | restart [-f] LABEL | kill [-f] LABEL | down [-f] LABEL | up LABEL
 *   update [-f] LABEL SIZE   then SIZE bytes of the new program, in further writes
 *   trace LABEL on|off|FROM  the device-access trace (trace.c)
 *   inject LABEL KIND [COUNT [SEED]]  fault injection, with inject=1 at boot (inject.c)
 *
 * -f forces stopping a service that would not come back (service_admin).
 * Only vfs may send these requests (root_dispatch checks it; vfs lets only
 * root open the device, mode 0600). One answer buffer serves everyone (the
 * answer of the last command).
 */
#include <samsara/fs.h>
#include <samsara/linux.h>
#include "root.h"

static char answer[8192];
static uint64_t answer_len;
static int receiving_program; /* the writes are the bytes of an update */

static void add(const char *text)
{
    uint64_t n = strlen(text);
    if (answer_len + n < sizeof(answer)) {
        memcpy(answer + answer_len, text, n);
        answer_len += n;
    }
}

/* The words of a command line (spaces, tabs, newlines between): how many, or -1 past max. */
static int split(char *line, char **word, int max)
{
    int n = 0;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        if (n == max)
            return -1;
        word[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    return n;
}

/* A decimal size of at most 20 digits, no sign: 0 and *out, or -1. */
int admin_decimal(const char *text, uint64_t *out)
{
    uint64_t n = 0;
    int digits = 0;
    for (; *text >= '0' && *text <= '9'; text++, digits++) {
        if (n > (~0ull - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*text - '0');
    }
    *out = n;
    return digits && !*text ? 0 : -1;
}

static void say(const char *fmt, const char *a, const char *b, const char *c)
{
    char buf[320]; /* a refusal names what would be lost (admin_refusal) */
    snprintf_s(buf, sizeof(buf), fmt, a, b, c);
    add(buf);
}

/* `update [-f] LABEL SIZE`: the next writes are the program's bytes. */
static void command_update(char **word, int n, int force)
{
    uint64_t size;
    const char *why = 0;
    if (n != 3 || admin_decimal(word[2], &size) < 0) {
        say("error: update%s%s: usage: update [-f] LABEL SIZE\n", n > 1 ? " " : "",
            n > 1 ? word[1] : "", 0);
        return;
    }
    int r = service_update_begin(word[1], size, force, &why);
    receiving_program = r == 0;
    if (r == 0)
        say("update %s: send the bytes\n", word[1], 0, 0);
    else if (why)
        say("error: update %s: refused: %s\n", word[1], why, 0);
    else
        say("error: update %s: %s\n", word[1],
            r == -E_SRCH ? "no such service" : "bad size or no memory", 0);
}

/* `chaos LABEL COUNT MIN_MS MAX_MS [start]`: COUNT kills of LABEL at random instants, in its
 * start-up too with `start` (service_chaos); `chaos` alone: the last campaign's report. */
static void command_chaos(char **word, int n)
{
    uint64_t count, lo, hi;
    const char *why;
    if (n == 1) {
        char buf[160];
        if (service_chaos_report(buf, sizeof(buf)) > 0)
            add(buf);
        else
            add("error: chaos: no campaign yet\n");
        return;
    }
    int start = n == 6 && !strcmp(word[5], "start");
    if ((n != 5 && !start) || admin_decimal(word[2], &count) < 0 ||
        admin_decimal(word[3], &lo) < 0 || admin_decimal(word[4], &hi) < 0) {
        add("error: chaos: usage: chaos LABEL COUNT MIN_MS MAX_MS [start]\n");
        return;
    }
    int r = service_chaos(word[1], count, lo, hi, start, &why);
    if (r == 0)
        say("chaos %s: %s\n", word[1], count ? "started" : "stopped", 0);
    else if (why)
        say("error: chaos %s: refused: %s\n", word[1], why, 0);
    else
        say(r == -E_SRCH ? "error: chaos %s: no such service\n"
                         : "error: chaos %s: COUNT up to 1000000, 1 <= MIN_MS <= MAX_MS <= 60000\n",
            word[1], 0, 0);
}

static void command(char *line)
{
    static const struct {
        const char *verb;
        int op;
    } ops[] = {{"restart", SVC_RESTART},
               {"kill", SVC_KILL},
               {"down", SVC_DOWN},
               {"up", SVC_UP},
               {"scramble", SVC_KILL | SVC_SCRAMBLE}}; /* a test hook: kill, header garbled */
    char *word[6];
    int n = split(line, word, 6), force = 0;
    answer_len = 0;
    if (n <= 0) {
        add(n < 0 ? "error: too many words\n" : "error: empty command\n");
        return;
    }
    if (n > 2 && !strcmp(word[1], "-f")) { /* VERB -f LABEL ...: the force flag */
        force = 1;
        for (int i = 1; i + 1 < n; i++)
            word[i] = word[i + 1];
        n--;
    }
    if (!strcmp(word[0], "update")) {
        command_update(word, n, force);
        return;
    }
    if (!strcmp(word[0], "chaos")) {
        command_chaos(word, n);
        return;
    }
    if (!strcmp(word[0], "trace")) { /* trace.c */
        command_trace(word, n, add);
        return;
    }
    if (!strcmp(word[0], "inject")) { /* inject.c */
        uint64_t count = 1, seed = 0;
        char buf[160];
        if (n < 3 || (n > 3 && admin_decimal(word[3], &count) < 0) ||
            (n > 4 && admin_decimal(word[4], &seed) < 0)) {
            add("error: inject: usage: inject LABEL KIND [COUNT [SEED]]\n");
            return;
        }
        inject_command(word[1], word[2], count, seed, buf, sizeof(buf));
        add(buf);
        return;
    }
    if ((!strcmp(word[0], "list") || !strcmp(word[0], "log")) && n == 1) {
        char buf[160];
        int log = word[0][1] == 'o';
        if (!log)
            add("label      endpoint state    restarts last failure     last_us mean_us beats "
                "policy    data\n");
        for (uint64_t i = 0; service_line(log, i, buf, sizeof(buf)) > 0; i++)
            add(buf);
        return;
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(word[0], ops[i].verb))
            continue;
        if (n != 2) {
            say("error: %s needs one service label\n", word[0], 0, 0);
            return;
        }
        const char *why;
        int r = service_admin(ops[i].op & ~SVC_SCRAMBLE, word[1], force, &why);
        if (r == 0 && (ops[i].op & SVC_SCRAMBLE))
            state_scramble(word[1]); /* before its death is reaped: the next one starts fresh */
        if (r == 0)
            say("%s %s: done\n", word[0], word[1], 0);
        else if (why)
            say("error: %s %s: refused: %s\n", word[0], word[1], why);
        else
            say(r == -E_SRCH ? "error: %s %s: no such running service\n"
                             : "error: %s %s: refused\n",
                word[0], word[1], 0);
        return;
    }
    say("error: unknown command '%s' (list, log, restart, kill, down, up, update, scramble, "
        "chaos, trace, inject)\n",
        word[0], 0, 0);
}

void admin_request(message_t *m)
{
    message_t r = {.type = CDEV_REPLY};
    int64_t res = 0;
    const struct msg_cdev_rw *rw = &m->u.cdev.rw; /* read, write */
    grant_id_t g = rw->grant >= 0 && rw->grant <= 0x7fffffff ? (grant_id_t)rw->grant : -1;
    uint64_t len = rw->len;
    switch (m->type) {
    case CDEV_OPEN:
        res = m->u.cdev.open.minor == 0 ? 0 : -LX_ENXIO;
        break;
    case CDEV_CLOSE: /* the writer of an update is gone before its last byte: no update */
        if (receiving_program) {
            receiving_program = 0;
            service_update_abort();
            answer_len = 0;
            add("error: update: aborted (closed before the whole program came)\n");
        }
        res = m->u.cdev.close.minor == 0 ? 0 : -LX_ENXIO;
        break;
    case CDEV_WRITE: {
        if (receiving_program) { /* a piece of the new program */
            static uint8_t chunk[4096];
            uint64_t n = len < sizeof(chunk) ? len : sizeof(chunk);
            if (sys_safecopy_from(m->source, g, 0, chunk, n) < 0) {
                res = -LX_EFAULT;
                break;
            }
            int r = service_update_data(chunk, n);
            if (r <= 0) {
                receiving_program = 0;
                answer_len = 0;
                add(r == 0 ? "update: done; the service runs its new program\n"
                           : "error: update: the program is not a static x86-64 ELF\n");
            }
            res = (int64_t)n;
            break;
        }
        char line[128];
        if (len >= sizeof(line)) {
            answer_len = 0;
            add("error: command too long\n");
            res = (int64_t)len;
            break;
        }
        if (sys_safecopy_from(m->source, g, 0, line, len) < 0) {
            res = -LX_EFAULT;
            break;
        }
        line[len] = '\0';
        command(line);
        res = (int64_t)len;
        break;
    }
    case CDEV_READ: {
        uint64_t n = len < answer_len ? len : answer_len;
        if (n && sys_safecopy_to(m->source, g, 0, answer, n) < 0) {
            res = -LX_EFAULT;
            break;
        }
        for (uint64_t i = n; i < answer_len; i++) /* what is left moves to the front */
            answer[i - n] = answer[i];
        answer_len -= n;
        res = (int64_t)n;
        break;
    }
    case CDEV_SELECT:
        res = SEL_RD | SEL_WR;
        break;
    case CDEV_STATUS:
        r.u.cdev.status.result = CDEV_ST_NONE;
        reply_hold(m->source, &r);
        return;
    case CDEV_IOCTL:
        res = -LX_ENOTTY;
        break;
    default:
        res = -LX_EINVAL;
    }
    r.u.cdev.reply.result = res;
    reply_hold(m->source, &r);
}
