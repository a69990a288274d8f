/*
 * trace: a driver's kernel-mediated device operations and refusals, from the
 * kernel's trace ring through rs (docs/TRACE.md).
 *   trace LABEL          turn the tracing of LABEL's device operations on and
 *                        follow its entries live (across its restarts: every
 *                        new instance is traced too) until ^C, which turns the
 *                        tracing off again unless it was on before
 *   trace -n N LABEL     the last N entries of LABEL still in the ring, then exit
 *   trace -on|-off LABEL keep tracing LABEL (for a later -n), or no longer
 * It writes `trace LABEL on|off|FROM` to /dev/service (root's only) and turns
 * rs's answer (servers/root/trace.c) into lines: sequence number, time since
 * boot, endpoint, what. When the ring wrapped before it read, it says how
 * many entries it missed. Exit status 1 when rs answers with an error, 2 for
 * a usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MAX 9000
#define EPS 4

static volatile sig_atomic_t stop;
static int dev = -1;

struct header {
    unsigned long long next, missed;
    int traced, was, ep[EPS];
};

/* Write cmd to /dev/service and read the whole answer into buf; 0, or the exit status. */
static int ask(const char *cmd, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t n;
    if (write(dev, cmd, strlen(cmd)) < 0) {
        perror("trace: /dev/service");
        return 2;
    }
    while ((n = read(dev, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    if (n < 0) {
        perror("trace: /dev/service");
        return 2;
    }
    if (!strncmp(buf, "error:", 6)) {
        fputs(buf, stderr);
        return 1;
    }
    return 0;
}

/* ask() for "trace LABEL WORD", then the header of the answer into h; 0, or the exit status. */
static int ask_trace(const char *label, const char *word, char *answer, size_t size,
                     struct header *h)
{
    char cmd[96], name[32];
    snprintf(cmd, sizeof(cmd), "trace %s %s", label, word);
    int r = ask(cmd, answer, size);
    if (r)
        return r;
    if (sscanf(answer, "trace %31s next %llu missed %llu traced %d was %d ep %d %d %d %d", name,
               &h->next, &h->missed, &h->traced, &h->was, &h->ep[0], &h->ep[1], &h->ep[2],
               &h->ep[3]) != 9) {
        fprintf(stderr, "trace: rs's answer makes no sense\n");
        return 2;
    }
    return 0;
}

static const char *error_name(int err)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {{-1, "E_PERM"},   {-3, "E_SRCH"},  {-14, "E_FAULT"},    {-22, "E_INVAL"},
                 {-34, "E_RANGE"}, {-40, "E_LOOP"}, {-1001, "E_DEADEP"}, {-1002, "E_BADGRANT"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].err == err)
            return names[i].name;
    return "error";
}

/* One entry of rs's answer ("SEQ TICKS EP ERR CALL ARG A0 A1 A2") as a line for people. */
static int describe(const char *entry, char *out, size_t size, int *who)
{
    static const char *const io[] = {"in8", "in16", "in32", "out8", "out16", "out32"};
    static const char *const irq[] = {"enable", "disable", "ack"};
    static const unsigned long long mask[] = {0xff, 0xffff, 0xffffffff};
    unsigned long long seq, ticks, a[3];
    int ep, err;
    unsigned arg;
    char call[24], what[160];
    if (sscanf(entry, "%llu %llu %d %d %23s %u %llx %llx %llx", &seq, &ticks, &ep, &err, call, &arg,
               &a[0], &a[1], &a[2]) != 9)
        return -1;
    *who = ep;
    int is_io = !strcmp(call, "ioport") && a[0] < 6;
    if (is_io)
        snprintf(what, sizeof(what), "%s port 0x%llx %s 0x%llx", io[a[0]], a[1],
                 a[0] < 3 ? "->" : "<-", a[2] & mask[a[0] % 3]);
    else if (!strcmp(call, "irqctl") && a[0] < 3)
        snprintf(what, sizeof(what), "irq %llu %s", a[1], irq[a[0]]);
    else if (!strcmp(call, "mapphys"))
        snprintf(what, sizeof(what), "mmio map phys 0x%llx-0x%llx (%llu bytes) at 0x%llx", a[0],
                 a[0] + a[1] - 1, a[1], a[2]);
    else if (!strcmp(call, "dmaalloc") && !err)
        snprintf(what, sizeof(what), "dma alloc phys 0x%llx-0x%llx (%llu bytes) at 0x%llx", a[2],
                 a[2] + a[0] - 1, a[0], a[1]);
    else if (!strcmp(call, "send") || !strcmp(call, "sendrec") || !strcmp(call, "notify") ||
             !strcmp(call, "sendnb") || !strcmp(call, "reply_receive"))
        snprintf(what, sizeof(what), "ipc %s to endpoint %lld", call, (long long)(int)a[0]);
    else
        snprintf(what, sizeof(what), "%s (0x%llx, 0x%llx, 0x%llx)", call, a[0], a[1], a[2]);
    if (!err)
        snprintf(out, size, "%8llu [%5llu.%03llu] ep %-6d %s", seq, ticks / 1000, ticks % 1000, ep,
                 what);
    else
        snprintf(out, size, "%8llu [%5llu.%03llu] ep %-6d %s %s, argument %u: %s", seq,
                 ticks / 1000, ticks % 1000, ep, err == -1 ? "DENIED" : "REFUSED", error_name(err),
                 arg, what);
    return 0;
}

/* The entry lines of an answer, each given to fn; how many. */
static int entries(char *answer, void (*fn)(const char *line, int ep))
{
    int n = 0;
    char *line = strchr(answer, '\n'), out[256];
    int ep;
    while (line && *++line) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (describe(line, out, sizeof(out), &ep) == 0) {
            fn(out, ep);
            n++;
        }
        line = end;
    }
    return n;
}

/* Following: each line, after a word when it is a new instance's first. */
static const char *followed;
static int followed_ep;

static void print_line(const char *line, int ep)
{
    if (ep != followed_ep)
        printf("trace: %s has a new instance, endpoint %d\n", followed, ep);
    followed_ep = ep;
    printf("%s\n", line);
}

/* -n N: the last N, kept in a ring of lines. */
static char (*last)[256];
static unsigned long keep, kept;

static void keep_line(const char *line, int ep)
{
    (void)ep;
    snprintf(last[kept++ % keep], sizeof(last[0]), "%s", line);
}

static int tail(const char *label, unsigned long n)
{
    static char answer[ANSWER_MAX];
    char word[24];
    struct header h;
    unsigned long long from = 0, missed = 0;
    keep = n;
    last = calloc(n, sizeof(*last));
    if (!last) {
        fprintf(stderr, "trace: out of memory\n");
        return 2;
    }
    for (;;) {
        snprintf(word, sizeof(word), "%llu", from);
        int r = ask_trace(label, word, answer, sizeof(answer), &h);
        if (r)
            return r;
        missed += h.missed;
        int got = entries(answer, keep_line);
        if (!got && h.next == from)
            break;
        from = h.next;
    }
    if (missed)
        printf("trace: %llu older entries (anyone's) are gone from the ring\n", missed);
    for (unsigned long i = kept > keep ? kept - keep : 0; i < kept; i++)
        printf("%s\n", last[i % keep]);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int follow(const char *label)
{
    static char answer[ANSWER_MAX];
    char word[24];
    struct header h;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    int r = ask_trace(label, "on", answer, sizeof(answer), &h);
    if (r)
        return r;
    int was = h.was;
    followed = label;
    followed_ep = h.ep[0];
    unsigned long long from = h.next;
    printf("trace: %s, endpoint %d: following (^C stops)\n", label, followed_ep);
    fflush(stdout);
    while (!stop) {
        snprintf(word, sizeof(word), "%llu", from);
        if ((r = ask_trace(label, word, answer, sizeof(answer), &h)) != 0)
            break;
        if (h.missed)
            printf("trace: missed %llu entries (the ring wrapped)\n", h.missed);
        int got = entries(answer, print_line);
        fflush(stdout);
        from = h.next;
        if (!got)
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, 0);
    }
    if (!was)
        ask_trace(label, "off", answer, sizeof(answer), &h);
    return r;
}

static int usage(void)
{
    fprintf(stderr, "usage: trace LABEL | trace -n N LABEL | trace -on|-off LABEL\n");
    return 2;
}

int main(int argc, char **argv)
{
    static char answer[ANSWER_MAX];
    char *end;
    if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[1], "-n")) ||
        (argc == 3 && strcmp(argv[1], "-on") && strcmp(argv[1], "-off")))
        return usage();
    const char *label = argv[argc - 1];
    if (strlen(label) > 15 || strchr(label, ' ') || label[0] == '-')
        return usage();
    unsigned long n = 0;
    if (argc == 4) {
        errno = 0;
        n = strtoul(argv[2], &end, 10);
        if (errno || *end || !n || n > 100000 || argv[2][0] == '-')
            return usage();
    }
    dev = open("/dev/service", O_RDWR);
    if (dev < 0) {
        perror("trace: /dev/service");
        return 2;
    }
    if (argc == 4)
        return tail(label, n);
    if (argc == 3) {
        struct header h;
        int r = ask_trace(label, argv[1] + 1, answer, sizeof(answer), &h);
        if (!r)
            printf("trace: %s: tracing %s\n", label, argv[1][2] == 'n' ? "on" : "off");
        return r;
    }
    return follow(label);
}
