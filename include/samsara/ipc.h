/*
 * IPC interface shared by the kernel and every process.
 *
 * A message is 64 bytes: the kernel fills in `source` on delivery; `type`
 * and the 56-byte payload belong to the protocol of the two parties.
 * An endpoint names one incarnation of a process: endpoint = generation *
 * NR_SLOTS + slot. When a slot is reused the generation grows, so a stale
 * endpoint fails with E_DEADEP instead of reaching the new occupant.
 */
#ifndef SAMSARA_IPC_H
#define SAMSARA_IPC_H

#include <stdint.h>
#include <samsara/msgtypes.h>
#include <samsara/msg/reply.h>
#include <samsara/msg/kernel.h>
#include <samsara/msg/root.h>
#include <samsara/msg/ds.h>
#include <samsara/msg/fs.h>
#include <samsara/msg/bdev.h>
#include <samsara/msg/cdev.h>
#include <samsara/msg/pm.h>
#include <samsara/msg/vfs_pm.h>
#include <samsara/msg/pci.h>
#include <samsara/msg/net.h>
#include <samsara/msg/sock.h>
#include <samsara/msg/sysv.h>

typedef int32_t endpoint_t;

#define NR_SLOTS 128              /* process table size */
#define ANY ((endpoint_t)-1)      /* receive: from anyone */
#define SYSTEM ((endpoint_t)-2)   /* source of kernel notifications */
#define HARDWARE ((endpoint_t)-3) /* source of IRQ notifications */
#define SELF ((endpoint_t)-4)     /* the caller itself (kernel calls) */
#define NONE ((endpoint_t)-5)

#define EP_SLOT(ep) ((int)((ep) % NR_SLOTS))
#define EP_GEN(ep) ((int)((ep) / NR_SLOTS))
#define EP_MAKE(gen, slot) ((endpoint_t)((gen)*NR_SLOTS + (slot)))
#define EP_MAX_GEN 1000000

/*
 * A message: 64 bytes. The body is typed per protocol (the headers in samsara/msg/):
 * m.u.fs.read, m.u.ds.publish, ...; w[] and b[] remain for code that has
 * not been given a struct yet and for tests that send raw words.
 */
typedef struct message {
    endpoint_t source; /* set by the kernel */
    int32_t type;
    union {
        uint64_t w[7];
        uint8_t b[56];
        struct msg_reply reply;
        struct msg_notify notify; /* MSG_NOTIFY, made by the kernel */
        struct msg_linux_call lx; /* MSG_LINUX_CALL, made by the kernel */
        union msg_root root;
        union msg_bdev bdev;
        union msg_ds ds;
        union msg_fs fs;
        union msg_cdev cdev;
        union msg_pm pm;
        union msg_vfs_pm vfs_pm;
        union msg_pci pci;
        union msg_net net;
        union msg_sock sock;
        union msg_sysv sysv;
    } u;
} message_t;

_Static_assert(sizeof(message_t) == 64, "messages are 64 bytes");

/* Notification messages carry this type (the KERNEL range, samsara/msgtypes.h). */
#define MSG_NOTIFY (KERNEL_RQ_BASE + 0x4e)
_Static_assert(IS_KERNEL_RQ(MSG_NOTIFY), "MSG_NOTIFY stays in the KERNEL range");
/* From SYSTEM: u.notify.bits holds the reasons (msg/kernel.h). */
#define NOTIFY_ALARM (1u << 0)
#define NOTIFY_CHILD (1u << 1)  /* a child died: reap it with KC_PROC_REAP */
#define NOTIFY_DENIED (1u << 2) /* (root) a process crossed the denial threshold */
/* From HARDWARE: u.notify.bits holds the bitmap of pending IRQs. */

/* Flags for the receive operation. */
#define RECV_NONBLOCK 1u

#endif
