/*
 * `trace` of /dev/service (admin.c): one service's part of the kernel's
 * trace ring (docs/TRACE.md), for user/trace.c, which formats it.
 *
 *   trace LABEL on|off   trace its device operations (port I/O, IRQ control,
 *                        MMIO maps, DMA allocations), this instance's and the
 *                        next ones' (PRIV_DEV_TRACE), or no longer
 *   trace LABEL FROM     its entries with sequence number >= FROM
 *
 * The answer is a header line
 *   trace LABEL next NEXT missed M traced T was W ep E0 E1 E2 E3
 * (T, W: whether it is traced now, and was before this request; NEXT: where the next request
 * starts, as the answer stops when full; M: entries between FROM and the oldest still in the ring,
 * anyone's, lost to its wrapping; E0..E3: the endpoints of its last instances, newest first), then
 * one line per entry of those endpoints: SEQ TICKS EP ERR CALL ARG A0 A1 A2 CALL the kernel call's
 * manifest name, A0..A2 in hex (struct trace_entry).
 */
#include "manifest/manifest.h"
#include "root.h"

#define CHUNK 64     /* entries read from the kernel at a time */
#define LINES_MAX 40 /* entry lines per answer: they fit admin.c's 8 KiB */

static int ours(endpoint_t ep, const endpoint_t eps[TRACE_EPS])
{
    for (int i = 0; i < TRACE_EPS; i++)
        if (eps[i] > 0 && eps[i] == ep)
            return 1;
    return 0;
}

void command_trace(char **word, int n, void (*add)(const char *text))
{
    static struct trace_entry t[CHUNK];
    static char body[LINES_MAX * 160]; /* a line is at most 150 bytes */
    endpoint_t eps[TRACE_EPS];
    int traced, was, on = -1, lines = 0;
    uint64_t from = 0, missed = 0, used = 0;
    char line[128];
    if (n == 3 && (!strcmp(word[2], "on") || !strcmp(word[2], "off")))
        on = word[2][1] == 'n';
    if (n != 3 || (on < 0 && admin_decimal(word[2], &from) < 0)) {
        add("error: trace: usage: trace LABEL on|off|FROM\n");
        return;
    }
    if (service_trace(word[1], -1, eps, &was) < 0 || service_trace(word[1], on, eps, &traced) < 0) {
        snprintf_s(line, sizeof(line), "error: trace %s: no such service\n", word[1]);
        add(line);
        return;
    }
    struct sysinfo si;
    if (on >= 0 && sys_sysinfo(&si) == 0) /* following starts now */
        from = si.trace_seq;
    while (lines < LINES_MAX) {
        int64_t got = sys_trace_read(from, t, CHUNK);
        if (got <= 0)
            break;
        if (t[0].seq > from) /* the ring wrapped past them */
            missed += t[0].seq - from;
        for (int64_t i = 0; i < got && lines < LINES_MAX; i++) {
            from = t[i].seq + 1;
            if (!ours(t[i].ep, eps))
                continue;
            const char *name = manifest_kcall_name((int)t[i].op);
            used += (uint64_t)snprintf_s(body + used, sizeof(body) - used,
                                         "%lu %lu %d %d %s %u %lx %lx %lx\n", t[i].seq, t[i].ticks,
                                         t[i].ep, t[i].err, name ? name : "?", t[i].arg,
                                         t[i].args[0], t[i].args[1], t[i].args[2]);
            lines++;
        }
    }
    snprintf_s(line, sizeof(line), "trace %s next %lu missed %lu traced %d was %d ep %d %d %d %d\n",
               word[1], from, missed, traced, was, eps[0], eps[1], eps[2], eps[3]);
    add(line);
    add(body);
    body[0] = '\0';
}
