/*
 * Protocol of the root server, the first process. It starts the boot
 * modules; for processes whose profile allows it, spawns a boot module
 * image as a child of the requester (tests use this to run helpers); tells
 * anyone a running service's endpoint by label (until the data store
 * exists); and lends data modules (the initramfs) through a grant.
 */
#ifndef SAMSARA_ROOT_H
#define SAMSARA_ROOT_H

#include <samsara/ipc.h>

#define ROOT_EP EP_MAKE(1, 0) /* root is the first process ever created */

#define ROOT_SPAWN 0x5350  /* request: u.b = struct root_spawn; reply type = ep or error */
#define ROOT_LOOKUP 0x4c4b /* request: u.b = label (NUL-terminated, < 16); */
                           /* reply type = endpoint of that running service or -E_SRCH */
#define ROOT_MODULE 0x4d44 /* request: u.b = boot module name; reply type = grant id */
                           /* (read access for the caller), u.w[1] = size; or -E_SRCH */

struct root_spawn {
    char module[12];  /* boot module name, e.g. "ktest" */
    char profile[12]; /* privilege profile from root's table */
    char arg[32];     /* string handed to the child's main */
};

_Static_assert(sizeof(struct root_spawn) <= 56, "fits a message");

#endif
