/*
 * The root server: the first process, with every privilege. It starts each
 * other boot module with the privileges of the profile named like it,
 * spawns helper processes for those allowed to ask, reaps dead children
 * and reports how they died, and watches the kernel's denial counts.
 * (The reincarnation server of a later issue grows out of this.)
 */
#include <samsara/elf64.h>
#include "root.h"
#include "spawn.h"

static const struct bootinfo *boot;
static endpoint_t may_spawn[NR_SLOTS]; /* slot -> endpoint allowed to spawn */

static const struct boot_module *module_find(const char *name)
{
    for (uint32_t i = 0; i < boot->nr_modules; i++)
        if (!strcmp(boot->mod[i].name, name))
            return &boot->mod[i];
    return 0;
}

/* Start program image m as a child of parent with the privileges of manifest `label`. */
endpoint_t start(const struct boot_module *m, const char *label, endpoint_t parent, const char *arg)
{
    const struct manifest *man = manifest_for(label);
    struct priv v;
    if (!man)
        return -E_INVAL;
    manifest_to_priv(man, &v);
    endpoint_t ep = spawn_image((const uint8_t *)m->vaddr, m->size, m->name, parent, &v, arg,
                                man->priority);
    if (ep > 0 && man->may_manage)
        may_spawn[EP_SLOT(ep)] = ep;
    return ep;
}

endpoint_t start_service(const struct boot_module *m, const struct manifest *man)
{
    return start(m, man->label, SELF, man->args[0] ? man->args : m->args);
}

static void reap_children(void)
{
    struct death_info d;
    while (sys_proc_reap(&d) > 0) {
        may_spawn[EP_SLOT(d.ep)] = 0;
        if (service_died(&d))
            continue;
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
 * Log the newest denial and that process's count: one line per doubling.
 */
static void report_denials(void)
{
    struct trace_entry t;
    struct sysinfo s;
    struct proc_info i;
    if (sys_sysinfo(&s) < 0 || s.trace_seq == 0 || sys_trace_read(s.trace_seq - 1, &t, 1) != 1)
        return;
    if (sys_proc_info(t.ep, &i) < 0)
        return;
    printf("root: %s (endpoint %d) has %lu denied operations; latest: kernel call %u (%lx, %lx)\n",
           i.name, t.ep, i.denied, t.op, t.args[0], t.args[1]);
    service_denied(t.ep, i.denied);
}

static void reply(endpoint_t to, int32_t type, uint64_t w1)
{
    message_t r = {.type = type, .u.w = {0, w1}};
    ipc_sendnb(to, &r);
}

static void handle_lookup(message_t *m)
{
    char name[16];
    memcpy(name, m->u.b, sizeof(name));
    name[15] = '\0';
    reply(m->source, service_lookup(name), 0);
}

/* Lend a data module (one that is not a program) for reading. */
static void handle_module(message_t *m)
{
    char name[32];
    memcpy(name, m->u.b, sizeof(name));
    name[31] = '\0';
    const struct boot_module *mod = module_find(name);
    if (!mod || elf_check((const uint8_t *)mod->vaddr, mod->size) == 0) {
        reply(m->source, -E_SRCH, 0);
        return;
    }
    grant_id_t g = grant_alloc(m->source, (const void *)mod->vaddr, mod->size, GRANT_READ);
    reply(m->source, g, g < 0 ? 0 : mod->size);
}

static void handle_spawn(message_t *m)
{
    struct root_spawn req;
    memcpy(&req, m->u.b, sizeof(req));
    req.module[sizeof(req.module) - 1] = req.profile[sizeof(req.profile) - 1] = '\0';
    req.arg[sizeof(req.arg) - 1] = '\0';
    const struct boot_module *mod = module_find(req.module);
    endpoint_t ep;
    if (m->source <= 0 || may_spawn[EP_SLOT(m->source)] != m->source)
        ep = -E_PERM;
    else if (!mod || !manifest_for(req.profile))
        ep = -E_INVAL;
    else
        ep = start(mod, req.profile, m->source, req.arg);
    message_t reply = {.type = ep};
    ipc_sendnb(m->source, &reply);
}

/* One message to rs: requests, notifications and kernel events. */
void root_dispatch(message_t *mp)
{
    message_t m = *mp;
    if (m.source == SYSTEM) {
        if (m.u.w[0] & NOTIFY_CHILD)
            reap_children();
        if (m.u.w[0] & NOTIFY_DENIED)
            report_denials();
        if (m.u.w[0] & NOTIFY_ALARM)
            service_alarm();
    } else if (m.type == ROOT_SPAWN) {
        handle_spawn(&m);
    } else if (m.type == ROOT_LOOKUP) {
        handle_lookup(&m);
    } else if (m.type == ROOT_MODULE) {
        handle_module(&m);
    } else if (m.type == ROOT_READY) {
        service_ready(&m);
    } else if (m.type == ROOT_SERVICE) {
        service_request(&m, m.source > 0 && may_spawn[EP_SLOT(m.source)] == m.source);
    } else if ((m.type & 0xff00) == 0x4300 && m.source > 0) { /* CDEV_*: /dev/service */
        admin_request(&m);
    } else if (m.type == ROOT_SAVED) {
        service_saved(m.source);
    } else if (m.type == ROOT_COMPLAIN) {
        service_complaint(&m);
    } else if (m.type == MSG_NOTIFY) {
        service_alive(m.source); /* a heartbeat answer */
        if (m.source == service_lookup("pm"))
            service_policy_results(); /* or pm: a program it ran for us ended */
    } else if (m.source > 0) {
        message_t reply = {.type = -E_NOSYS};
        ipc_sendnb(m.source, &reply);
    }
}

int main(uint64_t arg)
{
    boot = (const struct bootinfo *)arg;
    printf("root: started, %u boot modules, %lu MiB of memory\n", boot->nr_modules,
           boot->mem_bytes >> 20);
    endpoint_t pm = 0, vfs = 0;
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
        pm = strcmp(m->name, "pm") ? pm : ep;
        vfs = strcmp(m->name, "vfs") ? vfs : ep;
    }
    printf("rs: started %d services:%s\n", nr_started, started);
    if (pm > 0 && vfs > 0 && sys_linux_servers(pm, vfs) < 0)
        printf("root: cannot route Linux system calls\n");
    for (;;) {
        message_t m;
        int r = ipc_receive(ANY, &m);
        if (r < 0) {
            printf("root: receive failed: %s\n", strerror_s(r));
            continue;
        }
        root_dispatch(&m);
    }
}
