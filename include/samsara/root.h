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
#include <samsara/grant.h>
#include <samsara/msgtypes.h>

#define ROOT_EP EP_MAKE(1, 0) /* root is the first process ever created */

/* The ROOT range of samsara/msgtypes.h */
#define ROOT_SPAWN                                                                                 \
    (ROOT_RQ_BASE + 0x50) /* request: u.b = struct root_spawn; reply type = ep or error */
#define ROOT_LOOKUP (ROOT_RQ_BASE + 0x4b) /* request: u.b = label (NUL-terminated, < 16); */
/* reply type = endpoint of that running service or -E_SRCH */
#define ROOT_MODULE                                                                                \
    (ROOT_RQ_BASE + 0x4d) /* request: u.b = boot module name; reply type = grant id */
                          /* (read access for the caller), u.w[1] = size; or -E_SRCH */

struct root_spawn {
    char module[12];  /* boot module name, e.g. "ktest" */
    char profile[12]; /* privilege profile from root's table */
    char arg[32];     /* string handed to the child's main */
};

_Static_assert(sizeof(struct root_spawn) <= 56, "fits a message");

/*
 * Reincarnation (the first part of rs, inside root for now).
 * ROOT_READY: a service says it is ready; reply u.w[1] = how many times it
 *   has been restarted (0: a fresh start), so it knows to read its state back.
 * ROOT_SERVICE: an administrator's request, u.w[0] = SVC_*, u.b[8..23] = label;
 *   reply type 0 or -error; SVC_STATS replies u.w[1] restarts, u.w[2] last,
 *   u.w[3] mean, u.w[4] maximum recovery time in microseconds, u.w[5] state,
 *   u.w[6] the longest it took to answer a heartbeat, in ms.
 * State a service keeps across restarts lives in ds (samsara/ds.h), where rs
 * also publishes every service's endpoint as "ep.LABEL".
 */
#define ROOT_READY (ROOT_RQ_BASE + 0x44)
#define ROOT_SERVICE (ROOT_RQ_BASE + 0x56)
#define ROOT_COMPLAIN                                                                              \
    (ROOT_RQ_BASE + 0x43) /* u.b = label of a service that misbehaves; only from a */
                          /* service whose manifest names it under `ipc` */
/*
 * A planned stop (`service restart`, `service update`): rs asks the service
 * to save its state (ROOT_SAVE, sent without blocking; a service that is not
 * receiving is stopped at once), the service writes it to ds and answers
 * ROOT_SAVED; rs stops it then, or after SAVE_MS without an answer.
 */
#define ROOT_SAVE (ROOT_RQ_BASE + 0x41)
#define ROOT_SAVED (ROOT_RQ_BASE + 0x42)
_Static_assert(IS_ROOT_RQ(ROOT_SERVICE), "root types stay in the ROOT range");
#define SAVE_MS 100
enum {
    SVC_KILL = 1,
    SVC_RESTART,
    SVC_DOWN,
    SVC_UP,
    SVC_STATS,
    SVC_LOG,
    SVC_LIST,
    SVC_UPDATE /* only through /dev/service: the program comes as written bytes */
};
/* SVC_LOG, SVC_LIST: u.w[1] = line number; reply type = its length (0: no more), u.b = text */
/*
 * SVC_FORCE in u.w[0] (with SVC_KILL, SVC_RESTART, SVC_DOWN): also a service
 * that would not come back (restart never); without it rs refuses with
 * E_PERM. Who may send what to rs, and why: docs/REINCARNATION.md.
 */
#define SVC_FORCE 0x100
enum { SVC_STATE_UP = 1, SVC_STATE_RESTARTING, SVC_STATE_DOWN };

#define ROOT_LABEL_MAX 16 /* a label with its NUL, as ROOT_LOOKUP and ROOT_COMPLAIN carry it */
#define ROOT_MODULE_NAME_MAX 32 /* a module name with its NUL (ROOT_MODULE) */

/* Client stubs (lib/sys/root.c): no service builds rs's requests by hand. */
endpoint_t root_lookup(const char *label);
int root_complain(const char *label, uint64_t ticks); /* ticks > 0 bounds the wait */
int root_module(const char *name, grant_id_t *grant, uint64_t *size);

#endif
