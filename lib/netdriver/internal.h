/* libnetdriver's internals: status.c's side, used by netdriver.c. */
#ifndef NETDRIVER_INTERNAL_H
#define NETDRIVER_INTERNAL_H

#include "netdriver.h"

/* NET_INIT: write items to who's mailbox from now on (and forget queued items): 0 or an error. */
int netdriver_status_open(endpoint_t who, grant_id_t grant, uint64_t size);
endpoint_t netdriver_status_client(void); /* the client whose box is open; 0: none */
void netdriver_status_push(int kind, uint64_t id, int64_t value);
int netdriver_status_queued(int kind); /* items of that kind not yet written */
void netdriver_status_forget(void);
void netdriver_status_flush(void); /* write what fits, notify the client */

#endif
