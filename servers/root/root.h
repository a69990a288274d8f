/* The root server's internal interfaces. */
#ifndef ROOT_H
#define ROOT_H

#include <samsara/root.h>
#include "sys.h"

struct profile {
    const char *name;
    uint64_t kcalls;
    uint32_t flags;
    int nr_io;
    struct { uint32_t base, len; } io[2];
    uint32_t irqs;
    uint64_t mem_base, mem_len; /* one physical range it may map */
    int may_spawn; /* may ask root to spawn helpers */
    int priority;
    int restart;   /* RESTART_*: what to do when it fails */
};

enum { RESTART_NEVER, RESTART_IMMEDIATE, RESTART_BACKOFF };
#define RESTART_LIMIT 5000 /* restarts after which a service stays down */

extern const struct profile profiles[];
const struct profile *profile_find(const char *name);
void profile_to_priv(const struct profile *p, struct priv *v);

/* service.c: services, their failures and restarts */
void service_init(const struct bootinfo *boot);
endpoint_t service_start(uint32_t module);
int service_died(const struct death_info *d);
void service_request(message_t *m, int allowed);
void service_ready(message_t *m);
void service_state(message_t *m);
void service_alarm(void);
endpoint_t service_lookup(const char *label);
endpoint_t start(const struct boot_module *m, const char *profile, endpoint_t parent,
                 const char *arg);

#endif
