/*
 * The one list of calls a process can make into the kernel with the
 * `syscall` instruction: rax = KCALL_BASE + number, arguments in rdi, rsi,
 * rdx, r10, r8, r9 (the Linux convention), result in rax (negative = error
 * from errno.h). Numbers below KCALL_BASE are reserved for the Linux
 * system-call interface.
 *
 * The IPC operations are checked against the caller's IPC targets; every
 * other call is checked against the caller's kernel-call mask (bit = number).
 */
#ifndef SAMSARA_KCALL_H
#define SAMSARA_KCALL_H

#define KCALL_BASE 0x5a00

enum kcall_number {
    /* IPC */
    KC_SEND = 0,      /* (dst, msg*): block until delivered */
    KC_RECEIVE,       /* (src|ANY, msg*, flags) */
    KC_SENDREC,       /* (dst, msg*, ticks): send, then receive the reply into msg; */
                      /* ticks > 0 bounds the wait (E_TIMEDOUT, the call withdrawn) */
    KC_NOTIFY,        /* (dst): set a pending bit, never blocks */
    KC_SENDNB,        /* (dst, msg*): deliver only if dst is waiting */
    /* kernel calls */
    KC_LOG,           /* (str*, len): write to the kernel log */
    KC_UPTIME,        /* (): ticks since boot */
    KC_TSC,           /* (): the time-stamp counter */
    KC_EXIT,          /* (code): terminate the caller */
    KC_ALARM,         /* (ticks): notify from SYSTEM after ticks; 0 cancels */
    KC_IOPORT,        /* (op, port, value): in/out on an allowed port */
    KC_IRQCTL,        /* (op, irq): enable/disable/ack an allowed IRQ */
    KC_MAPPHYS,       /* (phys, len, vaddr): map an allowed physical range */
    KC_DMAALLOC,      /* (len, vaddr, phys*): contiguous zeroed memory */
    KC_SETGRANT,      /* (table*, count): declare the caller's grant table */
    KC_SAFECOPY_FROM, /* (granter, grant, offset, addr, len) */
    KC_SAFECOPY_TO,   /* (granter, grant, offset, addr, len) */
    KC_PROC_CREATE,   /* (parent, name*): a new empty, stopped process */
    KC_PROC_START,    /* (ep, rip, rsp, arg, prio): run it; it starts with */
                      /* rdi = arg, rsi = its endpoint, rdx = its parent; */
                      /* rip = 0 resumes it with the registers it has */
    KC_PROC_KILL,     /* (ep) */
    KC_PROC_INFO,     /* (ep|SELF, info*) */
    KC_PROC_REAP,     /* (death_info*): collect one dead child */
    KC_MEM_MAP,       /* (ep, vaddr, len, prot, src*, srclen): memory in ep, */
                      /* zeroed, its start filled from the caller's src */
    KC_MEM_UNMAP,     /* (ep, vaddr, len) */
    KC_VCOPY,         /* (src_ep, src, dst_ep, dst, len) */
    KC_PRIV_SET,      /* (ep, priv*): root only */
    KC_TRACE_READ,    /* (first_seq, buf*, max): denied-operation trace */
    KC_SYSINFO,       /* (sysinfo*) */
    KC_SELFCHECK,     /* (): verify kernel invariants: 0, or -1 run queues, */
                      /* -2 sender queues, -3 frame counts inconsistent */
    KC_PROC_FORK,     /* (ep): a stopped copy of ep (memory, registers with */
                      /* rax = 0, FPU, privileges); the caller is its parent */
    KC_PROC_REGS,     /* (ep, REGS_GET|REGS_SET, user_regs*) */
    KC_LINUX_SERVERS, /* (pm, vfs): who serves Linux system calls; root only */
    KC_MEM_PROTECT,   /* (ep, vaddr, len, prot): change mapped pages; prot 0 */
                      /* leaves them mapped but unreachable (PROT_NONE) */
    KC_PROC_NAME,     /* (ep|SELF, name*): the name the kernel's log lines use */
    NR_KCALLS
};

#define KC_BIT(n) (1ull << (n))
#define KC_IPC_MASK (KC_BIT(KC_SEND) | KC_BIT(KC_RECEIVE) | KC_BIT(KC_SENDREC) | \
                     KC_BIT(KC_NOTIFY) | KC_BIT(KC_SENDNB))

/* KC_IOPORT ops */
#define IO_IN8 0
#define IO_IN16 1
#define IO_IN32 2
#define IO_OUT8 3
#define IO_OUT16 4
#define IO_OUT32 5

/* KC_IRQCTL ops */
#define IRQ_ENABLE 0  /* take ownership and unmask */
#define IRQ_DISABLE 1 /* mask and give up ownership */
#define IRQ_ACK 2     /* unmask again after a notification */

/* KC_MEM_MAP / KC_DMAALLOC prot bits */
#define PROT_R 1
#define PROT_W 2
#define PROT_X 4

#endif
