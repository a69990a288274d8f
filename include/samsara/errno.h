/*
 * Error codes returned by Samsara's kernel calls and IPC operations, as
 * negative numbers in rax. Where Linux has a code with the same meaning we
 * use its number (so a later Linux-ABI layer can pass them through); codes
 * that only make sense here start at 1000.
 */
#ifndef SAMSARA_ERRNO_H
#define SAMSARA_ERRNO_H

#define E_OK 0
#define E_PERM 1         /* caller's privileges do not allow this */
#define E_SRCH 3         /* no such endpoint (never was, or garbage) */
#define E_IO 5           /* a device failed the transfer */
#define E_NXIO 6         /* no such device (minor) or partition */
#define E_NODEV 19       /* a driver found no device to drive (lib/pci: pci_take_first) */
#define E_AGAIN 11       /* would block (non-blocking op) or no resources */
#define E_NOMEM 12       /* out of physical memory or page tables */
#define E_FAULT 14       /* a user pointer is unmapped or lacks access */
#define E_BUSY 16        /* resource owned by someone else */
#define E_INVAL 22       /* an argument is out of its domain */
#define E_NOSPC 28       /* a table is full */
#define E_RANGE 34       /* offset/length outside a grant or range */
#define E_DEADLK 35      /* the send would close a cycle of blocked senders */
#define E_NOSYS 38       /* no such call */
#define E_LOOP 40        /* a chain of indirect grants too long, or a loop */
#define E_TIMEDOUT 110   /* a bounded sendrec had no reply in time */
#define E_DEADEP 1001    /* endpoint's process died, or endpoint is stale */
#define E_BADGRANT 1002  /* no such grant, revoked, or not for the caller */
#define E_RESTARTED 1003 /* a block device not (re-)opened since its driver started: open it */
#define E_CHILD 10       /* no dead child to reap */

#endif
