/*
 * /dev/service: the administrator's interface to rs, for the `service`
 * tool (user/service.c). vfs routes the device (major 10, minor 240) here
 * with the CDEV_* protocol. A write is one command line; the next reads
 * return its answer as text, then end of file. Nothing ever waits.
 *
 *   list | log | restart LABEL | kill LABEL | down LABEL | up LABEL
 *   update LABEL SIZE      then SIZE bytes of the new program, in further writes
 *
 * One answer buffer serves everyone (the answer of the last command).
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

static void command(char *line)
{
    char *verb = line, *label = line;
    while (*label && *label != ' ')
        label++;
    if (*label)
        *label++ = '\0';
    while (*label == ' ')
        label++;
    for (char *e = label; *e; e++)
        if (*e == ' ' || *e == '\n')
            *e = '\0';
    answer_len = 0;
    char buf[128];
    if (!strcmp(verb, "update")) {
        char *size = label;
        while (*size)
            size++;
        size++; /* after the label's NUL: the size, if the line had one */
        uint64_t n = 0;
        for (; *size >= '0' && *size <= '9'; size++)
            n = n * 10 + (uint64_t)(*size - '0');
        int r = service_update_begin(label, n);
        receiving_program = r == 0;
        snprintf_s(buf, sizeof(buf), r == 0 ? "update %s: send %s bytes\n"
                                     : "error: update %s: %s\n", label,
                   r == 0 ? "the" : r == -E_SRCH ? "no such service" : "bad size or no memory");
        add(buf);
        return;
    }
    if (!strcmp(verb, "list") || !strcmp(verb, "log")) {
        int log = verb[1] == 'o';
        if (!log)
            add("label      endpoint state    restarts last failure     last_us mean_us\n");
        for (uint64_t i = 0; service_line(log, i, buf, sizeof(buf)) > 0; i++)
            add(buf);
        return;
    }
    static const struct { const char *verb; int op; } ops[] = {
        {"restart", SVC_RESTART}, {"kill", SVC_KILL}, {"down", SVC_DOWN}, {"up", SVC_UP}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(verb, ops[i].verb))
            continue;
        if (!*label) {
            snprintf_s(buf, sizeof(buf), "error: %s needs a service label\n", verb);
            add(buf);
            return;
        }
        int r = service_admin(ops[i].op, label);
        snprintf_s(buf, sizeof(buf), r == 0 ? "%s %s: done\n"
                                     : r == -E_SRCH ? "error: %s %s: no such running service\n"
                                                    : "error: %s %s: refused\n",
                   verb, label);
        add(buf);
        return;
    }
    snprintf_s(buf, sizeof(buf), "error: unknown command '%s' (list, log, restart, kill, down, up)\n",
               verb);
    add(buf);
}

void admin_request(message_t *m)
{
    message_t r = {.type = CDEV_REPLY};
    int64_t res = 0;
    grant_id_t g = (grant_id_t)m->u.w[2];
    uint64_t len = m->u.w[3];
    switch (m->type) {
    case CDEV_OPEN:
    case CDEV_CLOSE:
        res = m->u.w[0] == 0 ? 0 : -LX_ENXIO;
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
        uint64_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
        if (sys_safecopy_from(m->source, g, 0, line, n) < 0) {
            res = -LX_EFAULT;
            break;
        }
        line[n] = '\0';
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
        memcpy(answer, answer + n, answer_len - n);
        answer_len -= n;
        res = (int64_t)n;
        break;
    }
    case CDEV_SELECT:
        res = SEL_RD | SEL_WR;
        break;
    case CDEV_STATUS:
        r.u.w[0] = CDEV_ST_NONE;
        ipc_sendnb(m->source, &r);
        return;
    case CDEV_IOCTL:
        res = -LX_ENOTTY;
        break;
    default:
        res = -LX_EINVAL;
    }
    r.u.w[0] = (uint64_t)res;
    ipc_sendnb(m->source, &r);
}
