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
};

extern const struct profile profiles[];
const struct profile *profile_find(const char *name);
void profile_to_priv(const struct profile *p, struct priv *v);

#endif
