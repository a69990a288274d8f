/*
 * The root server (rs): the first process, with every privilege. It starts
 * each other boot module with the privileges of its manifest, spawns helper
 * processes for managers, reaps dead children and reports how they died,
 * and watches the kernel's denial counts (reincarnation: service.c).
 *
 * root_dispatch checks who sent each request against one table before any
 * handler runs (docs/REINCARNATION.md, "Who may send what"); a refusal is
 * counted, logged and answered in one place, service_refused.
 */
#include <samsara/elf64.h>
#include <samsara/fs.h>
#include "root.h"
#include "spawn.h"

static const struct bootinfo *boot;

/* Every process rs started (services and helpers), by slot: its endpoint and manifest. */
static struct {
    endpoint_t ep;
    const struct manifest *man;
} started[NR_SLOTS];

/* The manifest ep was started with (service or helper), or 0. */
const struct manifest *started_manifest(endpoint_t ep)
{
    if (ep <= 0 || started[EP_SLOT(ep)].ep != ep)
        return 0;
    return started[EP_SLOT(ep)].man;
}

static const struct boot_module *module_find(const char *name)
{
    for (uint32_t i = 0; i < boot->nr_modules; i++)
        if (!strcmp(boot->mod[i].name, name))
            return &boot->mod[i];
    return 0;
}

/*
 * State regions (`state SIZE`, docs/REINCARNATION.md): rs's own zeroed
 * pages, one region per service label at STATE_BASE + i * MANIFEST_STATE_MAX,
 * made at its first start and shared (KC_MEM_SHARE) into every instance at
 * MANIFEST_STATE_VADDR before it runs. A death unmaps only the instance's
 * mapping: the pages stay rs's, and the next instance finds what the last
 * one left there. rs never reads them; the service checks its own header.
 * `state SIZE grow`: none is mapped at first; the running service asks for
 * more (ROOT_STATE_GROW, handle_state_grow), up to SIZE, and each instance
 * gets what was mapped so far (`len`).
 */
#define STATE_BASE 0x0000300000000000ull

static struct {
    char label[MANIFEST_LABEL_MAX];
    uint64_t len; /* bytes mapped in rs from the region's start */
} regions[BOOT_MAX_MODULES];

/* man's region in rs (made at the first call), or -1 when it has none or no memory is left. */
static int state_region(const struct manifest *man)
{
    int i = 0;
    while (i < BOOT_MAX_MODULES && regions[i].label[0] && strcmp(regions[i].label, man->label))
        i++;
    if (i == BOOT_MAX_MODULES || !man->state_len)
        return -1;
    if (!regions[i].label[0]) {
        uint64_t len = man->state_grow ? 0 : man->state_len;
        if (len && sys_mem_map(SELF, STATE_BASE + (uint64_t)i * MANIFEST_STATE_MAX, len,
                               PROT_R | PROT_W) < 0)
            return -1;
        strncpy_s(regions[i].label, man->label, MANIFEST_LABEL_MAX);
        regions[i].len = len;
    }
    return i;
}

static uint8_t *region_at(int i)
{
    return (uint8_t *)(STATE_BASE + (uint64_t)i * MANIFEST_STATE_MAX);
}

/* A test hook (SVC_SCRAMBLE): garbage over the first bytes of label's region (its header). */
void state_scramble(const char *label)
{
    const struct manifest *man = manifest_for(label);
    int i = man ? state_region(man) : -1;
    for (int k = 0; i >= 0 && regions[i].len && k < 64; k++)
        region_at(i)[k] = (uint8_t)(0xa5 ^ (k * 29));
}

/*
 * ROOT_STATE_GROW: the running service's own region (`state SIZE grow`) to reach len bytes, a
 * multiple of 4K, at most SIZE. The new pages are rs's, mapped after the old ones and shared into
 * the caller at the same offset; what is there already (an earlier instance asked) stays.
 */
static void handle_state_grow(message_t *m)
{
    const struct manifest *man = service_manifest(m->source);
    uint64_t len = m->u.root.state_grow.len;
    int i = man && man->state_grow ? state_region(man) : -1;
    if (i < 0) {
        service_refused(m, "state grow", "its manifest has no 'state SIZE grow'");
        return;
    }
    if (len % 4096) { /* a page */
        reply_result(m, -E_INVAL);
        return;
    }
    if (len > man->state_len) { /* state_len <= MANIFEST_STATE_MAX: no sum below overflows */
        reply_result(m, -E_NOMEM);
        return;
    }
    uint64_t have = regions[i].len;
    if (len > have) {
        uint64_t src = (uint64_t)region_at(i) + have, more = len - have;
        int r = sys_mem_map(SELF, src, more, PROT_R | PROT_W);
        if (r == 0 && (r = sys_mem_share(m->source, MANIFEST_STATE_VADDR + have, more,
                                         PROT_R | PROT_W, src)) < 0)
            sys_mem_unmap(SELF, src, more);
        if (r < 0) {
            reply_result(m, r);
            return;
        }
        regions[i].len = len;
    }
    reply_result(m, (int64_t)regions[i].len);
}

/* Start program image m as a child of parent with the privileges of manifest `label`. */
endpoint_t start(const struct boot_module *m, const char *label, endpoint_t parent, const char *arg)
{
    const struct manifest *man = manifest_for(label);
    struct priv v;
    if (!man)
        return -E_INVAL;
    manifest_to_priv(man, &v, parent == SELF ? ROOT_EP : parent);
    /* a service's state region; a helper (spawned for a manager) gets none */
    int region = parent == SELF && man->state_len ? state_region(man) : -1;
    if (parent == SELF && man->state_len && region < 0)
        return -E_NOMEM;
    uint64_t len = region < 0 ? 0 : regions[region].len;
    struct spawn_share share = {len ? (uint64_t)region_at(region) : 0, MANIFEST_STATE_VADDR, len};
    endpoint_t ep = spawn_image((const uint8_t *)m->vaddr, m->size, m->name, parent, &v, arg,
                                man->priority, len ? &share : 0);
    if (ep > 0) {
        started[EP_SLOT(ep)].ep = ep;
        started[EP_SLOT(ep)].man = man;
    }
    return ep;
}

/*
 * Rights follow incarnations: the kernel takes every right to a process
 * back when it dies; here each process rs started whose manifest names
 * man's service under `ipc` (its label, or `drivers` for a `dev` key) gets
 * the right to reach its new instance ep.
 */
static void grant_dependents(const struct manifest *man, endpoint_t ep)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if (started[i].ep > 0 && manifest_names(started[i].man, man))
            sys_priv_ipc(started[i].ep, ep, 1);
}

endpoint_t start_service(const struct boot_module *m, const struct manifest *man)
{
    /* the boot module's own arguments, when it has any, replace the manifest's (a test's) */
    endpoint_t ep = start(m, man->label, SELF, m->args[0] ? m->args : man->args);
    if (ep > 0)
        grant_dependents(man, ep);
    return ep;
}

static void say_console(const char *text, void *ep)
{
    printf("root: endpoint %d: %s\n", *(endpoint_t *)ep, text);
}

static void reap_children(void)
{
    struct death_info d;
    while (sys_proc_reap(&d) > 0) {
        const struct manifest *man = started_manifest(d.ep);
        if (started[EP_SLOT(d.ep)].ep == d.ep)
            started[EP_SLOT(d.ep)].ep = 0;
        if (service_died(&d))
            continue;
        dead_driver_devices(man, d.ep, say_console, &d.ep); /* an orphan rs reaps: its DMA too */
        if (d.cause == DEATH_EXIT)
            printf("root: endpoint %d exited with status %ld\n", d.ep, d.code);
        else if (d.cause == DEATH_FAULT)
            printf("root: endpoint %d died of exception %ld at %lx (addr %lx)\n", d.ep, d.code,
                   d.rip, d.addr);
        else
            printf("root: endpoint %d was killed by %ld\n", d.ep, d.code);
    }
}

/*
 * The kernel tells us when a process's denial count reaches 1, 2, 4, 8...
 * Log the newest denial in the trace (refused arguments are there too) and
 * that process's count (one line per doubling), then hold every service to
 * its denial limit.
 */
static void report_denials(void)
{
    static struct trace_entry t[16];
    struct sysinfo s;
    struct proc_info i;
    uint64_t first = 0;
    if (sys_sysinfo(&s) == 0 && s.trace_seq > 0)
        first = s.trace_seq > 16 ? s.trace_seq - 16 : 0;
    int64_t n = s.trace_seq > 0 ? sys_trace_read(first, t, 16) : 0;
    while (n > 0 && t[n - 1].err != -E_PERM)
        n--;
    if (n > 0 && sys_proc_info(t[n - 1].ep, &i) == 0)
        printf("root: %s (endpoint %d) has %lu denied operations; latest: kernel call %u "
               "argument %u (%lx, %lx)\n",
               i.name, t[n - 1].ep, i.denied, t[n - 1].op, t[n - 1].arg, t[n - 1].args[0],
               t[n - 1].args[1]);
    service_denials_check();
}

/*
 * The one way rs answers: r's type becomes the reply type of the request's
 * protocol (CDEV_REPLY for /dev/service, ROOT_REPLY for the rest), its
 * result is first; sent without blocking (a caller not waiting loses it).
 */
void reply_message(const message_t *request, message_t *r)
{
    r->type = IS_CDEV_RQ(request->type) ? CDEV_REPLY : ROOT_REPLY;
    reply_hold(request->source, r); /* sent with the next receive */
}

/* A reply that is only a result (an endpoint, 0 or an error; E_PERM == LX_EPERM for CDEV). */
void reply_result(const message_t *request, int64_t result)
{
    message_t r = {.u.reply.result = result};
    reply_message(request, &r);
}

/* A string field of a request: E_INVAL unless it is NUL-terminated inside its n bytes. */
int request_string(const char *b, uint64_t n, char *out)
{
    uint64_t len = 0;
    while (len < n && b[len])
        len++;
    if (len == n)
        return -E_INVAL;
    memcpy(out, b, len + 1);
    return 0;
}

static void handle_lookup(message_t *m)
{
    char name[ROOT_LABEL_MAX];
    const char *in = m->u.root.label.label;
    reply_result(m, request_string(in, sizeof(name), name) < 0 ? -E_INVAL : service_lookup(name));
}

/*
 * Lend a data module (one that is not a program) for reading, to a service
 * whose manifest names it (`modules`): the initramfs holds /etc/shadow. One
 * grant per module: a new borrower's grant replaces the previous one's
 * (ramfs reads the initramfs once, at its start), so no sender can use up
 * rs's grants.
 */
static void handle_module(message_t *m)
{
    static struct {
        endpoint_t to;
        grant_id_t grant;
    } lent[BOOT_MAX_MODULES];
    char name[MANIFEST_MODULE_MAX];
    if (request_string(m->u.root.module.name, sizeof(name), name) < 0) {
        reply_result(m, -E_INVAL);
        return;
    }
    const struct manifest *man = service_manifest(m->source);
    int named = 0;
    for (int k = 0; man && k < man->nr_modules; k++)
        named |= !strcmp(man->modules[k], name);
    if (!named) { /* the initramfs holds /etc/shadow: only the file server may read it */
        service_refused(m, "module", "its manifest names no such module ('modules')");
        return;
    }
    const struct boot_module *mod = module_find(name);
    if (!mod || elf_check((const uint8_t *)mod->vaddr, mod->size) == 0) {
        reply_result(m, -E_SRCH);
        return;
    }
    uint64_t i = (uint64_t)(mod - boot->mod);
    if (lent[i].to != m->source) {
        if (lent[i].to)
            grant_free(lent[i].grant);
        lent[i].to = 0;
        lent[i].grant = grant_alloc(m->source, (const void *)mod->vaddr, mod->size, GRANT_READ);
        if (lent[i].grant >= 0)
            lent[i].to = m->source;
    }
    message_t r = {.u.root.module_reply = {lent[i].grant, lent[i].grant < 0 ? 0 : mod->size}};
    reply_message(m, &r);
}

/*
 * A manager (manage yes) starts a helper from a boot module image with a
 * manifest: its own, or one that is no service's: a manager cannot take
 * pm's or vfs's privileges, nor any other service's.
 */
static void handle_spawn(message_t *m)
{
    const struct root_spawn *req = &m->u.root.spawn;
    char module[sizeof(req->module)], label[sizeof(req->manifest)], arg[sizeof(req->arg)];
    if (request_string(req->module, sizeof(module), module) < 0 ||
        request_string(req->manifest, sizeof(label), label) < 0 ||
        request_string(req->arg, sizeof(arg), arg) < 0) {
        reply_result(m, -E_INVAL);
        return;
    }
    const struct boot_module *mod = module_find(module);
    const struct manifest *man = manifest_for(label), *own = started_manifest(m->source);
    if (!mod || !man) {
        reply_result(m, -E_INVAL);
        return;
    }
    if (man != own && (service_is_label(label) || (man->flags & PRIV_USERS))) {
        service_refused(m, "spawn", "that manifest is a service's");
        return;
    }
    endpoint_t ep = start(mod, label, m->source, arg);
    if (ep > 0) /* a manager may message the helpers it spawned */
        sys_priv_ipc(m->source, ep, 1);
    reply_result(m, ep);
}

/* A notification: a service's heartbeat answer; from pm also "programs you ran ended". */
static void handle_notify(message_t *m)
{
    service_alive(m->source);
    if (m->source == service_lookup("pm") && service_policies_running())
        service_policy_results();
}

/*
 * Who may send each request (docs/REINCARNATION.md, "Who may send what").
 * root_dispatch checks the sender against the rule before the handler
 * runs; handlers check what depends on the request itself (the target of
 * a complaint, a save nobody asked for, a spawn's manifest).
 */
enum sender {
    ANYONE,  /* any process that can send to rs */
    SERVICE, /* a running service (started from its manifest; not a helper) */
    MANAGER, /* a process whose manifest says `manage yes` */
    VFS,     /* the running service labelled vfs: it forwards writes on /dev/service */
};

static const struct request {
    int32_t type;
    enum sender who;
    void (*handle)(message_t *m);
    const char *name;
} requests[] = {
    {ROOT_LOOKUP, ANYONE, handle_lookup, "lookup"},
    {ROOT_MODULE, SERVICE, handle_module, "module"},
    {ROOT_READY, SERVICE, service_ready, "ready"},
    {ROOT_SAVED, SERVICE, service_saved, "saved"},
    {ROOT_COMPLAIN, SERVICE, service_complaint, "complaint"},
    {ROOT_STATE_GROW, SERVICE, handle_state_grow, "state grow"},
    {MSG_NOTIFY, SERVICE, handle_notify, "notification"},
    {ROOT_SPAWN, MANAGER, handle_spawn, "spawn"},
    {ROOT_SERVICE, MANAGER, service_request, "administrator request"},
    {CDEV_OPEN, VFS, admin_request, "/dev/service open"},
    {CDEV_CLOSE, VFS, admin_request, "/dev/service close"},
    {CDEV_READ, VFS, admin_request, "/dev/service read"},
    {CDEV_WRITE, VFS, admin_request, "/dev/service write"},
    {CDEV_IOCTL, VFS, admin_request, "/dev/service ioctl"},
    {CDEV_CANCEL, VFS, admin_request, "/dev/service cancel"},
    {CDEV_SELECT, VFS, admin_request, "/dev/service select"},
    {CDEV_STATUS, VFS, admin_request, "/dev/service status"},
};

/* Why `who` may not send a request under rule `rule`, or 0 if it may. */
static const char *sender_refusal(enum sender rule, endpoint_t who)
{
    const struct manifest *man = started_manifest(who);
    switch (rule) {
    case ANYONE:
        return 0;
    case SERVICE:
        return service_manifest(who) ? 0 : "not a running service";
    case MANAGER:
        return man && man->may_manage ? 0 : "its manifest does not say 'manage yes'";
    case VFS:
        return who == service_lookup("vfs") ? 0 : "only vfs forwards /dev/service";
    }
    return "no rule";
}

/* One message to rs: requests, notifications and kernel events. */
void root_dispatch(message_t *mp)
{
    message_t m = *mp;
    if (m.source == SYSTEM) {
        if (m.u.notify.bits & NOTIFY_CHILD)
            reap_children();
        if (m.u.notify.bits & NOTIFY_DENIED)
            report_denials();
        if (m.u.notify.bits & NOTIFY_ALARM)
            service_alarm();
        return;
    }
    if (m.source <= 0)
        return; /* HARDWARE: nothing for rs */
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        if (requests[i].type != m.type)
            continue;
        const char *why = sender_refusal(requests[i].who, m.source);
        if (why)
            service_refused(&m, requests[i].name, why);
        else
            requests[i].handle(&m);
        return;
    }
    reply_result(&m, -E_NOSYS);
}

int main(uint64_t arg)
{
    boot = (const struct bootinfo *)arg;
    printf("root: started, %u boot modules, %lu MiB of memory\n", boot->nr_modules,
           boot->mem_bytes >> 20);
    char started[160] = "";
    int nr_started = 0;
    manifests_load(boot);
    service_init(boot);
    for (uint32_t i = 1; i < boot->nr_modules; i++) {
        const struct boot_module *m = &boot->mod[i];
        if (elf_check((const uint8_t *)m->vaddr, m->size) < 0) {
            printf("root: %s is a data module (%lu bytes)\n", m->name, m->size);
            continue;
        }
        endpoint_t ep = service_start(i);
        if (ep < 0 && ep != -E_INVAL)
            printf("rs: cannot start %s: %s\n", m->name, strerror_s(ep));
        if (ep > 0 && strlen(started) + strlen(m->name) + 2 < sizeof(started)) {
            memcpy(started + strlen(started), " ", 2);
            memcpy(started + strlen(started), m->name, strlen(m->name) + 1);
            nr_started++;
        }
    }
    printf("rs: started %d services:%s\n", nr_started, started);
    service_route_linux();
    for (;;) {
        message_t m;
        int r = reply_and_receive(&m); /* the answer held, if any, and the wait: one entry */
        if (r < 0) {
            printf("root: receive failed: %s\n", strerror_s(r));
            continue;
        }
        root_dispatch(&m);
    }
}
