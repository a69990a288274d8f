/*
 * Message bodies of the PM protocol: pm's requests from system servers (samsara/pm.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_pm, reached as m.u.pm.NAME.
 */
#ifndef SAMSARA_MSG_PM_H
#define SAMSARA_MSG_PM_H

#include <stdint.h>
#include <samsara/msg/reply.h>

union msg_pm {
    struct msg_reply reply;
};
MSG_BODY_FITS(union msg_pm);

#endif
