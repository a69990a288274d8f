/*
 * Message bodies of the DS protocol: the data store (samsara/ds.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_ds, reached as m.u.ds.NAME.
 */
#ifndef SAMSARA_MSG_DS_H
#define SAMSARA_MSG_DS_H

#include <stdint.h>
#include <samsara/msg/reply.h>

union msg_ds {
    struct msg_reply reply;
};
MSG_BODY_FITS(union msg_ds);

#endif
