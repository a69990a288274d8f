/*
 * Message bodies of the ROOT protocol: root and rs (samsara/root.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_root, reached as m.u.root.NAME.
 */
#ifndef SAMSARA_MSG_ROOT_H
#define SAMSARA_MSG_ROOT_H

#include <stdint.h>
#include <samsara/msg/reply.h>

union msg_root {
    struct msg_reply reply;
};
MSG_BODY_FITS(union msg_root);

#endif
