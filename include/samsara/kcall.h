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

/*
 * The one list of kernel calls, X(NAME, name): KC_NAME is the number, "name"
 * is what manifests call it (lib/manifest), do_name the kernel's handler
 * (kernel/kcall.c). A new call is one line here and its handler.
 */
#define KCALLS(X)                                                                                  \
    /* IPC */                                                                                      \
    X(SEND, send)       /* (dst, msg*): block until delivered */                                   \
    X(RECEIVE, receive) /* (src|ANY, msg*, flags) */                                               \
    X(SENDREC, sendrec) /* (dst, msg*, ticks): send, then receive the */                           \
                        /* reply into msg; ticks > 0 bounds the wait */                            \
                        /* (E_TIMEDOUT, the call withdrawn) */                                     \
    X(NOTIFY, notify)   /* (dst): set a pending bit, never blocks */                               \
    X(SENDNB, sendnb)   /* (dst, msg*): deliver only if dst is waiting */                          \
    /* kernel calls */                                                                             \
    X(LOG, log)                     /* (str*, len): write to the kernel log */                     \
    X(UPTIME, uptime)               /* (): ticks since boot */                                     \
    X(TSC, tsc)                     /* (): the time-stamp counter */                               \
    X(EXIT, exit)                   /* (code): terminate the caller */                             \
    X(ALARM, alarm)                 /* (ticks): notify from SYSTEM after ticks; 0 */               \
                                    /* cancels */                                                  \
    X(IOPORT, ioport)               /* (op, port, value): in/out on an allowed port */             \
    X(IRQCTL, irqctl)               /* (op, irq): enable/disable/ack an allowed IRQ */             \
    X(MAPPHYS, mapphys)             /* (phys, len, vaddr): map an allowed range */                 \
    X(DMAALLOC, dmaalloc)           /* (len, vaddr, phys*): contiguous zeroed memory */            \
    X(SETGRANT, setgrant)           /* (table*, count): the caller's grant table */                \
    X(SAFECOPY_FROM, safecopy_from) /* (granter, grant, offset, addr, len) */                      \
    X(SAFECOPY_TO, safecopy_to)     /* (granter, grant, offset, addr, len) */                      \
    X(PROC_CREATE, proc_create)     /* (parent, name*): a new empty, stopped process */            \
    X(PROC_START, proc_start)       /* (ep, rip, rsp, arg, prio): run it; it starts */             \
                                    /* with rdi = arg, rsi = its endpoint, rdx = its */            \
                                    /* parent; rip = 0 resumes it as it is */                      \
    X(PROC_KILL, proc_kill)         /* (ep) */                                                     \
    X(PROC_INFO, proc_info)         /* (ep|SELF, info*) */                                         \
    X(PROC_REAP, proc_reap)         /* (death_info*): collect one dead child */                    \
    X(MEM_MAP, mem_map)             /* (ep, vaddr, len, prot, src*, srclen): zeroed */             \
                                    /* memory in ep, its start filled from src */                  \
    X(MEM_UNMAP, mem_unmap)         /* (ep, vaddr, len) */                                         \
    X(VCOPY, vcopy)                 /* (src_ep, src, dst_ep, dst, len) */                          \
    X(PRIV_SET, priv_set)           /* (ep, priv*): root only */                                   \
    X(TRACE_READ, trace_read)       /* (first_seq, buf*, max): the denial trace */                 \
    X(SYSINFO, sysinfo)             /* (sysinfo*) */                                               \
    X(SELFCHECK, selfcheck)         /* (): kernel invariants: 0, or -1 run queues, */              \
                                    /* -2 sender queues, -3 frame counts */                        \
    X(PROC_FORK, proc_fork)         /* (ep): a stopped copy of ep (memory, registers */            \
                                    /* with rax = 0, FPU, privileges); the caller is */            \
                                    /* its parent */                                               \
    X(PROC_REGS, proc_regs)         /* (ep, REGS_GET|REGS_SET|..., user_regs*) */                  \
    X(LINUX_SERVERS, linux_servers) /* (pm, vfs): who serves Linux calls; root only */             \
    X(MEM_PROTECT, mem_protect)     /* (ep, vaddr, len, prot): change mapped pages; */             \
                                    /* prot 0: mapped but unreachable (PROT_NONE) */               \
    X(PROC_NAME, proc_name)         /* (ep|SELF, name*): the name log lines use */                 \
    X(SAFECOPY_VEC, safecopy_vec)   /* (GRANT_READ|GRANT_WRITE, piece*, count <= 16): */           \
                                    /* all pieces checked before a byte moves; total */            \
    X(PRIV_DEVICE, priv_device)     /* (ep, PRIV_DEV_*, base, len): add or remove one */           \
                                    /* I/O, memory or IRQ range of another process */              \
    X(DMA_RELEASE, dma_release)     /* (ep): free a dead process's quarantined DMA */              \
                                    /* memory; the number of pages freed */                        \
    X(PRIV_IPC, priv_ipc)           /* (ep, target, on): ep may send to target (1) or */           \
                                    /* not (0); root only; taken back at target's death */

enum kcall_number {
#define KC_NUMBER(NAME, name) KC_##NAME,
    KCALLS(KC_NUMBER)
#undef KC_NUMBER
        NR_KCALLS
};

#define KC_BIT(n) (1ull << (n))
#define KC_IPC_MASK                                                                                \
    (KC_BIT(KC_SEND) | KC_BIT(KC_RECEIVE) | KC_BIT(KC_SENDREC) | KC_BIT(KC_NOTIFY) |               \
     KC_BIT(KC_SENDNB))

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

/*
 * KC_PRIV_DEVICE ops. ADD appends [base, base+len) to the target's table
 * (nothing to do if that exact range is there; E_NOSPC when the table is
 * full); REMOVE takes out exactly such an entry (E_RANGE if there is none).
 * Ports lie below 0x10000; memory is page aligned, below 2^52; IRQ lines
 * are base .. base+len-1, never 0 (the clock) or 2 (the cascade).
 */
#define PRIV_DEV_IO_ADD 0
#define PRIV_DEV_IO_REMOVE 1
#define PRIV_DEV_MEM_ADD 2
#define PRIV_DEV_MEM_REMOVE 3 /* the target's mappings of the range go too */
#define PRIV_DEV_IRQ_ADD 4
#define PRIV_DEV_IRQ_REMOVE 5 /* the target's shares of the lines go too */

/* KC_MEM_MAP / KC_DMAALLOC prot bits */
#define PROT_R 1
#define PROT_W 2
#define PROT_X 4

#endif
