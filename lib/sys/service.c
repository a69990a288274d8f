/*
 * The service framework every server and driver uses (MINIX's SEF): one
 * start-up call that initializes the service fresh or after a restart and
 * then tells rs it is ready, and the liveness answer for the message loop.
 *
 * rs pings a service with a notification at its manifest's heartbeat
 * period; the loop answers with a notification back (service_receive, which
 * hands the service only its own messages; service_handle for a loop that
 * receives by itself), unless the service's own health check says otherwise. Neither side ever
 * blocks on the other. State a service needs after a restart it keeps in
 * ds as it changes (a crash gives no last chance to save it); before a
 * planned stop (restart or update by the administrator) rs also asks it to
 * save (ROOT_SAVE), and the save_state callback runs.
 *
 * Only rs (ROOT_EP) may ping or ask to save: those messages from anyone
 * else go to the service's own loop, which refuses what it does not know.
 * service_refuse is the one way servers count and log a refused request.
 */
#include <samsara/root.h>
#include "sys.h"

uint64_t service_restarts; /* how often rs restarted this service (0: fresh start) */
uint64_t service_refusals;
static const struct service_callbacks *callbacks;
static char service_label[16] = "service"; /* its manifest's label, for log lines */

uint64_t service_startup(const char *label, const struct service_callbacks *cb)
{
    callbacks = cb;
    if (label && label[0])
        strncpy_s(service_label, label, sizeof(service_label));
    if (root_ready(1, &service_restarts) < 0) /* not yet ready: only asks */
        service_restarts = 0;
    int r = 0;
    if (service_restarts && cb && cb->init_restart)
        r = cb->init_restart(service_restarts);
    else if (cb && cb->init_fresh)
        r = cb->init_fresh();
    if (r == -E_NODEV) {
        printf("%s: no device to drive: exiting, not to be restarted\n", service_label);
        sys_exit(ROOT_EXIT_NO_DEVICE); /* rs leaves it down */
    }
    if (r < 0) {
        printf("%s: initialization failed (%d)\n", service_label, r);
        sys_exit(1); /* rs applies the restart policy */
    }
    root_ready(0, 0); /* ready: rs stops the recovery clock here */
    return service_restarts;
}

int service_handle(const message_t *m)
{
    if (m->source != ROOT_EP)
        return 0;
    if (m->type == ROOT_SAVE) { /* a planned stop comes: keep what a restart needs */
        if (callbacks && callbacks->save_state)
            callbacks->save_state();
        message_t saved = {.type = ROOT_SAVED};
        ipc_send(ROOT_EP, &saved); /* rs stops this instance now */
        return 1;
    }
    if (m->type != MSG_NOTIFY)
        return 0;
    if (!callbacks || !callbacks->healthy || callbacks->healthy() == 0)
        ipc_notify(ROOT_EP); /* alive */
    return 1;
}

int service_receive(message_t *m)
{
    for (;;) {
        int r = reply_and_receive(m); /* with the reply held, if any: one kernel entry */
        if (r < 0 || !service_handle(m))
            return r;
    }
}

uint64_t service_refuse(const char *server, const message_t *m, const char *why)
{
    uint64_t n = ++service_refusals;
    if (n <= 16 || !(n & (n - 1))) /* a flood of refusals cannot flood the log */
        printf("%s: refused request 0x%x from endpoint %d: %s (refusal %lu)\n", server,
               (unsigned)m->type, m->source, why, n);
    return n;
}

void service_reply(endpoint_t to, int32_t type, message_t *r)
{
    r->type = type;
    reply_hold(to, r); /* the client waits in sendrec; if it gave up, too bad */
}

void service_reply_result(endpoint_t to, int32_t type, int64_t result)
{
    message_t r = {.u.reply.result = result};
    service_reply(to, type, &r);
}
