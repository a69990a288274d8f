/* libchardriver's internals: status.c's side, used by chardriver.c. */
#ifndef CHARDRIVER_INTERNAL_H
#define CHARDRIVER_INTERNAL_H

#include "chardriver.h"

void chardriver_status_reply(endpoint_t asker); /* answer CDEV_STATUS */
void chardriver_queue_done(endpoint_t dest, uint64_t id, int64_t result);
int chardriver_take_done(endpoint_t dest, uint64_t id, int64_t *result);
int chardriver_done_queued(void); /* DONE items in the queue */
unsigned chardriver_watch(endpoint_t who, int minor, unsigned ops);
void chardriver_set_owner(endpoint_t who); /* CDEV_ST_SIGNAL goes here */
int chardriver_set_mailbox(endpoint_t who, grant_id_t grant, uint64_t size); /* CDEV_MAILBOX */
void chardriver_forget(endpoint_t dead);      /* a client that died: its suspended requests go */
void chardriver_mailbox_room(endpoint_t who); /* who took items: write what was kept back */

#endif
