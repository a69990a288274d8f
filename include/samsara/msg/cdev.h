/*
 * Message bodies of the CDEV protocol: character drivers (samsara/fs.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_cdev, reached as m.u.cdev.NAME.
 */
#ifndef SAMSARA_MSG_CDEV_H
#define SAMSARA_MSG_CDEV_H

#include <stdint.h>
#include <samsara/msg/reply.h>

union msg_cdev {
    struct msg_reply reply;
};
MSG_BODY_FITS(union msg_cdev);

#endif
