/* The root server's internal interfaces. */
#ifndef ROOT_H
#define ROOT_H

#include <samsara/manifest.h>
#include <samsara/root.h>
#include "format/format.h"
#include "sys.h"

int manifests_load(const struct bootinfo *boot);
const struct manifest *manifest_for(const char *label);
int manifest_broken(const char *label);
void manifest_to_priv(const struct manifest *m, struct priv *v, endpoint_t parent);
int manifest_names(const struct manifest *m,
                   const struct manifest *t); /* t's service, under `ipc` */

/* service.c: services, their failures and restarts */
void service_init(const struct bootinfo *boot);
endpoint_t service_start(uint32_t module);
int service_died(const struct death_info *d);
void service_request(message_t *m);
void service_ready(message_t *m);
void service_alarm(void);
void service_alive(endpoint_t ep);
void service_saved(message_t *m);
const struct manifest *service_manifest(endpoint_t ep); /* of a running service, or 0 */
int service_is_label(const char *label);                /* a service (not a helper) has it */
void service_refused(const message_t *m, const char *what, const char *why);
const struct manifest *started_manifest(endpoint_t ep);     /* root.c: any process rs started */
int request_string(const char *b, uint64_t n, char *out);   /* NUL within n bytes: copy, 0 */
void reply_message(const message_t *request, message_t *r); /* root.c: type set, sent */
void reply_result(const message_t *request, int64_t result);
/* quiesce.c: a dead driver's devices quiesced (the pci server), then its DMA memory freed */
void dead_driver_devices(const struct manifest *m, endpoint_t dead,
                         void (*say)(const char *text, void *arg), void *arg);
void dead_drivers_pci_ready(void); /* a pci server is ready: the quiesces left for it */
void service_policy_results(void);
int service_policies_running(void); /* a policy script's result is awaited */
void service_denials_check(void);
void service_complaint(message_t *m);
int service_line(int log, uint64_t i, char *buf, uint64_t len);
int service_admin(int op, const char *label, int force, const char **why);
int service_chaos(const char *label, uint64_t count, uint64_t min_ms, uint64_t max_ms, int start,
                  const char **why);
int service_chaos_report(char *buf, uint64_t len); /* `service chaos`: the last campaign */
void admin_request(message_t *m);
/* trace.c: `trace LABEL on|off|FROM` of /dev/service, the device-access trace (docs/TRACE.md) */
#define TRACE_EPS 4 /* the instances of a service whose entries `trace` shows */
int service_trace(const char *label, int on, endpoint_t eps[TRACE_EPS], int *traced);
void command_trace(char **word, int n, void (*add)(const char *text));
int admin_decimal(const char *text, uint64_t *out); /* admin.c: a decimal number, or -1 */
int service_update_begin(const char *label, uint64_t size, int force, const char **why);
int service_update_data(const void *data, uint64_t len);
void service_update_abort(void);
void root_dispatch(message_t *m);
endpoint_t service_lookup(const char *label);
endpoint_t service_ready_endpoint(const char *label); /* 0: starting, ready later */
void service_route_linux(void);
endpoint_t start_service(const struct boot_module *m, const struct manifest *man);
void state_scramble(const char *label);
const struct boot_module *service_image(const char *label);
/* inject.c: `service inject LABEL KIND [COUNT [SEED]]`, its answer line into out */
void inject_command(const char *label, const char *kind, uint64_t count, uint64_t seed, char *out,
                    uint64_t len); /* root.c: a test hook (SVC_SCRAMBLE) */
endpoint_t start(const struct boot_module *m, const char *label, endpoint_t parent,
                 const char *arg);

#endif
