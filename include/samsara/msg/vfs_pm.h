/*
 * Message bodies of the VFS_PM protocol: pm -> vfs (samsara/fs.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_vfs_pm, reached as m.u.vfs_pm.NAME.
 */
#ifndef SAMSARA_MSG_VFS_PM_H
#define SAMSARA_MSG_VFS_PM_H

#include <stdint.h>
#include <samsara/msg/reply.h>

union msg_vfs_pm {
    struct msg_reply reply;
};
MSG_BODY_FITS(union msg_vfs_pm);

#endif
