/*
 * Message bodies the kernel makes (the KERNEL range of samsara/msgtypes.h).
 * A notification (MSG_NOTIFY) from SYSTEM carries NOTIFY_* reasons as bits,
 * one from HARDWARE the bitmap of pending IRQ lines; both carry the uptime
 * at delivery. A Linux system call (MSG_LINUX_CALL) carries its number and
 * six arguments in the registers' order (rdi, rsi, rdx, r10, r8, r9); the
 * server's reply puts its result first (msg/reply.h), which the kernel
 * returns in rax.
 */
#ifndef SAMSARA_MSG_KERNEL_H
#define SAMSARA_MSG_KERNEL_H

#include <stdint.h>
#include <samsara/msg/reply.h>

struct msg_notify {
    uint64_t bits;  /* SYSTEM: NOTIFY_* reasons; HARDWARE: bit n = IRQ n is pending */
    uint64_t ticks; /* the uptime when it was delivered */
};
MSG_BODY_FITS(struct msg_notify);

struct msg_linux_call {
    uint64_t nr;     /* the Linux system-call number */
    uint64_t arg[6]; /* its arguments */
};
MSG_BODY_FITS(struct msg_linux_call);

#endif
