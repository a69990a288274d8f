/*
 * The Linux calls the kernel sends to the System V IPC server
 * (servers/ipc, docs/IPC-SYSV.md) when root has named one
 * (KC_LINUX_SERVERS); without it they go to pm, which answers -ENOSYS.
 * No includes: musl programs use it beside their own headers.
 */
#ifndef SAMSARA_LINUX_SYSV_H
#define SAMSARA_LINUX_SYSV_H

/* clang-format off */
#define LINUX_SYSV_CALLS(X)                                                                        \
    X(shmget) X(shmat) X(shmctl) X(semget) X(semop) X(semctl) X(shmdt) X(msgget) X(msgsnd)         \
    X(msgrcv) X(msgctl) X(semtimedop)
/* clang-format on */

#endif
