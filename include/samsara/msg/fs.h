/*
 * Message bodies of the FS protocol: file-system servers (samsara/fs.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_fs, reached as m.u.fs.NAME.
 */
#ifndef SAMSARA_MSG_FS_H
#define SAMSARA_MSG_FS_H

#include <stdint.h>
#include <samsara/msg/reply.h>

union msg_fs {
    struct msg_reply reply;
};
MSG_BODY_FITS(union msg_fs);

#endif
