/*
 * A cap on half-open TCP connections (docs/INET.md, "What the wire may send"): a workaround for
 * lwIP 2.1.3, whose pcbs a SYN flood can take all of. A SYN to a listener makes a pcb in
 * SYN_RCVD with the listener's priority, and it stays until its SYN-ACK retries run out (over a
 * minute). lwIP's tcp_alloc, when its pool is empty, kills only pcbs of a strictly lower
 * priority (tcp_kill_prio), so with every pcb half-open, tcp_new (a socket, a connect) and
 * the SYNs of real connections (over loopback too) all fail. badnet's random frames did it with
 * a few hundred SYNs (inet.bad.still_works).
 *
 * After lwIP's work in each turn, inet aborts the oldest half-open connections beyond
 * HALF_OPEN_MAX, half of MEMP_NUM_TCP_PCB: the rest stays for connections that exist.
 */
#include "inet.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#define HALF_OPEN_MAX (MEMP_NUM_TCP_PCB / 2)

uint64_t half_open_aborted;

void tcp_cap_half_open(void)
{
    for (;;) {
        int half_open = 0;
        struct tcp_pcb *oldest = NULL;
        for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
            if (pcb->state != SYN_RCVD)
                continue;
            half_open++;
            if (!oldest || (u32_t)(tcp_ticks - pcb->tmr) >= (u32_t)(tcp_ticks - oldest->tmr))
                oldest = pcb;
        }
        if (half_open <= HALF_OPEN_MAX)
            return;
        tcp_abort(oldest); /* no socket has it yet: the listener's backlog count goes down */
        half_open_aborted++;
    }
}
