/*
 * Message bodies of the SYSV protocol: pm -> the System V IPC server
 * (samsara/sysv.h), reached as m.u.sysv.NAME; the reply is struct msg_reply.
 */
#ifndef SAMSARA_MSG_SYSV_H
#define SAMSARA_MSG_SYSV_H

#include <stdint.h>
#include <samsara/msg/reply.h>

struct sysv_fork {  /* SYSV_FORK */
    int32_t parent; /* 0: none (a process pm starts itself, such as init) */
    int32_t child;
    int32_t
        pid; /* the child's process's (a thread: its process's, sharing its undo, attachments) */
    int32_t grant; /* read access to the child's struct cred (samsara/fs.h) */
};

struct sysv_proc { /* SYSV_EXIT, SYSV_EXEC, SYSV_CANCEL */
    int32_t ep;
};

struct sysv_setcred { /* SYSV_SETCRED */
    int32_t ep;
    int32_t grant; /* read access to its struct cred */
};

union msg_sysv {
    struct msg_reply reply;
    struct sysv_fork fork;
    struct sysv_proc proc;
    struct sysv_setcred setcred;
};
MSG_BODY_FITS(union msg_sysv);

#endif
