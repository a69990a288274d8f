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
 * The one list of kernel calls, X(NAME, name, wrapper, RET, (TYPE, arg)...):
 * KC_NAME is the number, "name" is what manifests call it (lib/manifest),
 * do_name the kernel's handler (kernel/kcall.c). RET and the typed arguments
 * (rdi, rsi, rdx, r10, r8, r9 in order) give the wrapper lib/sys/sys.h makes:
 * wrapper ipc: `RET ipc_name(args)`, sys: `RET sys_name(args)`, each passing
 * 0 for the registers past its arguments; own: sys_name is written by hand
 * in lib/sys and checked at compile time to have this type. A new call is
 * one line here and its handler.
 */
#define KCALLS(X)                                                                                  \
    /* IPC. Block until delivered. */                                                              \
    X(SEND, send, ipc, int, (endpoint_t, dst), (message_t *, m))                                   \
    /* src may be ANY; a 3rd argument, flags RECV_NONBLOCK: ipc_receive_nb */                      \
    X(RECEIVE, receive, ipc, int, (endpoint_t, src), (message_t *, m))                             \
    /* Send, then receive the reply into m. A 3rd argument ticks > 0 bounds the wait */            \
    /* (E_TIMEDOUT, the call withdrawn): ipc_sendrec_bounded. */                                   \
    X(SENDREC, sendrec, ipc, int, (endpoint_t, dst), (message_t *, m))                             \
    /* Set a pending bit; never blocks. */                                                         \
    X(NOTIFY, notify, ipc, int, (endpoint_t, dst))                                                 \
    /* Deliver only if dst is waiting. */                                                          \
    X(SENDNB, sendnb, ipc, int, (endpoint_t, dst), (message_t *, m))                               \
    /* Kernel calls. Write to the kernel log. */                                                   \
    X(LOG, log, sys, int, (const char *, text), (uint64_t, len))                                   \
    /* Ticks since boot; the time-stamp counter. */                                                \
    X(UPTIME, uptime, sys, uint64_t)                                                               \
    X(TSC, tsc, sys, uint64_t)                                                                     \
    /* Terminate the caller (by hand: flushes the log first, _Noreturn). */                        \
    X(EXIT, exit, own, void, (int, code))                                                          \
    /* Notify from SYSTEM after ticks; 0 cancels. */                                               \
    X(ALARM, alarm, sys, int, (uint64_t, ticks))                                                   \
    /* In/out on an allowed port (op IO_*); enable/disable/ack an allowed IRQ (op IRQ_*). */       \
    X(IOPORT, ioport, sys, int64_t, (int, op), (uint16_t, port), (uint32_t, value))                \
    X(IRQCTL, irqctl, sys, int, (int, op), (int, irq))                                             \
    /* Map an allowed physical range; contiguous zeroed memory, its address in *phys. */           \
    X(MAPPHYS, mapphys, sys, int, (uint64_t, phys), (uint64_t, len), (uint64_t, vaddr))            \
    X(DMAALLOC, dmaalloc, sys, int, (uint64_t, len), (uint64_t, vaddr), (uint64_t *, phys))        \
    /* The caller's grant table; copies through another process's grant. */                        \
    X(SETGRANT, setgrant, sys, int, (struct grant *, table), (uint64_t, count))                    \
    X(SAFECOPY_FROM, safecopy_from, sys, int, (endpoint_t, granter), (grant_id_t, grant),          \
      (uint64_t, offset), (void *, addr), (uint64_t, len))                                         \
    X(SAFECOPY_TO, safecopy_to, sys, int, (endpoint_t, granter), (grant_id_t, grant),              \
      (uint64_t, offset), (const void *, addr), (uint64_t, len))                                   \
    /* A new empty, stopped process; run it (it starts with rdi = arg, rsi = its endpoint, */      \
    /* rdx = its parent; rip = 0 resumes it as it is). */                                          \
    X(PROC_CREATE, proc_create, sys, endpoint_t, (endpoint_t, parent), (const char *, name))       \
    X(PROC_START, proc_start, sys, int, (endpoint_t, ep), (uint64_t, rip), (uint64_t, rsp),        \
      (uint64_t, arg), (int, prio))                                                                \
    /* Kill ep; its state (ep may be SELF); collect one dead child. */                             \
    X(PROC_KILL, proc_kill, sys, int, (endpoint_t, ep))                                            \
    X(PROC_INFO, proc_info, sys, int, (endpoint_t, ep), (struct proc_info *, info))                \
    X(PROC_REAP, proc_reap, sys, endpoint_t, (struct death_info *, death))                         \
    /* Zeroed memory in ep. A 5th and 6th argument (src*, srclen) fill its start: */               \
    /* sys_mem_map_fill. */                                                                        \
    X(MEM_MAP, mem_map, sys, int, (endpoint_t, ep), (uint64_t, vaddr), (uint64_t, len),            \
      (int, prot))                                                                                 \
    X(MEM_UNMAP, mem_unmap, sys, int, (endpoint_t, ep), (uint64_t, vaddr), (uint64_t, len))        \
    X(VCOPY, vcopy, sys, int, (endpoint_t, src_ep), (uint64_t, src), (endpoint_t, dst_ep),         \
      (uint64_t, dst), (uint64_t, len))                                                            \
    /* Root only. */                                                                               \
    X(PRIV_SET, priv_set, sys, int, (endpoint_t, ep), (const struct priv *, priv))                 \
    /* The denial trace from first_seq; the system's counters. */                                  \
    X(TRACE_READ, trace_read, sys, int64_t, (uint64_t, first_seq), (struct trace_entry *, buf),    \
      (uint64_t, max))                                                                             \
    X(SYSINFO, sysinfo, sys, int, (struct sysinfo *, info))                                        \
    /* Kernel invariants: 0, or -1 run queues, -2 sender queues, -3 frame counts. */               \
    X(SELFCHECK, selfcheck, sys, int)                                                              \
    /* A stopped copy of ep (memory, registers with rax = 0, FPU, privileges); the caller */       \
    /* is its parent; FORK_SHARE_SPACE: ep's address space itself, not a copy (a thread). */       \
    /* Its registers (op REGS_GET, REGS_SET, ...). */                                              \
    X(PROC_FORK, proc_fork, sys, int, (endpoint_t, ep), (uint64_t, flags))                         \
    X(PROC_REGS, proc_regs, sys, int, (endpoint_t, ep), (int, op), (struct user_regs *, regs))     \
    /* Who serves Linux calls (sysv 0: no System V IPC server); root only. */                      \
    X(LINUX_SERVERS, linux_servers, sys, int, (endpoint_t, pm), (endpoint_t, vfs),                 \
      (endpoint_t, sysv))                                                                          \
    /* Change mapped pages; prot 0: mapped but unreachable (PROT_NONE). */                         \
    X(MEM_PROTECT, mem_protect, sys, int, (endpoint_t, ep), (uint64_t, vaddr), (uint64_t, len),    \
      (int, prot))                                                                                 \
    /* The name log lines use (ep may be SELF). */                                                 \
    X(PROC_NAME, proc_name, sys, int, (endpoint_t, ep), (const char *, name))                      \
    /* dir GRANT_READ (granters -> caller) or GRANT_WRITE (caller -> granters), count <= 16: */    \
    /* all pieces checked before a byte moves; the total length. */                                \
    X(SAFECOPY_VEC, safecopy_vec, sys, int64_t, (uint32_t, dir),                                   \
      (const struct safecopy_piece *, pieces), (uint64_t, count))                                  \
    /* Add or remove (op PRIV_DEV_*) one I/O, memory or IRQ range of another process. */           \
    X(PRIV_DEVICE, priv_device, sys, int, (endpoint_t, ep), (int, op), (uint64_t, base),           \
      (uint64_t, len))                                                                             \
    /* Free a dead process's quarantined DMA memory; the number of pages freed. */                 \
    X(DMA_RELEASE, dma_release, sys, int64_t, (endpoint_t, ep))                                    \
    /* ep may send to target (on 1) or not (0); root only; taken back at target's death. */        \
    X(PRIV_IPC, priv_ipc, sys, int, (endpoint_t, ep), (endpoint_t, target), (int, on))             \
    /* Seconds since 1970 at tick 0 (0 until pm sets it from the RTC); pm sets it. */              \
    X(BOOTTIME, boottime, sys, uint64_t)                                                           \
    X(SET_BOOTTIME, set_boottime, sys, int, (uint64_t, seconds))                                   \
    /* Move ep's pages and demand-zero markers in [from, from+len) to the free [to, to+len). */    \
    X(MEM_MOVE, mem_move, sys, int, (endpoint_t, ep), (uint64_t, from), (uint64_t, to),            \
      (uint64_t, len))                                                                             \
    /* The caller's own pages [src, src+len) also at vaddr in ep, shared (both see every */        \
    /* write; a frame is freed when its last mapping goes); all or nothing. */                     \
    X(MEM_SHARE, mem_share, sys, int, (endpoint_t, ep), (uint64_t, vaddr), (uint64_t, len),        \
      (int, prot), (uint64_t, src))                                                                \
    /* Hold ep off the CPU (on 1) or let it run again (0): job control's stop and continue; */     \
    /* a process held at a fault (FAULT_HELD) stays held until its fault is reaped. */             \
    X(PROC_HOLD, proc_hold, sys, int, (endpoint_t, ep), (int, on))                                 \
    /* IPC. sendnb m to dst (a client's reply; on an error nothing is done), then receive */       \
    /* from ANY into m: a server's answer and its next wait in one kernel entry. */                \
    X(REPLY_RECEIVE, reply_receive, ipc, int, (endpoint_t, dst), (message_t *, m))                 \
    /* A PRIV_USERS server takes back a Linux process root holds as an orphan (its parent, */      \
    /* pm, died): the caller becomes its parent and hears of its death (a restarted pm). */        \
    X(PROC_ADOPT, proc_adopt, sys, int, (endpoint_t, ep))                                          \
    /* Fault injection into ep (op INJECT_*), only when booted with inject=1 (kernel/inject.c). */ \
    X(INJECT, inject, sys, int64_t, (endpoint_t, ep), (int, op), (uint64_t, addr),                 \
      (uint64_t, value), (uint64_t, len))

enum kcall_number {
#define KC_NUMBER(NAME, ...) KC_##NAME,
    KCALLS(KC_NUMBER)
#undef KC_NUMBER
        NR_KCALLS
};
_Static_assert(NR_KCALLS <= 64, "the kernel-call mask has 64 bits");

#define KC_BIT(n) (1ull << (n))
#define KC_IPC_MASK                                                                                \
    (KC_BIT(KC_SEND) | KC_BIT(KC_RECEIVE) | KC_BIT(KC_SENDREC) | KC_BIT(KC_NOTIFY) |               \
     KC_BIT(KC_SENDNB) | KC_BIT(KC_REPLY_RECEIVE))

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
 * Ports lie below 0x10000; memory is page aligned, below 2^52, never in the
 * RAM the kernel hands out (1 MiB up to its last frame) nor the IOMMU's
 * register page; IRQ lines
 * are base .. base+len-1, never 0 (the clock) or 2 (the cascade).
 */
#define PRIV_DEV_IO_ADD 0
#define PRIV_DEV_IO_REMOVE 1
#define PRIV_DEV_MEM_ADD 2
#define PRIV_DEV_MEM_REMOVE 3 /* the target's mappings of the range go too */
#define PRIV_DEV_IRQ_ADD 4
#define PRIV_DEV_IRQ_REMOVE 5 /* the target's shares of the lines go too */
#define PRIV_DEV_PCI_ADD 6    /* base = a PCI function (bus << 8 | dev << 3 | fn), len 1: its */
#define PRIV_DEV_PCI_REMOVE 7 /* DMA reaches the target's DMA runs only (IOMMU; docs/IOMMU.md) */
/* base 1: trace the target's device operations (port I/O, IRQ control, MMIO maps, DMA
 * allocations) in the kernel's trace ring; 0: no longer (len ignored; docs/TRACE.md) */
#define PRIV_DEV_TRACE 8

/* KC_MEM_MAP / KC_DMAALLOC prot bits */
#define PROT_R 1
#define PROT_W 2
#define PROT_X 4
/* KC_MEM_MAP: demand-zero pages: nothing is allocated now; each page gets a zeroed frame when
 * first touched, by the process or by a copy into it (no src). */
#define MEM_LAZY 8
/*
 * KC_INJECT ops (kernel/inject.c; the choices are rs's, servers/root/inject.c). PEEK: the 8
 * bytes at addr (8-aligned) of any present page of ep, into *value (the caller's). POKE: the
 * low len (1..8) bytes of value written at addr (inside one page), through the kernel's mapping, so
 * text can be written; a page shared with other mappings (a module image, a fork) becomes ep's own
 * copy first. Device, DMA and state-region pages are refused. FLAGS: value is INJECT_* flags, each
 * acted on once by the kernel.
 */
#define INJECT_PEEK 0
#define INJECT_POKE 1
#define INJECT_FLAGS 2
#define INJECT_GARBAGE 1   /* the body of ep's next answer to a dependent is scrambled */
#define INJECT_DENIED 2    /* ep's next kernel call becomes one its manifest does not allow */
#define FORK_SHARE_SPACE 1 /* KC_PROC_FORK: the copy shares the address space (a thread) */

#endif
