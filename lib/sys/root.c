/*
 * Client stubs for rs (root), so that no service builds rs's requests by
 * hand (samsara/root.h has the protocol, samsara/msg/root.h the bodies).
 * Each is one sendrec to ROOT_EP; rs answers at once, with ROOT_REPLY and
 * the result first. A reply of any other type is E_INVAL.
 */
#include <samsara/root.h>
#include "sys.h"

#define DEADLOCK_TRIES 4 /* rs's own requests taken before a call gives E_DEADLK up */

static void (*take_rs_request)(void);

/*
 * For a server rs sends requests of its own to (pci: PCI_QUIESCE): a call to
 * rs made while rs is sending to it is refused by the kernel's cycle check
 * (E_DEADLK); take() then receives and answers rs's request, and the call is
 * made again, DEADLOCK_TRIES times at most.
 */
void root_on_deadlock(void (*take)(void))
{
    take_rs_request = take;
}

/* One request to rs (a bounded wait if ticks > 0): the reply's result, or the IPC error. */
static int64_t call(message_t *m, uint64_t ticks)
{
    message_t copy = *m;
    int r;
    for (int tries = 0;; tries++) {
        r = ticks ? ipc_sendrec_bounded(ROOT_EP, m, ticks) : ipc_sendrec(ROOT_EP, m);
        if (r != -E_DEADLK || !take_rs_request || tries == DEADLOCK_TRIES)
            break;
        take_rs_request(); /* rs is sending to us: its request first */
        *m = copy;
    }
    if (r < 0)
        return r;
    return m->type == ROOT_REPLY ? m->u.reply.result : -E_INVAL;
}

/* The endpoint of the running service `label`, or a negative error (E_SRCH: none such, or down). */
endpoint_t root_lookup(const char *label)
{
    message_t m = {.type = ROOT_LOOKUP};
    strncpy_s(m.u.root.label.label, label, ROOT_LABEL_MAX);
    int64_t r = call(&m, 0);
    return r > 0 ? (endpoint_t)r : (r < 0 ? (int)r : -E_SRCH);
}

/* Complain that `label` misbehaves: 0 (rs treats it as failed), or E_PERM, E_SRCH. */
int root_complain(const char *label, uint64_t ticks)
{
    message_t m = {.type = ROOT_COMPLAIN};
    strncpy_s(m.u.root.label.label, label, ROOT_LABEL_MAX);
    return (int)call(&m, ticks);
}

/* Borrow the boot data module `name` (its manifest must name it): a read grant and its size. */
int root_module(const char *name, grant_id_t *grant, uint64_t *size)
{
    message_t m = {.type = ROOT_MODULE};
    strncpy_s(m.u.root.module.name, name, ROOT_MODULE_NAME_MAX);
    int64_t r = call(&m, 0);
    if (r < 0)
        return (int)r;
    *grant = (grant_id_t)r;
    *size = m.u.root.module_reply.size;
    return 0;
}

/* Copy the whole boot data module `name` into buf (at most max bytes): its size, or an error. */
int64_t root_module_copy(const char *name, void *buf, uint64_t max)
{
    grant_id_t g = 0;
    uint64_t size = 0;
    int r = root_module(name, &g, &size);
    if (r == 0 && size > max)
        r = -E_NOMEM;
    if (r == 0)
        r = sys_safecopy_from(ROOT_EP, g, 0, buf, size);
    return r < 0 ? r : (int64_t)size;
}

/*
 * The calling service is ready (query 0: rs stops its recovery clock), or
 * only asks (query 1); *restarts (if not 0) gets how often rs restarted it.
 */
int root_ready(int query, uint64_t *restarts)
{
    message_t m = {.type = ROOT_READY, .u.root.ready.query = query != 0};
    int64_t r = call(&m, 0);
    if (r == 0 && restarts)
        *restarts = m.u.root.ready_reply.restarts;
    return (int)r;
}

int64_t root_state_grow(uint64_t len)
{
    message_t m = {.type = ROOT_STATE_GROW, .u.root.state_grow.len = len};
    return call(&m, 0);
}

/* Start boot module `module` as a child, with manifest `manifest`: its endpoint, or an error. */
endpoint_t root_spawn(const char *module, const char *manifest, const char *arg)
{
    message_t m = {.type = ROOT_SPAWN};
    struct root_spawn *s = &m.u.root.spawn;
    strncpy_s(s->module, module, sizeof(s->module));
    strncpy_s(s->manifest, manifest, sizeof(s->manifest));
    strncpy_s(s->arg, arg, sizeof(s->arg));
    int64_t r = call(&m, 0);
    return r > 0 ? (endpoint_t)r : (r < 0 ? (int)r : -E_SRCH);
}

/*
 * An administrator's request about service `label` (SVC_KILL ... SVC_UP,
 * SVC_FORCE allowed; SVC_STATS): 0 or an error. For SVC_STATS, *stats
 * gets the figures when stats is not 0.
 */
int root_service(uint64_t op, const char *label, struct root_stats_reply *stats)
{
    message_t m = {.type = ROOT_SERVICE, .u.root.service.op = op};
    strncpy_s(m.u.root.service.label, label, ROOT_LABEL_MAX);
    int64_t r = call(&m, 0);
    if (r == 0 && stats)
        *stats = m.u.root.stats;
    return (int)r;
}

int root_chaos(const char *label, uint32_t count, uint16_t min_ms, uint16_t max_ms)
{
    message_t m = {
        .type = ROOT_SERVICE,
        .u.root.service = {.op = SVC_CHAOS,
                           .line = count | (uint64_t)min_ms << 32 | (uint64_t)max_ms << 48}};
    strncpy_s(m.u.root.service.label, label, ROOT_LABEL_MAX);
    return (int)call(&m, 0);
}

int64_t root_log_line(uint64_t i, char line[ROOT_LINE_MAX + 1])
{
    message_t m = {.type = ROOT_SERVICE, .u.root.service = {.op = SVC_LOG, .line = i}};
    int64_t n = call(&m, 0);
    if (n <= 0 || n > ROOT_LINE_MAX)
        return 0;
    memcpy(line, m.u.root.line.text, (size_t)n);
    line[n] = 0;
    return n;
}
