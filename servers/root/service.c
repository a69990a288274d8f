/*
 * Reincarnation: the services root started from boot modules, what
 * happens when one fails, and the numbers an administrator asks for.
 *
 * A service whose profile says RESTART_IMMEDIATE is started again from its
 * image in memory as soon as its death is reported; RESTART_BACKOFF waits
 * 1, 2, 4 ... 1024 ms when it keeps failing within a second of starting;
 * after RESTART_LIMIT restarts it stays down, loudly. Recovery time runs
 * from the moment root learns of the failure (or is asked to kill) to the
 * new instance's ROOT_READY, in TSC ticks converted with a rate measured
 * at start. Services keep small state here across restarts (a stand-in for
 * the data store until ds exists).
 */
#include <samsara/elf64.h>
#include "root.h"
#include "spawn.h"

#define NR_KEYS 64

struct service {
    const struct boot_module *mod;
    const struct profile *prof;
    endpoint_t ep;
    int state;              /* SVC_STATE_* */
    uint64_t restarts;
    uint64_t failed_tsc;    /* when the current failure was noticed */
    uint64_t started_tick;
    uint64_t backoff_ms, retry_at;
    uint64_t last_us, total_us, max_us, recovered;
};

static struct service services[BOOT_MAX_MODULES];
static uint32_t nr_services;
static uint64_t tsc_per_us = 1;
static struct { int owner; char key[ROOT_KEY_LEN]; uint8_t value[ROOT_VALUE_LEN]; } store[NR_KEYS];

static uint64_t us_since(uint64_t tsc) { return (sys_tsc() - tsc) / tsc_per_us; }

void service_init(const struct bootinfo *boot)
{
    for (uint32_t i = 1; i < boot->nr_modules && i < BOOT_MAX_MODULES; i++)
        services[i].mod = &boot->mod[i];
    nr_services = boot->nr_modules;
    uint64_t t0 = sys_tsc(), tick0 = sys_uptime(); /* the TSC rate, over 20 ms */
    while (sys_uptime() < tick0 + 20)
        ;
    tsc_per_us = (sys_tsc() - t0) / 20000;
    if (!tsc_per_us)
        tsc_per_us = 1;
}

endpoint_t service_start(uint32_t i)
{
    struct service *s = &services[i];
    const char *name = s->mod->name;
    s->prof = profile_find(name) ? profile_find(name) : profile_find("unpriv");
    s->ep = start(s->mod, s->prof->name, SELF, s->mod->args);
    s->state = s->ep > 0 ? SVC_STATE_UP : SVC_STATE_DOWN;
    s->started_tick = sys_uptime();
    return s->ep;
}

static struct service *by_label(const char *label)
{
    for (uint32_t i = 1; i < nr_services; i++)
        if (services[i].mod && !strcmp(services[i].mod->name, label))
            return &services[i];
    return 0;
}

static struct service *by_ep(endpoint_t ep)
{
    for (uint32_t i = 1; i < nr_services; i++)
        if (services[i].mod && services[i].ep == ep && ep > 0)
            return &services[i];
    return 0;
}

endpoint_t service_lookup(const char *label)
{
    struct service *s = by_label(label);
    return s && s->ep > 0 && s->state == SVC_STATE_UP ? s->ep : -E_SRCH;
}

static void restart(struct service *s)
{
    s->restarts++;
    uint32_t i = (uint32_t)(s - services);
    if (service_start(i) < 0)
        printf("root: cannot restart %s\n", s->mod->name);
}

/* A death report: 1 if it was a service (handled here), 0 otherwise. */
int service_died(const struct death_info *d)
{
    struct service *s = by_ep(d->ep);
    if (!s)
        return 0;
    if (!s->failed_tsc)
        s->failed_tsc = sys_tsc();
    s->ep = 0;
    if (s->state == SVC_STATE_DOWN || s->prof->restart == RESTART_NEVER) {
        s->state = SVC_STATE_DOWN;
        printf("root: service %s is down (cause %d, code %ld); not restarting it\n",
               s->mod->name, d->cause, d->code);
        return 1;
    }
    if (s->restarts >= RESTART_LIMIT) {
        s->state = SVC_STATE_DOWN;
        printf("root: *** service %s failed %lu times: it stays down ***\n", s->mod->name,
               s->restarts);
        return 1;
    }
    s->state = SVC_STATE_RESTARTING;
    uint64_t now = sys_uptime();
    if (s->prof->restart == RESTART_BACKOFF && now - s->started_tick < 1000) {
        s->backoff_ms = s->backoff_ms ? (s->backoff_ms < 1024 ? s->backoff_ms * 2 : 1024) : 1;
        s->retry_at = now + s->backoff_ms;
        sys_alarm(s->backoff_ms);
        return 1;
    }
    s->backoff_ms = 0;
    restart(s);
    return 1;
}

/* The alarm rang: start the services whose back-off has passed. */
void service_alarm(void)
{
    uint64_t now = sys_uptime(), next = 0;
    for (uint32_t i = 1; i < nr_services; i++) {
        struct service *s = &services[i];
        if (s->state != SVC_STATE_RESTARTING || !s->retry_at)
            continue;
        if (s->retry_at <= now) {
            s->retry_at = 0;
            restart(s);
        } else if (!next || s->retry_at < next) {
            next = s->retry_at;
        }
    }
    if (next)
        sys_alarm(next - now);
}

void service_ready(message_t *m)
{
    struct service *s = by_ep(m->source);
    message_t r = {.type = s ? 0 : -E_SRCH, .u.w = {0, s ? s->restarts : 0}};
    if (s && s->failed_tsc) {
        s->last_us = us_since(s->failed_tsc);
        s->total_us += s->last_us;
        s->max_us = s->last_us > s->max_us ? s->last_us : s->max_us;
        s->recovered++;
        s->failed_tsc = 0;
    }
    ipc_sendnb(m->source, &r);
}

/* An administrator's request (allowed: the sender may manage services). */
void service_request(message_t *m, int allowed)
{
    char label[16];
    memcpy(label, m->u.b + 8, sizeof(label));
    label[15] = '\0';
    struct service *s = by_label(label);
    message_t r = {.type = 0};
    if (!allowed)
        r.type = -E_PERM;
    else if (!s)
        r.type = -E_SRCH;
    else if (m->u.w[0] == SVC_KILL || m->u.w[0] == SVC_RESTART) {
        if (s->ep <= 0)
            r.type = -E_SRCH;
        else {
            s->failed_tsc = sys_tsc(); /* recovery counts from the request */
            sys_proc_kill(s->ep);      /* its death report does the rest */
        }
    } else if (m->u.w[0] == SVC_DOWN) {
        s->state = SVC_STATE_DOWN;
        if (s->ep > 0)
            sys_proc_kill(s->ep);
    } else if (m->u.w[0] == SVC_UP) {
        if (s->state == SVC_STATE_DOWN && s->ep <= 0)
            restart(s);
    } else if (m->u.w[0] == SVC_STATS) {
        r.u.w[1] = s->restarts;
        r.u.w[2] = s->last_us;
        r.u.w[3] = s->recovered ? s->total_us / s->recovered : 0;
        r.u.w[4] = s->max_us;
        r.u.w[5] = (uint64_t)s->state;
    } else {
        r.type = -E_INVAL;
    }
    ipc_sendnb(m->source, &r);
}

/* ROOT_PUBLISH and ROOT_RETRIEVE: a service's own keys. */
void service_state(message_t *m)
{
    struct service *s = by_ep(m->source);
    int owner = s ? (int)(s - services) : -1, free = -1, found = -1;
    message_t r = {.type = -E_SRCH};
    for (int i = 0; i < NR_KEYS && owner > 0; i++) {
        if (!store[i].owner && free < 0)
            free = i;
        if (store[i].owner == owner && !memcmp(store[i].key, m->u.b, ROOT_KEY_LEN))
            found = i;
    }
    if (owner > 0 && m->type == ROOT_PUBLISH) {
        int i = found >= 0 ? found : free;
        if (i < 0) {
            r.type = -E_NOMEM;
        } else {
            store[i].owner = owner;
            memcpy(store[i].key, m->u.b, ROOT_KEY_LEN);
            memcpy(store[i].value, m->u.b + ROOT_KEY_LEN, ROOT_VALUE_LEN);
            r.type = 0;
        }
    } else if (owner > 0 && found >= 0) {
        r.type = 0;
        memcpy(r.u.b + ROOT_KEY_LEN, store[found].value, ROOT_VALUE_LEN);
    }
    ipc_sendnb(m->source, &r);
}
