/*
 * Protocol of the root server, the first process. It starts the boot
 * modules and, for processes whose profile allows it, spawns a boot module
 * image as a child of the requester (tests use this to run helpers).
 */
#ifndef SAMSARA_ROOT_H
#define SAMSARA_ROOT_H

#include <samsara/ipc.h>

#define ROOT_EP EP_MAKE(1, 0) /* root is the first process ever created */

#define ROOT_SPAWN 0x5350 /* request: u.b = struct root_spawn; reply type = ep or error */

struct root_spawn {
    char module[12];  /* boot module name, e.g. "ktest" */
    char profile[12]; /* privilege profile from root's table */
    char arg[32];     /* string handed to the child's main */
};

_Static_assert(sizeof(struct root_spawn) <= 56, "fits a message");

#endif
