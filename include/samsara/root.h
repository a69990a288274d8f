/*
 * Protocol of the root server, the first process. It starts the boot
 * modules; for processes whose manifest allows it (`manage yes`), spawns a
 * boot module image as a child of the requester (tests use this to run
 * helpers); tells anyone a running service's endpoint by label; and lends
 * data modules (the initramfs) through a grant.
 */
#ifndef SAMSARA_ROOT_H
#define SAMSARA_ROOT_H

#include <samsara/ipc.h>
#include <samsara/grant.h>
#include <samsara/msgtypes.h>

#define ROOT_EP EP_MAKE(1, 0) /* root is the first process ever created */

/*
 * The ROOT range of samsara/msgtypes.h. Request bodies and replies:
 * samsara/msg/root.h (m.u.root.NAME); every reply has type ROOT_REPLY and
 * its result first (samsara/msg/reply.h).
 *
 * ROOT_LOOKUP (root_label): the endpoint of that running service, or E_SRCH.
 * ROOT_MODULE (root_module): a read grant for that boot data module, its size after.
 * ROOT_SPAWN (root_spawn): a manager starts a helper: its endpoint.
 * ROOT_READY (root_ready): a service says it is ready (or first only asks):
 *   the reply says how many times it has been restarted (0: a fresh start),
 *   so it knows to read its state back.
 * ROOT_SERVICE (root_service): an administrator's request; SVC_STATS replies
 *   root_stats_reply, SVC_LOG and SVC_LIST root_line_reply.
 * ROOT_COMPLAIN (root_label): a service misbehaves; only from a service
 *   whose manifest names it under `ipc`.
 * ROOT_STATE_GROW (root_state_grow): a service whose manifest says `state SIZE grow` asks for
 *   its state region to reach len bytes (a multiple of 4K, at most SIZE): rs maps the pages
 *   and shares them into the caller after what it has; the reply is the region's length
 *   (E_NOMEM past SIZE or when memory is short; the caller may ask again later).
 * State a service keeps across restarts lives in ds (samsara/ds.h), where rs
 * also publishes every service's endpoint as "ep.LABEL".
 */
#define ROOT_SPAWN (ROOT_RQ_BASE + 0x50)
#define ROOT_LOOKUP (ROOT_RQ_BASE + 0x4b)
#define ROOT_MODULE (ROOT_RQ_BASE + 0x4d)
#define ROOT_READY (ROOT_RQ_BASE + 0x44)
#define ROOT_SERVICE (ROOT_RQ_BASE + 0x56)
#define ROOT_COMPLAIN (ROOT_RQ_BASE + 0x43)
#define ROOT_STATE_GROW (ROOT_RQ_BASE + 0x47)
/*
 * A planned stop (`service restart`, `service update`): rs asks the service
 * to save its state (ROOT_SAVE, sent without blocking; a service that is not
 * receiving is stopped at once), the service writes it to ds and answers
 * ROOT_SAVED; rs stops it then, or after SAVE_MS without an answer.
 * Neither has a body or a reply.
 */
#define ROOT_SAVE (ROOT_RQ_BASE + 0x41)
#define ROOT_SAVED (ROOT_RQ_BASE + 0x42)
#define ROOT_REPLY (ROOT_RQ_BASE + 0xff) /* every reply of root/rs */
_Static_assert(IS_ROOT_RQ(ROOT_REPLY), "root types stay in the ROOT range");
#define SAVE_MS 100
/*
 * The exit status of a service that found no device to drive (its start returned E_NODEV:
 * lib/sys/service.c, service_startup): rs leaves it down whatever its restart policy, instead
 * of starting it again to find nothing again. `service up LABEL` tries once more.
 */
#define ROOT_EXIT_NO_DEVICE 19
enum {
    SVC_KILL = 1,
    SVC_RESTART,
    SVC_DOWN,
    SVC_UP,
    SVC_STATS,
    SVC_LOG,
    SVC_LIST,
    SVC_UPDATE, /* only through /dev/service: the program comes as written bytes */
    SVC_CHAOS   /* `service chaos`: line = count | min_ms << 32 | max_ms << 48 (root_chaos) */
};
/*
 * SVC_FORCE in root_service.op (with SVC_KILL, SVC_RESTART, SVC_DOWN): also a service
 * that would not come back (restart never); without it rs refuses with
 * E_PERM. Who may send what to rs, and why: docs/REINCARNATION.md.
 */
#define SVC_FORCE 0x100
/*
 * SVC_SCRAMBLE with SVC_KILL (a test hook, for managers like every ROOT_SERVICE): rs writes
 * garbage over the service's state region's header first, so the next instance must find it
 * unusable and start fresh (docs/REINCARNATION.md, "State regions").
 */
#define SVC_SCRAMBLE 0x200
enum { SVC_STATE_UP = 1, SVC_STATE_RESTARTING, SVC_STATE_DOWN };

/* Client stubs (lib/sys/root.c): no program builds rs's requests by hand. */
endpoint_t root_lookup(const char *label);
void root_on_deadlock(void (*take)(void));            /* rs sends us requests too: take one */
int root_complain(const char *label, uint64_t ticks); /* ticks > 0 bounds the wait */
int root_module(const char *name, grant_id_t *grant, uint64_t *size);
int64_t root_module_copy(const char *name, void *buf, uint64_t max); /* the size copied */
int root_ready(int query, uint64_t *restarts); /* lib/sys/service.c's service_startup */
int64_t root_state_grow(uint64_t len);         /* the region's length now, or an error */
endpoint_t root_spawn(const char *module, const char *manifest, const char *arg);
int root_service(uint64_t op, const char *label, struct root_stats_reply *stats); /* managers */
/* rs kills label count times, each min_ms..max_ms after its last instance was ready (managers;
 * `service chaos`; count 0 ends a campaign) */
int root_chaos(const char *label, uint32_t count, uint16_t min_ms, uint16_t max_ms);
/* Line i of rs's event log (SVC_LOG, managers) into line: its length, 0 past the last. */
int64_t root_log_line(uint64_t i, char line[ROOT_LINE_MAX + 1]);

#endif
