/*
 * inet: Samsara's TCP/IP server (docs/INET.md). lwIP 2.1 (Debian's source,
 * built by mk/lwip.mk) runs here with NO_SYS: no threads, one loop that
 * owns lwIP. Each turn of the loop (inet_step) takes one message, then
 * gives lwIP its work: timeouts that expired and packets the loopback
 * interface queued (lwIP's work comes last so that whoever turns the loop
 * sees its effects before the next wait). Time reaches lwIP two ways:
 * sys_now() reads the kernel's uptime, and a KC_ALARM armed for lwIP's
 * next timeout wakes the loop when no message comes first.
 *
 * While the loopback interface holds packets (or a timeout is due), the
 * loop does not wait: it polls for a message (rs's heartbeat must still be answered during a long
 * transfer on 127.0.0.1) and goes on delivering.
 *
 * What is here: the loop, lwIP's timers, the loopback interface
 * (127.0.0.1, made by lwip_init), an interface per network driver over the
 * NET protocol (netif.c), the sockets vfs asks for (the SOCK protocol,
 * sock*.c: each request answered at once, the status table flushed after
 * lwIP's work in each turn) and the self-tests.
 *
 * Who may send what: SOCK requests come from vfs only (sock.c checks and
 * refuses others). rs's heartbeats and save requests are answered by
 * service_receive; the kernel's alarm notification (source SYSTEM) only
 * wakes the loop; notifications from ds and from the drivers inet
 * initialised go to netif_message; every other message is refused
 * (logged, answered E_NOSYS if it is a request).
 */
#include <samsara/root.h>
#include "inet.h"
#include "netif.h"
#include "sock.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "sys.h"

static uint64_t alarm_at; /* uptime (ms) the armed KC_ALARM fires at; 0: none armed */

/* 1 if an interface holds packets looped back to lwIP (netif_poll_all delivers them). */
static int loopback_queued(void)
{
    struct netif *n;
    NETIF_FOREACH(n)
    {
        if (n->loop_first)
            return 1;
    }
    return 0;
}

/* Arm the one alarm for the sooner of lwIP's next timeout and the deadline (0: none). */
static void arm_alarm(uint64_t deadline)
{
    uint64_t now = sys_uptime(), want = deadline;
    uint32_t sleep = sys_timeouts_sleeptime();
    if (sleep != SYS_TIMEOUTS_SLEEPTIME_INFINITE && (!want || now + sleep < want))
        want = now + sleep;
    if (want && want <= now)
        want = now + 1;
    if (want == alarm_at)
        return;
    alarm_at = want;
    sys_alarm(want ? want - now : 0);
}

/* A message for inet itself: a socket request from vfs, or refused (a request answered). */
static void dispatch(const message_t *m)
{
    if (m->source == SYSTEM && m->type == MSG_NOTIFY) {
        if (m->u.notify.bits & NOTIFY_ALARM)
            alarm_at = 0; /* it fired: lwIP's timeouts run at the next turn */
        return;
    }
    if (sock_request(m)) /* vfs's socket calls (sock.c) */
        return;
    if (netif_message(m)) /* ds's announcements, drivers' mailboxes */
        return;
    service_refuse("inet", m, "not a request inet serves");
    if (m->type == MSG_NOTIFY)
        return;
    message_t reply = {.type = (m->type & ~0xffu) | 0xff}; /* the protocol's REPLY type */
    reply.u.reply.result = -E_NOSYS;
    reply_hold(m->source, &reply); /* a sender not waiting for it loses nothing of ours */
}

void inet_step(uint64_t deadline)
{
    message_t m;
    if (loopback_queued() || sys_timeouts_sleeptime() == 0 || netif_pending()) {
        if (ipc_receive_nb(ANY, &m) == 0 && !service_handle(&m))
            dispatch(&m);
    } else {
        arm_alarm(deadline);
        if (service_receive(&m) == 0)
            dispatch(&m);
    }
    /* lwIP's work last, so the caller sees its effects before the next wait */
    sys_check_timeouts();
    netif_poll_all();
    netif_work();
    tcp_cap_half_open(); /* a SYN flood must not take every pcb (synflood.c) */
    sock_flush();        /* what lwIP's work changed, into vfs's status table */
}

static int init_fresh(void)
{
    lwip_init(); /* also brings up lo, 127.0.0.1/8 */
    return 0;
}

/* A restart starts from nothing: connections of the dead instance are gone (a peer that sends
 * again is answered with a reset); drivers' interfaces come back as ds announces them. */
static int init_restart(uint64_t restarts)
{
    (void)restarts;
    return init_fresh();
}

static const struct service_callbacks callbacks = {
    .init_fresh = init_fresh,
    .init_restart = init_restart,
};

int main(uint64_t argp)
{
    const char *arg = argp ? (const char *)argp : "";
    uint64_t restarts = service_startup("inet", &callbacks);
    printf("inet: lwIP %s up, lo 127.0.0.1%s\n", LWIP_VERSION_STRING,
           restarts ? " (restarted)" : "");
    if (netif_configure(arg) >= 0) /* the interfaces: the manifest's args (docs/INET.md) */
        netif_start();
    if (!strncmp(arg, "selftest", 8) && (arg[8] == '\0' || arg[8] == ' ')) {
        char words[64];
        const char *rest = netif_other_words(arg[8] ? arg + 9 : "", words, sizeof(words));
        if (!strncmp(rest, "net", 3) && (rest[3] == '\0' || rest[3] == ' '))
            netif_selftest(rest + 3 + (rest[3] == ' '));
        else if (!strncmp(rest, "badnet", 6) && (rest[6] == '\0' || rest[6] == ' '))
            netif_badtest(rest + 6 + (rest[6] == ' '));
        else
            inet_selftest(rest);
    }
    for (;;)
        inet_step(0);
}
