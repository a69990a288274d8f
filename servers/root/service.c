/*
 * Reincarnation: the services root (rs) started from boot modules, how it
 * notices that one failed, what it then does, and the record it keeps.
 *
 * Failures: death (exit or exception, reported by the kernel), missed
 * heartbeats (rs pings at the manifest's period; no answer within two
 * periods means hung), a complaint from another service, privilege denials
 * beyond the manifest's limit, and an administrator's request. Policies:
 * RESTART_IMMEDIATE starts it again at once from its image in memory;
 * RESTART_BACKOFF waits 1, 2, 4 ... 1024 ms while it keeps failing within
 * a second of starting; after restart_limit restarts it stays down,
 * loudly. Recovery time runs from the moment rs notices the failure (or is
 * asked to kill) to the new instance's ROOT_READY, in microseconds from
 * the TSC, whose rate rs measures at start. Every event goes to a log.
 * A service whose manifest names a policy script has that script decide
 * instead: pm runs "/bin/sh SCRIPT LABEL REASON RESTARTS"; exit status 0
 * means restart now, 1 means stay down, anything else means apply the
 * manifest's restart policy. The script may also log or do anything else.
 * rs publishes each service's endpoint in ds as "ep.LABEL" once it is
 * ready (0 while it is down); dependents subscribe there to hear of
 * restarts. It also publishes "owner.LABEL" at every start (0 at death):
 * ds lets only that endpoint write LABEL's keys, and never asks rs.
 */
#include <samsara/elf64.h>
#include <samsara/manifest.h>
#include <samsara/ds.h>
#include <samsara/pm.h>
#include "root.h"
#include "spawn.h"

#define LOG_SIZE 64
#define TICK_MS 10 /* how often rs looks at heartbeats */

enum cause { C_EXIT = 1, C_FAULT, C_KILLED, C_HUNG, C_COMPLAINT, C_DENIED, C_ADMIN, C_UPDATE };
static const char *const cause_name[] = {"?",
                                         "exit",
                                         "exception",
                                         "killed",
                                         "heartbeat missed",
                                         "complaint",
                                         "privilege denials",
                                         "administrator",
                                         "update"};

struct service {
    const struct boot_module *mod;
    const struct manifest *man;
    endpoint_t ep;
    int state; /* SVC_STATE_* */
    int cause; /* of the last failure */
    uint64_t restarts;
    uint64_t failed_tsc; /* when the current failure was noticed */
    uint64_t started_tick;
    uint64_t backoff_ms, retry_at;
    uint64_t pinged, answered; /* heartbeat ticks */
    int policy_pid;            /* its policy script is deciding (pid), 0 otherwise */
    uint64_t last_us, total_us, max_us, recovered;
    uint64_t slowest_answer_ms; /* longest wait for a heartbeat answer */
    uint64_t beats;             /* heartbeat answers (pings answered) */
    int ping_open;              /* pinged, not answered yet */
    int missed_logged;          /* restart never: this silence is in the log already */
    int waiting_logged;         /* silent while waiting for a live service: logged already */
    int starved_logged;         /* silent while a more urgent one spins: logged already */
    struct boot_module image;   /* its program: the boot module, or an update */
    int restart_anyway;         /* replaced (update) or restarted by the administrator: */
                                /* start it again at its death, whatever its policy */
    uint64_t save_until;        /* asked to save its state: stop it by then (tick) */
    int ready;                  /* this instance said ROOT_READY */
    int startup_held;           /* its start-up query waits for ds (answer_held_startups) */
    int traced;                 /* `trace`: each instance's device operations are traced */
    endpoint_t eps[TRACE_EPS];  /* the endpoints of its last instances, newest first */
};

struct event {
    uint64_t ms;
    char label[16];
    char text[40];
};

static struct service services[BOOT_MAX_MODULES];
static uint32_t nr_services;
static uint64_t tsc_per_us = 1;
static struct event events[LOG_SIZE];
static uint64_t nr_events;

static uint64_t us_since(uint64_t tsc)
{
    return (sys_tsc() - tsc) / tsc_per_us;
}

/*
 * Publish s's endpoint in ds as "PREFIX.LABEL": "ep." when it is ready (0
 * when it dies), for dependents; "owner." when it starts (0 when it dies),
 * which ds checks writes of the service's keys against (docs/DS.md). ds may
 * be waiting for rs to answer a request (a cycle the kernel refuses with
 * E_DEADLK): then answer that first and try again. Nothing to do for ds
 * itself, or before ds is ready: ds calls rs while it starts, and a publish
 * then would make its ROOT_READY fail with E_DEADLK (publish_all catches up).
 */
static int ds_ready; /* ds said ROOT_READY and has not died since */

static void publish_endpoint(const char *prefix, struct service *s, endpoint_t ep)
{
    char key[DS_KEY_MAX];
    endpoint_t ds = service_lookup("ds");
    if (!ds_ready || ds <= 0 || !strcmp(s->mod->name, "ds"))
        return;
    ds_client_reset(ds);
    snprintf_s(key, sizeof(key), "%s.%s", prefix, s->mod->name);
    for (int tries = 0; tries < 8; tries++) {
        int r = ds_publish_u64(key, (uint64_t)(ep > 0 ? ep : 0), DS_OVERWRITE);
        if (r != -E_DEADLK)
            return;
        message_t m;
        if (ipc_receive(ds, &m) == 0)
            root_dispatch(&m);
    }
}

/* ds became ready: every running service owns its keys, and the ready ones are named. */
static void publish_all(void)
{
    for (uint32_t i = 1; i < nr_services; i++)
        if (services[i].mod && services[i].ep > 0) {
            publish_endpoint("owner", &services[i], services[i].ep);
            if (services[i].ready)
                publish_endpoint("ep", &services[i], services[i].ep);
        }
}

/*
 * A service's start-up query (ROOT_READY with query 1) is held while ds is
 * running but not ready yet: rs cannot publish owner.LABEL before then, and a
 * service let go earlier would write its keys (a driver's LABEL.dev) before
 * ds knows they are its, and be refused. ds itself, and every service when
 * no ds is running, are answered at once.
 */
static int hold_startup(const struct service *s)
{
    endpoint_t ds = service_lookup("ds");
    return !ds_ready && ds > 0 && ds != s->ep;
}

/* Answer s's held start-up query, if it has one. */
static void answer_held(struct service *s)
{
    if (!s->startup_held || s->ep <= 0)
        return;
    s->startup_held = 0;
    message_t r = {.type = ROOT_REPLY, .u.root.ready_reply = {0, s->restarts}};
    ipc_sendnb(s->ep, &r);
}

/* ds became ready (after publish_all) or died: the held start-up queries get their answers. */
static void answer_held_startups(void)
{
    for (uint32_t i = 1; i < nr_services; i++)
        answer_held(&services[i]);
}

static void log_label(const char *label, const char *text)
{
    struct event *e = &events[nr_events++ % LOG_SIZE];
    e->ms = sys_uptime();
    strncpy_s(e->label, label, sizeof(e->label));
    strncpy_s(e->text, text, sizeof(e->text));
}

static void log_text(struct service *s, const char *text)
{
    log_label(s->mod->name, text);
}

static void log_event(struct service *s, const char *fmt, uint64_t a, uint64_t b)
{
    char text[40];
    snprintf_s(text, sizeof(text), fmt, a, b);
    log_text(s, text);
}

void service_init(const struct bootinfo *boot)
{
    for (uint32_t i = 1; i < boot->nr_modules && i < BOOT_MAX_MODULES; i++) {
        services[i].mod = &boot->mod[i];
        services[i].image = boot->mod[i];
    }
    nr_services = boot->nr_modules;
    uint64_t t0 = sys_tsc(), tick0 = sys_uptime(); /* the TSC rate, over 20 ms */
    while (sys_uptime() < tick0 + 20)
        ;
    tsc_per_us = (sys_tsc() - t0) / 20000;
    if (!tsc_per_us)
        tsc_per_us = 1;
    sys_alarm(TICK_MS);
}

endpoint_t service_start(uint32_t i)
{
    struct service *s = &services[i];
    s->man = manifest_for(s->mod->name);
    if (!s->man) {
        s->state = SVC_STATE_DOWN;
        printf("rs: not starting %s: %s\n", s->mod->name,
               manifest_broken(s->mod->name) ? "its manifest has errors" : "it has no manifest");
        return -E_INVAL;
    }
    s->ep = start_service(&s->image, s->man);
    s->state = s->ep > 0 ? SVC_STATE_UP : SVC_STATE_DOWN;
    s->started_tick = s->pinged = s->answered = sys_uptime();
    s->ping_open = s->missed_logged = s->waiting_logged = s->ready = s->startup_held = 0;
    if (s->ep > 0) /* before it can ask ds anything: it waits for rs's start-up answer first */
        publish_endpoint("owner", s, s->ep);
    if (s->ep > 0) { /* the trace follows the service across restarts (trace.c) */
        for (int i = TRACE_EPS - 1; i > 0; i--)
            s->eps[i] = s->eps[i - 1];
        s->eps[0] = s->ep;
        if (s->traced)
            sys_priv_device(s->ep, PRIV_DEV_TRACE, 1, 0);
    }
    return s->ep;
}

static struct service *by_label(const char *label)
{
    for (uint32_t i = 1; i < nr_services; i++)
        if (services[i].mod && !strcmp(services[i].mod->name, label))
            return &services[i];
    return 0;
}

/* label's program (its boot module or its update), for fault injection (inject.c); 0 if none. */
const struct boot_module *service_image(const char *label)
{
    struct service *s = by_label(label);
    return s && s->man ? &s->image : 0;
}

static struct service *by_ep(endpoint_t ep)
{
    for (uint32_t i = 1; i < nr_services; i++)
        if (services[i].mod && services[i].ep == ep && ep > 0)
            return &services[i];
    return 0;
}

const struct manifest *service_manifest(endpoint_t ep)
{
    struct service *s = by_ep(ep);
    return s ? s->man : 0;
}

int service_is_label(const char *label)
{
    struct service *s = by_label(label);
    return s && s->man;
}

/*
 * A request refused for its sender: counted and logged (service_refuse: the
 * first 16, then the 32nd, 64th, ...; also into the event log, under the
 * sender's label), and answered with E_PERM unless it was a notification or
 * ROOT_SAVED, whose senders do not wait for an answer.
 */
void service_refused(const message_t *m, const char *what, const char *why)
{
    const struct manifest *from = started_manifest(m->source);
    char text[320]; /* an administrator's refusal names what would be lost (admin_refusal) */
    snprintf_s(text, sizeof(text), "%s from %s: %s", what,
               from ? from->label : "a process rs did not start", why);
    uint64_t n = service_refuse("rs", m, text);
    if (n <= 16 || !(n & (n - 1))) {
        snprintf_s(text, sizeof(text), "refused %s", what);
        log_label(from ? from->label : "?", text);
    }
    if (m->type != MSG_NOTIFY && m->type != ROOT_SAVED)
        reply_result(m, -E_PERM);
}

endpoint_t service_lookup(const char *label)
{
    struct service *s = by_label(label);
    return s && s->ep > 0 && s->state == SVC_STATE_UP ? s->ep : -E_SRCH;
}

/*
 * The endpoint of `label` if its instance is up and said ROOT_READY; 0 if it
 * is starting or being restarted (it will be ready later); -E_SRCH if it is
 * down or no service has that label. rs sends its own requests (a quiesce to
 * pci) only to a ready instance: one still starting calls rs itself (pci's
 * manifests) and would meet rs's request with the kernel's cycle check
 * (E_DEADLK), or take it for the answer to its held start-up query.
 */
endpoint_t service_ready_endpoint(const char *label)
{
    struct service *s = by_label(label);
    if (!s || s->state == SVC_STATE_DOWN)
        return -E_SRCH;
    return s->state == SVC_STATE_UP && s->ep > 0 && s->ready ? s->ep : 0;
}

/*
 * rs is about to send `label` a request of its own (PM_RUN to pm): a service
 * waiting for rs's answer would take that request for the answer, so a held
 * start-up query is answered first.
 */
static void service_release_startup(const char *label)
{
    struct service *s = by_label(label);
    if (s)
        answer_held(s);
}

static void apply_policy(struct service *s);
static int run_policy(struct service *s);

/*
 * The kernel's table of who serves Linux calls (KC_LINUX_SERVERS): pm, vfs and the System V IPC
 * server, as running now. At boot, and again when one of them was restarted: a new instance
 * has a new endpoint, and calls to the old one would fail with EIO (docs/REINCARNATION.md,
 * "Core servers: vfs and pm").
 */
void service_route_linux(void)
{
    endpoint_t pm = service_lookup("pm"), vfs = service_lookup("vfs"), sysv = service_lookup("ipc");
    if (pm > 0 && vfs > 0 && sys_linux_servers(pm, vfs, sysv > 0 ? sysv : 0) < 0)
        printf("root: cannot route Linux system calls\n");
}

static void restart(struct service *s)
{
    s->restarts++;
    if (service_start((uint32_t)(s - services)) < 0) {
        printf("rs: cannot restart %s\n", s->mod->name);
        return;
    }
    log_event(s, "restarted (restart %lu)", s->restarts, 0);
    if (!strcmp(s->man->label, "pm") || !strcmp(s->man->label, "vfs") ||
        !strcmp(s->man->label, "ipc"))
        service_route_linux();
}

/* Declare s failed for `cause` and kill it; its death report does the rest. */
static void fail(struct service *s, int cause)
{
    if (!s->failed_tsc)
        s->failed_tsc = sys_tsc();
    s->cause = cause;
    char text[40];
    snprintf_s(text, sizeof(text), "failed: %s", cause_name[cause]);
    log_text(s, text);
    if (s->ep > 0)
        sys_proc_kill(s->ep);
}

/* A planned stop: the service may save its state first (ROOT_SAVE in samsara/root.h). */
static void stop_planned(struct service *s, int cause)
{
    message_t m = {.type = ROOT_SAVE};
    s->failed_tsc = sys_tsc(); /* recovery counts from the request */
    s->cause = cause;
    if (s->state == SVC_STATE_UP && !s->save_until && !s->startup_held &&
        ipc_sendnb(s->ep, &m) == 0) { /* held: it would take ROOT_SAVE for its answer */
        s->save_until = sys_uptime() + SAVE_MS;
        log_text(s, "asked to save its state");
        return;
    }
    if (!s->save_until)
        fail(s, cause); /* not receiving: stopped as it is */
}

/* A service says it saved its state: stop it now. Only one rs asked may say so. */
void service_saved(message_t *m)
{
    struct service *s = by_ep(m->source);
    if (!s || !s->save_until) {
        service_refused(m, "saved", "nobody asked it to save its state");
        return;
    }
    s->save_until = 0;
    log_text(s, "state saved");
    fail(s, s->cause);
}

static void say_pci(const char *text, void *s)
{
    log_text(s, text);
    printf("rs: %s: %s\n", ((struct service *)s)->mod->name, text);
}

static void chaos_death(const struct service *s, const struct death_info *d);

/* A death report: 1 if it was a service (handled here), 0 otherwise. */
int service_died(const struct death_info *d)
{
    struct service *s = by_ep(d->ep);
    if (!s)
        return 0;
    publish_endpoint("ep", s, 0); /* dependents (vfs) hear that it is gone */
    publish_endpoint("owner", s, 0);
    s->ready = s->startup_held = 0;
    if (!strcmp(s->mod->name, "ds")) {
        ds_ready = 0;
        answer_held_startups(); /* no ds to wait for any more */
    }
    if (!s->failed_tsc) {
        s->failed_tsc = sys_tsc();
        s->cause = d->cause == DEATH_EXIT                             ? C_EXIT
                   : d->cause == DEATH_FAULT || d->cause == DEATH_DMA ? C_FAULT
                                                                      : C_KILLED;
        if (d->cause == DEATH_DMA) /* its device's DMA was blocked (docs/IOMMU.md) */
            log_event(s, "died: DMA blocked at %lx (IOMMU)", d->addr, 0);
        else
            log_event(s, d->cause == DEATH_FAULT ? "died: exception %lu" : "died: status %lu",
                      (uint64_t)d->code, 0);
    }
    chaos_death(s, d);
    s->ep = 0;
    s->save_until = 0;
    dead_driver_devices(s->man, d->ep, say_pci, s); /* before a new instance: no DMA running */
    if (s->restart_anyway) { /* updated or restarted by the administrator: start it now */
        s->restart_anyway = 0;
        s->state = SVC_STATE_RESTARTING;
        restart(s);
        return 1;
    }
    if (s->state == SVC_STATE_DOWN) /* the administrator took it down */
        return 1;
    if (d->cause == DEATH_EXIT && d->code == ROOT_EXIT_NO_DEVICE) {
        s->state = SVC_STATE_DOWN; /* a new instance would find nothing either */
        log_event(s, "down: no device to drive", 0, 0);
        printf("rs: service %s is down: it found no device to drive (not restarted)\n",
               s->mod->name);
        return 1;
    }
    if (s->man->restart == RESTART_NEVER) {
        s->state = SVC_STATE_DOWN;
        log_event(s, "down (policy: never restart)", 0, 0);
        printf("rs: service %s is down (%s); its policy is not to restart it\n", s->mod->name,
               cause_name[s->cause]);
        return 1;
    }
    if (s->man->restart_limit && s->restarts >= s->man->restart_limit) {
        s->state = SVC_STATE_DOWN;
        log_event(s, "down: %lu restarts, the limit", s->restarts, 0);
        printf("rs: *** service %s failed after %lu restarts: it stays down ***\n", s->mod->name,
               s->restarts);
        return 1;
    }
    s->state = SVC_STATE_RESTARTING;
    if (s->man->policy[0] && run_policy(s) == 0)
        return 1; /* the script decides; see service_policy_results */
    apply_policy(s);
    return 1;
}

/* The manifest's restart policy, for a failed service in state RESTARTING. */
static void apply_policy(struct service *s)
{
    uint64_t now = sys_uptime();
    if (s->man->restart == RESTART_BACKOFF && now - s->started_tick < 1000) {
        s->backoff_ms = s->backoff_ms ? (s->backoff_ms < 1024 ? s->backoff_ms * 2 : 1024) : 1;
        s->retry_at = now + s->backoff_ms;
        log_event(s, "restart in %lu ms (back-off)", s->backoff_ms, 0);
        return;
    }
    s->backoff_ms = 0;
    restart(s);
}

/*
 * rs never waits for long on a server it depends on: pm answers PM_RUN and
 * PM_RESULTS at once, so after PM_TIMEOUT_MS it is hung and the policy
 * script counts as not run (the manifest's policy decides instead).
 */
#define PM_TIMEOUT_MS 2000

/* Ask pm to run s's policy script with its label, the failure and the restart count. */
static int run_policy(struct service *s)
{
    static char argv[160];
    static const char *const reason[] = {"?",         "exit",    "exception",     "killed", "hung",
                                         "complaint", "denials", "administrator", "update"};
    /* one word for every cause: an update that dies before it is ready has cause C_UPDATE */
    _Static_assert(sizeof(reason) == sizeof(cause_name), "a policy word for every cause");
    endpoint_t pm = service_lookup("pm");
    service_release_startup("pm"); /* held, it would take PM_RUN for rs's answer */
    int n = snprintf_s(argv, sizeof(argv), "/bin/sh%c%s%c%s%c%s%c%lu", 0, s->man->policy, 0,
                       s->mod->name, 0, reason[s->cause], 0, s->restarts) +
            1;
    grant_id_t g = pm > 0 ? grant_alloc(pm, argv, (uint64_t)n, GRANT_READ) : -1;
    message_t m = {.type = PM_RUN, .u.pm.run = {g, (uint64_t)n}};
    int r = g < 0 ? -1 : ipc_sendrec_bounded(pm, &m, PM_TIMEOUT_MS);
    grant_free(g);
    if (r < 0 || m.type != PM_REPLY || m.u.pm.reply.result <= 0) {
        log_text(s, "policy script could not run");
        return -1;
    }
    s->policy_pid = (int)m.u.pm.reply.result;
    log_event(s, "policy script running (pid %lu)", (uint64_t)m.u.pm.reply.result, 0);
    return 0;
}

int service_policies_running(void)
{
    for (uint32_t i = 1; i < nr_services; i++)
        if (services[i].policy_pid)
            return 1;
    return 0;
}

/* pm says programs it ran for us ended: carry out the policy scripts' decisions. */
void service_policy_results(void)
{
    endpoint_t pm = service_lookup("pm");
    for (int n = 0; n < 16 && pm > 0; n++) {
        message_t m = {.type = PM_RESULTS};
        if (ipc_sendrec_bounded(pm, &m, PM_TIMEOUT_MS) < 0 || m.type != PM_REPLY ||
            m.u.pm.results.result <= 0)
            return;
        for (uint32_t i = 1; i < nr_services; i++) {
            struct service *s = &services[i];
            if (s->policy_pid != (int)m.u.pm.results.result || s->state != SVC_STATE_RESTARTING)
                continue;
            int status = (int)m.u.pm.results.status;
            int code = (status & 0x7f) ? -1 : (status >> 8) & 0xff;
            s->policy_pid = 0;
            log_event(s, "policy script says %lu", (uint64_t)(int64_t)code, 0);
            if (code == 0) {
                restart(s);
            } else if (code == 1) {
                s->state = SVC_STATE_DOWN;
                log_text(s, "down (policy script)");
                printf("rs: *** service %s stays down: its policy script said so ***\n",
                       s->mod->name);
            } else {
                apply_policy(s);
            }
        }
    }
}

/* s's silence is excused by t: logged once (until s answers again); 1. */
static int excused(struct service *s, int *logged, const char *format, const struct service *t)
{
    if (!*logged) {
        *logged = 1;
        char text[40];
        snprintf_s(text, sizeof(text), format, t->mod->name);
        log_text(s, text);
    }
    return 1;
}

/*
 * s has not answered two periods of pings: 1 if it is blocked calling another service that
 * answers its own heartbeats (a file server waiting for its disk driver, which waits for a slow
 * device and answers meanwhile). s is not hung then; if the callee hangs, the callee is the one
 * replaced, and s goes on. A callee without heartbeats, or silent itself, excuses nothing; one
 * whose start-up query rs holds (ds not ready yet) excuses s, as rs's hold excuses the callee.
 */
static int waits_for_live(struct service *s, uint64_t now)
{
    struct proc_info i;
    if (sys_proc_info(s->ep, &i) < 0)
        return 0;
    struct service *t = i.waits_for == NONE ? 0 : by_ep(i.waits_for);
    if (t && t != s && t->state == SVC_STATE_UP && t->startup_held)
        return 1; /* t waits for rs's answer to its start-up query: rs holds them both */
    uint32_t period = t && t->man ? t->man->heartbeat_ms : 0;
    if (!t || t == s || t->state != SVC_STATE_UP || !period ||
        now - t->answered >= 2 * (uint64_t)period) /* answered: its start at least */
        return 0;
    return excused(s, &s->waiting_logged, "silent, waiting for %s", t);
}

/*
 * `service chaos LABEL COUNT MIN_MS MAX_MS [start]` (admin.c): rs kills LABEL
 * COUNT times, each kill MIN_MS..MAX_MS (uniform) after the last kill, from
 * its own alarm. rs runs above every service, so its alarm preempts the
 * service wherever it is: in the middle of a request under load, not only
 * between requests as a `service kill` from the shell (which runs below the
 * service) always finds it. Without `start` a kill whose time comes while the
 * new instance is not ready yet waits for its ROOT_READY; with `start` it
 * lands there too, in the instance's start-up (device reset, DMA set-up,
 * announcement), as soon as the instance exists. One campaign at a time;
 * COUNT 0 ends it. `service chaos` alone reports the last campaign: its kills,
 * how many landed before ROOT_READY, and the recoveries rs measured during it
 * (kill to ROOT_READY; a kill in a start-up lengthens the recovery it is in).
 */
static const char *admin_refusal(const struct service *s, int op, int force);

#define CHAOS_BUCKET_US 50 /* the recovery histogram: 50 us buckets up to 200 ms */
#define CHAOS_BUCKETS 4000

static struct {
    struct service *s;  /* the service killed now; 0: no campaign running */
    struct service *of; /* the last campaign's service (its report) */
    uint64_t left, min_ms, max_ms, at, seed, done, early, asked;
    int start; /* kills may land before ROOT_READY */
    uint64_t recovered, max_us;
    uint64_t other;  /* deaths not by the campaign's kills (a crash, heartbeat, complaint) */
    int other_cause; /* the last one's */
    uint32_t recovery[CHAOS_BUCKETS]; /* the last bucket: 200 ms and more */
} chaos;

static uint64_t chaos_next(void)
{
    chaos.seed ^= chaos.seed << 13; /* xorshift64 */
    chaos.seed ^= chaos.seed >> 7;
    chaos.seed ^= chaos.seed << 17;
    return sys_uptime() + chaos.min_ms + chaos.seed % (chaos.max_ms - chaos.min_ms + 1);
}

int service_chaos(const char *label, uint64_t count, uint64_t min_ms, uint64_t max_ms, int start,
                  const char **why)
{
    struct service *s = by_label(label);
    *why = 0;
    if (!s || !s->man)
        return -E_SRCH;
    if (min_ms < 1 || min_ms > max_ms || max_ms > 60000 || count > 1000000)
        return -E_INVAL;
    if (count && (*why = admin_refusal(s, SVC_KILL, 0)))
        return -E_PERM;
    if (count) {
        memset(&chaos, 0, sizeof(chaos));
        chaos.of = s;
    }
    chaos.s = count ? s : 0;
    chaos.left = chaos.asked = count;
    chaos.start = start;
    chaos.min_ms = min_ms;
    chaos.max_ms = max_ms;
    chaos.seed = sys_tsc() | 1;
    chaos.at = chaos_next();
    if (count)
        log_event(s, start ? "chaos: %lu kills, start-up too" : "chaos: %lu kills to come", count,
                  0);
    return 0;
}

/* A death of the campaign's service while it runs: one not by its kills is counted apart. */
static void chaos_death(const struct service *s, const struct death_info *d)
{
    if (!chaos.s || s != chaos.s || (d->cause == DEATH_KILLED && s->cause == C_ADMIN))
        return;
    chaos.other++;
    chaos.other_cause = d->cause == DEATH_KILLED  ? s->cause
                        : d->cause == DEATH_FAULT ? C_FAULT
                                                  : C_EXIT;
}

/* A recovery of the campaign's service, while its campaign runs: into the histogram. */
static void chaos_recovered(const struct service *s, uint64_t us)
{
    if (!chaos.s || s != chaos.s)
        return;
    uint64_t b = us / CHAOS_BUCKET_US;
    chaos.recovery[b < CHAOS_BUCKETS ? b : CHAOS_BUCKETS - 1]++;
    chaos.recovered++;
    chaos.max_us = us > chaos.max_us ? us : chaos.max_us;
}

/* `service chaos`: the last campaign in one line (0 if there was none). */
int service_chaos_report(char *buf, uint64_t len)
{
    if (!chaos.of)
        return 0;
    uint64_t median = 0, seen = 0;
    for (uint32_t b = 0; b < CHAOS_BUCKETS && chaos.recovered; b++)
        if ((seen += chaos.recovery[b]) * 2 >= chaos.recovered) {
            median = (uint64_t)b * CHAOS_BUCKET_US + CHAOS_BUCKET_US / 2; /* its middle */
            median = median < chaos.max_us ? median : chaos.max_us;
            break;
        }
    return snprintf_s(buf, len,
                      "chaos %s: %s kills=%lu of=%lu before_ready=%lu recovered=%lu "
                      "median_us=%lu max_us=%lu other_deaths=%lu last_other=%s\n",
                      chaos.of->mod->name, chaos.s ? "running" : "over", chaos.done, chaos.asked,
                      chaos.early, chaos.recovered, median, chaos.max_us, chaos.other,
                      chaos.other ? cause_name[chaos.other_cause] : "-");
}

/* The campaign's kill, when its time has come and the service is up (and ready, without start). */
static void chaos_tick(uint64_t now)
{
    struct service *s = chaos.s;
    if (!s || now < chaos.at)
        return;
    if (s->state == SVC_STATE_DOWN) { /* down for good (or until `up`): nothing left to kill */
        log_event(s, "chaos: ended, down after %lu kills", chaos.done, 0);
        chaos.s = 0;
        return;
    }
    if (s->state != SVC_STATE_UP || s->ep <= 0 || (!s->ready && !chaos.start)) {
        chaos.at = now + 1; /* its new instance is not there (or not ready) yet */
        return;
    }
    chaos.early += !s->ready;
    fail(s, C_ADMIN);
    chaos.done++;
    if (!--chaos.left) {
        log_event(s, "chaos: done, %lu kills", chaos.done, 0);
        chaos.s = 0;
    } else
        chaos.at = chaos_next();
}

/*
 * rs runs above every service, so when its alarm comes late nothing ran in
 * between: the host stalled the machine (QEMU descheduled: the kernel counts
 * such a gap as up to 50 ms of ticks), the kernel was busy, or rs waited in a
 * bounded call. No service could answer a heartbeat then, and rs could not
 * have seen an answer: every heartbeat window is moved on by the lateness, so
 * load is not taken for a hang. A service that spins does not delay rs.
 */
#define LATE_SLACK_MS 5
static uint64_t alarm_due; /* when rs's next alarm should come (ticks) */

static void discount_late_alarm(uint64_t now)
{
    if (!alarm_due || now <= alarm_due + LATE_SLACK_MS)
        return;
    uint64_t late = now - alarm_due;
    for (uint32_t i = 1; i < nr_services; i++) {
        struct service *s = &services[i];
        s->answered = s->answered + late < now ? s->answered + late : now;
    }
}

/*
 * A service is not killed for silence before two heartbeat periods from its start, nor, until it
 * says ROOT_READY, before START_GRACE_MS: a driver's start-up (device reset, DMA set-up, waits
 * for pci and ds) answers no ping, and on a loaded host it took more than 200 ms once
 * (tools/heartbeat_bench.py: virtio_net, heartbeat 100, killed in the boot).
 */
#define START_GRACE_MS 1000
static uint64_t start_grace(const struct service *s, uint32_t period)
{
    uint64_t two = 2 * (uint64_t)period;
    return s->ready || two >= START_GRACE_MS ? two : START_GRACE_MS;
}

/*
 * s is silent past its window: 1 if a more urgent service (a lower `priority`) is silent past
 * its own and on the CPU or just killed for it (runnable, or dead and not reaped by rs yet). It
 * may be spinning, and s was only kept off the CPU: a `jmp .` in virtio_net (priority 1,
 * heartbeat 100) had demo (priority 2, heartbeat 100) killed with it every time. s's window
 * starts again; the spinner dies in its own, and then s has two periods to answer.
 */
static int starved(struct service *s, uint64_t now)
{
    for (uint32_t i = 1; i < nr_services; i++) {
        struct service *t = &services[i];
        uint32_t period = t->man ? t->man->heartbeat_ms : 0;
        struct proc_info info;
        if (t == s || t->state != SVC_STATE_UP || t->ep <= 0 || !period ||
            t->man->priority >= s->man->priority || now - t->answered <= period + TICK_MS ||
            (sys_proc_info(t->ep, &info) == 0 && (info.state & ~(uint32_t)PS_ZOMBIE)))
            continue;
        return excused(s, &s->starved_logged, "silent, %s silent above it", t);
    }
    return 0;
}

/* Every TICK_MS (sooner for a chaos campaign's kill): heartbeats, restarts whose back-off passed.
 */
void service_alarm(void)
{
    uint64_t now = sys_uptime();
    discount_late_alarm(now);
    chaos_tick(now);
    for (uint32_t i = 1; i < nr_services; i++) {
        struct service *s = &services[i];
        if (s->state == SVC_STATE_RESTARTING && s->retry_at && s->retry_at <= now) {
            s->retry_at = 0;
            restart(s);
        }
        if (s->save_until && s->save_until <= now && s->ep > 0) {
            s->save_until = 0;
            log_text(s, "no answer to the save request");
            fail(s, s->cause);
            continue;
        }
        uint32_t period = s->man ? s->man->heartbeat_ms : 0;
        if (s->state != SVC_STATE_UP || s->ep <= 0 || !period)
            continue;
        if (now - s->answered >= period && (s->startup_held || waits_for_live(s, now)))
            s->answered = now; /* its window starts again when the callee answers or dies */
        else if (now - s->answered >= 2 * (uint64_t)period &&
                 now - s->started_tick >= 2 * (uint64_t)period) {
            if (s->man->restart == RESTART_NEVER) {
                if (!s->missed_logged) { /* it would not come back: killing it helps nobody */
                    s->missed_logged = 1;
                    log_text(s, "heartbeat missed (left running)");
                }
            } else if (now - s->started_tick >= start_grace(s, period)) {
                if (starved(s, now)) {
                    s->answered = now;
                } else {
                    fail(s, C_HUNG); /* no answer to two periods of pings */
                    continue;
                }
            }
        }
        if (now - s->pinged >= period) {
            s->pinged = now;
            s->ping_open = 1;
            ipc_notify(s->ep);
        }
    }
    now = sys_uptime();
    uint64_t next = chaos.s && chaos.at > now && chaos.at - now < TICK_MS ? chaos.at - now
                    : chaos.s && chaos.at <= now                          ? 1
                                                                          : TICK_MS;
    alarm_due = now + next;
    sys_alarm(next);
}

/* A notification from a service: its heartbeat answer. */
void service_alive(endpoint_t ep)
{
    struct service *s = by_ep(ep);
    if (!s)
        return;
    s->answered = sys_uptime();
    s->beats += s->ping_open;
    s->ping_open = 0;
    s->waiting_logged = s->starved_logged = 0;
    if (s->missed_logged) {
        s->missed_logged = 0;
        log_text(s, "heartbeat answered again");
    }
    if (s->answered - s->pinged > s->slowest_answer_ms && s->pinged > s->started_tick)
        s->slowest_answer_ms = s->answered - s->pinged;
}

/* The kernel says ep's denial count doubled; count is its total. */
/*
 * The kernel says some process's denial count reached a power of two. Which
 * one is not in the notification, and the trace's newest entry may be
 * another's by now (a Linux program's refused calls are denials too), so
 * every running service with a denial limit is looked at.
 */
void service_denials_check(void)
{
    for (uint32_t i = 1; i < nr_services; i++) {
        struct service *s = &services[i];
        struct proc_info info;
        if (s->state == SVC_STATE_UP && s->man->denial_limit && s->ep > 0 &&
            sys_proc_info(s->ep, &info) == 0 && info.denied >= s->man->denial_limit)
            fail(s, C_DENIED);
    }
}

void service_ready(message_t *m)
{
    struct service *s = by_ep(m->source);
    int ready = s && !m->u.root.ready.query; /* ready now, not only asking */
    if (ready && s->failed_tsc) {
        s->last_us = us_since(s->failed_tsc);
        s->total_us += s->last_us;
        s->max_us = s->last_us > s->max_us ? s->last_us : s->max_us;
        s->recovered++;
        s->failed_tsc = 0;
        log_event(s, "ready after %lu us", s->last_us, 0);
        chaos_recovered(s, s->last_us);
    }
    if (ready)
        s->answered = sys_uptime();
    if (s && m->u.root.ready.query && hold_startup(s)) {
        s->startup_held = 1; /* answered when ds is ready (answer_held_startups) */
        return;
    }
    message_t r = {.u.root.ready_reply = {s ? 0 : -E_SRCH, s ? s->restarts : 0}};
    reply_message(m, &r);
    if (!ready)
        return;
    s->ready = 1;
    if (!strcmp(s->mod->name, "ds") && !ds_ready) {
        ds_ready = 1;
        publish_all();
        answer_held_startups();
    }
    publish_endpoint("ep", s, s->ep); /* ready: dependents may use it now */
    if (!strcmp(s->mod->name, "pci"))
        dead_drivers_pci_ready(); /* what died while no pci server was ready (quiesce.c) */
}

/*
 * A service complains about another (its label): treated as that
 * one's failure. It counts only from a dependent: a service whose manifest
 * names the target under `ipc` (by label, or as one of `drivers` when the
 * target's manifest has a `dev` key; `ipc all` names no one), and never against
 * a service that would not come back (restart never): only the
 * administrator may stop that one.
 */
void service_complaint(message_t *m)
{
    char label[MANIFEST_LABEL_MAX];
    const char *in = m->u.root.label.label;
    struct service *s = request_string(in, sizeof(label), label) < 0 ? 0 : by_label(label);
    const struct manifest *from = service_manifest(m->source);
    if (!s || !s->man || s->ep <= 0) {
        reply_result(m, -E_SRCH);
        return;
    } else if (!manifest_names(from, s->man)) {
        service_refused(m, "complaint", "its manifest does not name the target under 'ipc'");
        return;
    } else if (s->man->restart == RESTART_NEVER) {
        service_refused(m, "complaint", "the target cannot be restarted (restart never)");
        return;
    }
    fail(s, C_COMPLAINT);
    reply_result(m, 0);
}

/* A manifest's restart policy as `service list` shows it: its script's, or its `restart`. */
static const char *policy_name(const struct manifest *man)
{
    static const char *const name[] = {[RESTART_NEVER] = "never",
                                       [RESTART_IMMEDIATE] = "immediate",
                                       [RESTART_BACKOFF] = "backoff"};
    return man->policy[0] ? "script" : name[man->restart];
}

/*
 * One line of `service list`, or of `service log`, into buf; 0 when there are
 * no more. The `data` column says what becomes of what a service keeps in its
 * memory when it stops: "kept" (it has a state region, which rs gives the
 * next instance: docs/REINCARNATION.md), "fresh" (restartable: a new instance
 * starts from its program, with only what it saved in ds itself) or "lost"
 * (restart never: gone for good).
 */
int service_line(int log, uint64_t i, char *buf, uint64_t len)
{
    static const char *const state[] = {"?", "up", "restarting", "down"};
    if (log) {
        uint64_t first = nr_events > LOG_SIZE ? nr_events - LOG_SIZE : 0;
        if (i >= nr_events - first)
            return 0;
        struct event *e = &events[(first + i) % LOG_SIZE];
        return snprintf_s(buf, len, "%6lu.%03lu %-10s %s\n", e->ms / 1000, e->ms % 1000, e->label,
                          e->text);
    }
    uint32_t n = 0;
    for (uint32_t k = 1; k < nr_services; k++) {
        struct service *s = &services[k];
        if (!s->man || n++ != i)
            continue;
        return snprintf_s(
            buf, len, "%-10s %6d %-10s %5lu %-17s %7lu %7lu %5lu %-9s %s\n", s->mod->name, s->ep,
            state[s->state], s->restarts, s->restarts ? cause_name[s->cause] : "-", s->last_us,
            s->recovered ? s->total_us / s->recovered : 0, s->beats, policy_name(s->man),
            s->man->state_len                  ? "kept"
            : s->man->restart == RESTART_NEVER ? "lost"
                                               : "fresh");
    }
    return 0;
}

/*
 * Why the administrator may not do op (SVC_KILL, SVC_RESTART, SVC_DOWN, or
 * SVC_UPDATE) to s, or 0. A service that would not come back (restart never:
 * pm, vfs, ramfs, ds, ipc keep state nobody else has) is stopped only when
 * forced; the refusal says what would be lost, from the manifest's `lost`
 * line or in general words. An update runs a program of the administrator's
 * choice with the manifest's privileges, so never for a manifest that grants
 * more than a service needs to run: `manage yes` (spawn helpers of other
 * manifests, administer every service) or `users yes` (control every Linux
 * process).
 */
static const char *admin_refusal(const struct service *s, int op, int force)
{
    static char why[256];
    if (op == SVC_UPDATE && s->man->may_manage)
        return "its manifest says 'manage yes'";
    if (op == SVC_UPDATE && (s->man->flags & PRIV_USERS))
        return "its manifest says 'users yes'";
    if (op == SVC_UP || s->man->restart != RESTART_NEVER || force)
        return 0;
    static const struct {
        const char *verb, *after, *doing;
    } text[] = {
        [SVC_KILL] = {"kill", "is not restarted after a kill", "kill it"},
        [SVC_RESTART] = {"restart", "would start again empty", "restart it"},
        [SVC_DOWN] = {"down", "would start again empty", "take it down"},
        [SVC_UPDATE] = {"update", "would start again empty", "update it"},
    };
    const char *lost =
        s->man->lost[0] ? s->man->lost : "what it keeps in memory is lost and requests to it fail";
    snprintf_s(why, sizeof(why), "%s %s (restart never): %s; use service %s -f %s to %s anyway",
               s->mod->name, text[op].after, lost, text[op].verb, s->mod->name, text[op].doing);
    return why;
}

/*
 * The administrator's commands kill, restart, down and up, from either
 * channel (ROOT_SERVICE or /dev/service, whose senders root_dispatch has
 * checked): 0, or an error with *why set for a refusal (E_PERM).
 */
int service_admin(int op, const char *label, int force, const char **why)
{
    struct service *s = by_label(label);
    *why = 0;
    if (!s || !s->man)
        return -E_SRCH;
    if (op != SVC_KILL && op != SVC_RESTART && op != SVC_DOWN && op != SVC_UP)
        return -E_INVAL;
    if ((op == SVC_KILL || op == SVC_RESTART) && s->ep <= 0)
        return -E_SRCH;
    if ((*why = admin_refusal(s, op, force)))
        return -E_PERM;
    if (op == SVC_RESTART) {
        s->restart_anyway = 1; /* restart means: back at once, whatever its policy */
        stop_planned(s, C_ADMIN);
    } else if (op == SVC_KILL) {
        fail(s, C_ADMIN); /* a simulated crash, no chance to save; its policy applies */
    } else if (op == SVC_DOWN) {
        s->state = SVC_STATE_DOWN;
        log_event(s, "down (administrator)", 0, 0);
        if (s->ep > 0)
            sys_proc_kill(s->ep);
    } else if (s->state == SVC_STATE_DOWN && s->ep <= 0) { /* SVC_UP */
        s->state = SVC_STATE_RESTARTING;
        restart(s);
    }
    return 0;
}

/* ROOT_SERVICE: an administrator's request from a manager (`manage yes`). */
void service_request(message_t *m)
{
    const struct root_service *q = &m->u.root.service;
    char label[MANIFEST_LABEL_MAX];
    uint64_t op = q->op & ~(uint64_t)(SVC_FORCE | SVC_SCRAMBLE);
    int force = (q->op & SVC_FORCE) != 0;
    struct service *s = 0;
    message_t r = {.u.reply.result = 0};
    if (op != SVC_LOG && op != SVC_LIST &&
        (request_string(q->label, sizeof(label), label) < 0 || !(s = by_label(label)) || !s->man))
        r.u.reply.result = -E_SRCH;
    else if ((q->op & SVC_SCRAMBLE) && op != SVC_KILL)
        r.u.reply.result = -E_INVAL;
    else if (op == SVC_KILL || op == SVC_RESTART || op == SVC_DOWN || op == SVC_UP) {
        const char *why;
        r.u.reply.result = service_admin((int)op, label, force, &why);
        if (r.u.reply.result == 0 && (q->op & SVC_SCRAMBLE))
            state_scramble(label); /* before its death is reaped: the next instance starts fresh */
        if (why) {
            service_refused(m, "administrator request", why);
            return;
        }
    } else if (op == SVC_CHAOS) { /* root_chaos: the count and the bounds packed in line */
        const char *why;
        r.u.reply.result = service_chaos(label, q->line & 0xffffffffu, (q->line >> 32) & 0xffff,
                                         q->line >> 48, 0, &why);
        if (why) {
            service_refused(m, "chaos request", why);
            return;
        }
    } else if (op == SVC_LOG || op == SVC_LIST) {
        char line[96];
        int n = service_line(op == SVC_LOG, q->line, line, sizeof(line));
        r.u.root.line.result = n > ROOT_LINE_MAX ? ROOT_LINE_MAX : n; /* 0: no more lines */
        memcpy(r.u.root.line.text, line, (size_t)r.u.root.line.result);
    } else if (op == SVC_STATS) {
        r.u.root.stats = (struct root_stats_reply){
            .restarts = s->restarts,
            .last_us = s->last_us,
            .mean_us = s->recovered ? s->total_us / s->recovered : 0,
            .max_us = s->max_us,
            .state = (uint64_t)s->state,
            .slowest_answer_ms = s->slowest_answer_ms,
        };
    } else {
        r.u.reply.result = -E_INVAL;
    }
    reply_message(m, &r);
}

/*
 * `service update LABEL PROGRAM`: the tool sends the new program through
 * /dev/service; rs keeps it in memory of its own (a region per service),
 * checks it is a static x86-64 ELF, and replaces the running instance,
 * which reads its state back from ds like after any restart.
 */
#define UPDATE_BASE 0x0000200000000000ull
#define UPDATE_SPAN (16ull << 20) /* the largest program an update may bring */

static struct service *update_target;
static uint8_t *update_buf;
static uint64_t update_size, update_got;

int service_update_begin(const char *label, uint64_t size, int force, const char **why)
{
    struct service *s = by_label(label);
    *why = 0;
    if (!s || !s->man)
        return -E_SRCH;
    if ((*why = admin_refusal(s, SVC_UPDATE, force)))
        return -E_PERM;
    if (!size || size > UPDATE_SPAN)
        return -E_INVAL;
    uint64_t slot = (uint64_t)(s - services);
    uint8_t *buf = (uint8_t *)(UPDATE_BASE + slot * 2 * UPDATE_SPAN);
    uint8_t *where =
        s->image.vaddr == (uint64_t)buf ? buf + UPDATE_SPAN : buf; /* not the one in use */
    uint64_t len = (size + 4095) & ~4095ull;
    sys_mem_unmap(SELF, (uint64_t)where, UPDATE_SPAN);
    if (sys_mem_map(SELF, (uint64_t)where, len, PROT_R | PROT_W) < 0)
        return -E_NOMEM;
    update_target = s;
    update_buf = where;
    update_size = size;
    update_got = 0;
    return 0;
}

/* The update in progress ends without its program (the writer closed /dev/service). */
void service_update_abort(void)
{
    if (update_target)
        log_text(update_target, "update aborted: program incomplete");
    update_target = 0;
}

/* Bytes of the program; 1 while more are expected, 0 when done, or an error. */
int service_update_data(const void *data, uint64_t len)
{
    struct service *s = update_target;
    if (!s)
        return -E_INVAL;
    if (len > update_size - update_got)
        len = update_size - update_got;
    memcpy(update_buf + update_got, data, len);
    update_got += len;
    if (update_got < update_size)
        return 1;
    update_target = 0;
    if (elf_check(update_buf, update_size) < 0) {
        log_text(s, "update refused: not a static ELF");
        return -E_INVAL;
    }
    s->image.vaddr = (uint64_t)update_buf;
    s->image.size = update_size;
    log_event(s, "updated: new program, %lu bytes", update_size, 0);
    if (s->ep > 0) {
        s->restart_anyway = 1;
        stop_planned(s, C_UPDATE); /* its death starts the new program */
    } else {
        s->state = SVC_STATE_RESTARTING;
        restart(s);
    }
    return 0;
}

/*
 * `trace`: the endpoints of label's last TRACE_EPS instances into eps
 * (newest first, 0: none); on 1 or 0 turns the tracing of its device
 * operations on or off, for this instance and the next ones (-1: as it
 * is); *traced says which. 0, or -E_SRCH for no such service.
 */
int service_trace(const char *label, int on, endpoint_t eps[TRACE_EPS], int *traced)
{
    struct service *s = by_label(label);
    if (!s)
        return -E_SRCH;
    if (on >= 0)
        s->traced = on;
    if (on >= 0 && s->ep > 0)
        sys_priv_device(s->ep, PRIV_DEV_TRACE, (uint64_t)on, 0);
    memcpy(eps, s->eps, sizeof(s->eps));
    *traced = s->traced;
    return 0;
}
