/*
 * Kernel-wide declarations: the process table, and the functions each
 * kernel file exports. The kernel runs with interrupts off on one CPU and
 * never blocks, so no locks: a field is owned by whoever is running.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <samsara/errno.h>
#include <samsara/ipc.h>
#include <samsara/kcall.h>
#include <samsara/priv.h>
#include <samsara/proc.h>
#include "arch/x86_64/arch.h"

#define HZ 1000
#define NR_PRIO 8 /* 0 is the highest priority */
#define QUANTUM_TICKS 10
#define KC_BLOCKED (-0x7fffffffffffffffll) /* the call blocked; rax set later */
#define KC_RESTART (KC_BLOCKED + 1) /* a part done: `syscall` again, interrupts let in between */
#define LINUX_EIO 5                 /* what a Linux call gets when its server dies */
#define LINUX_EINTR 4               /* ... and when pm interrupts it for a signal */

struct proc {
    struct regs regs;                              /* user context; entries from user mode */
                                                   /* build it here (see entry.S) */
    uint8_t fpu[512] __attribute__((aligned(16))); /* fxsave area */
    int in_use, slot, gen;
    endpoint_t ep, parent;
    uint32_t flags; /* PS_* bits; 0 = runnable */
    char name[PROC_NAME_LEN];
    uint64_t pml4; /* physical address */
    int priority, quantum;
    struct proc *next_ready;

    /* IPC: valid while PS_SENDING / PS_RECEIVING */
    endpoint_t sendto, getfrom;
    int in_sendrec;             /* after the send, receive the reply */
    int awaiting_reply;         /* in sendrec's receive: only a message */
    int linux_call;             /* in a Linux system call: reply to rax */
    int lx_again;               /* its next call is one linux_hold marked LX_AGAIN */
    int user;                   /* a Linux process (made by a PRIV_USERS server) */
    uint64_t fs_base;           /* FS segment base (musl's thread pointer) */
    uint32_t inject;            /* INJECT_* faults still to act on (inject.c) */
    uint64_t msgbuf;            /* caller's message buffer */
    uint64_t buf_va, buf_epoch; /* the last message buffer's translation (ipc.c msg_buffer), */
    message_t *buf_kva;         /* valid while vm_epoch == buf_epoch */
    message_t msg;              /* message being sent */
    struct proc *senders;       /* processes blocked sending to us */
    struct proc *next_sender;
    uint64_t notify_pending[NR_SLOTS / 64]; /* by source slot */
    uint32_t sys_pending;                   /* NOTIFY_* reasons from SYSTEM */
    uint32_t irq_pending;                   /* IRQ bits from HARDWARE */

    uint64_t alarm_at;     /* tick, 0 = none */
    uint64_t ipc_deadline; /* tick a bounded sendrec gives up at, 0 = none */
    uint64_t grant_table, grant_count;
    struct priv priv;
    uint64_t denied, pages, ticks;
    int traced;              /* its device operations go to the trace ring (PRIV_DEV_TRACE) */
    struct death_info death; /* valid while PS_ZOMBIE, or while fault_held */
    int fault_held;          /* a Linux process held at a fault its parent has not reaped */
    endpoint_t fork_copy, fork_src; /* the copy of src our restarting KC_PROC_FORK makes, or 0 */
    uint64_t fork_at;               /* where its next part starts */
    uint64_t region_delta; /* rs's address of a page rs shared us minus ours (vm.c region_twin) */
};

_Static_assert(offsetof(struct proc, regs) == 0 && sizeof(struct regs) % 16 == 0,
               "entry.S builds frames in place: the end of regs must be 16-byte aligned");
_Static_assert(offsetof(struct regs, cs) == 144, "FRAME_CS in entry.S");

extern struct proc proc_table[NR_SLOTS];
extern struct proc *current; /* NULL while idle */
extern struct proc *root_proc;
extern uint64_t ticks, ms_dropped;

/* console.c: kernel log and panics */
void console_init(void);
void console_write(const char *s, size_t n);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic_regs(const struct regs *r, const char *why);

/* lib/mem/mem.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* frame.c: physical frames */
void frame_init(uint32_t mb_info);
void frame_reserve(uint64_t start, uint64_t end);
uint64_t frame_alloc(void);              /* zeroed, 0 if none */
uint64_t frame_alloc_dirty(void);        /* not zeroed: the caller fills it all */
uint64_t frame_alloc_contig(uint64_t n); /* zeroed run, 0 if none */
void frame_free(uint64_t pa);
void frame_init_shares(void);
int frame_share(uint64_t pa);         /* one more mapping of a shared frame; E_NOMEM at the cap */
void frame_unshare(uint64_t pa);      /* one less; the last frees it */
uint64_t frame_mappings(uint64_t pa); /* 1 unless shared */
uint64_t frame_free_count(void);
uint64_t frame_total(void);
extern uint64_t nr_frames, iommu_pa; /* no device range reaches RAM from 1 MiB to nr_frames */
int frame_check(void);

/* vm.c: page tables and user memory access */
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define PTE_NOFREE 0x200ull /* available bit: frame not owned (MMIO) */
#define PTE_DMA 0x400ull    /* available bit: DMA memory, freed by KC_DMA_RELEASE only */
#define PTE_LAZY 0x800ull   /* available bit, not present: a demand-zero page (vm_fault) */
#define PTE_SHARED                                                                                 \
    (1ull << 52) /* software bit: mapped elsewhere too (KC_MEM_SHARE; frame_share)                 \
                  */
/* software bit: a fork shares the frame read-only; the first write copies it (vm_fault) */
#define PTE_COW (1ull << 53)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
extern uint64_t vm_epoch; /* moves when any user mapping goes or changes (vm.c) */
uint64_t vm_new_space(void);
void vm_free_space(uint64_t pml4);
int vm_map(struct proc *p, uint64_t va, uint64_t pa, uint64_t pte_flags);
int vm_range_free(struct proc *p, uint64_t va, uint64_t len);
int vm_alloc_range(struct proc *p, uint64_t va, uint64_t len, uint64_t pte_flags);
int vm_lazy_range(struct proc *p, uint64_t va, uint64_t len, uint64_t pte_flags, int top);
int vm_fault(struct proc *p, uint64_t va, int write);
int vm_move_range(struct proc *p, uint64_t from, uint64_t to, uint64_t len);
void vm_unmap_range(struct proc *p, uint64_t va, uint64_t len);
int vm_share_range(struct proc *p, uint64_t src, struct proc *t, uint64_t va, uint64_t len,
                   uint64_t flags);
void vm_unmap_phys(struct proc *p, uint64_t base, uint64_t len);
int vm_copy_space(struct proc *p, struct proc *c, uint64_t *at);
int vm_unmap_part(struct proc *p, uint64_t va, uint64_t len);
int vm_free_part(struct proc *p);
int vm_protect_range(struct proc *p, uint64_t va, uint64_t len, uint64_t flags);
uint64_t prot_to_pte(uint64_t prot);
int user_range_ok(uint64_t va, uint64_t len);
int user_range_mapped(struct proc *p, uint64_t va, uint64_t len, int write);
uint64_t user_phys(struct proc *p, uint64_t va, int write);      /* 0: not user memory of p */
uint64_t vm_private_frame(struct proc *p, uint64_t va, int own); /* inject.c's reads, writes */
int copy_from_user(struct proc *p, uint64_t src, void *dst, uint64_t len);
int copy_to_user(struct proc *p, uint64_t dst, const void *src, uint64_t len);
int copy_between(struct proc *sp, uint64_t src, struct proc *dp, uint64_t dst, uint64_t len);
int vm_alloc_fill(struct proc *t, uint64_t va, uint64_t len, uint64_t flags, struct proc *sp,
                  uint64_t src, uint64_t srclen);

/* proc.c */
struct proc *proc_alloc(const char *name, endpoint_t parent);
int ep_lookup(endpoint_t ep, struct proc **out);
void proc_start(struct proc *p, uint64_t rip, uint64_t rsp, uint64_t arg, int prio);
void proc_die(struct proc *p, int cause, int64_t code, uint64_t addr, uint64_t err);
int proc_reap(struct proc *parent, struct death_info *out);
uint64_t space_pages(const struct proc *p);
struct proc *space_sharer(const struct proc *p);
void fork_abandon(struct proc *p);

/* sched.c */
void proc_block(struct proc *p, uint32_t flag);
void proc_unblock(struct proc *p, uint32_t flag);
void sched_tick(void);
_Noreturn void schedule(void);
/* These two never return; not _Noreturn, so that a call in tail position is a jump (GCC keeps
 * a _Noreturn callee's return address), and the IPC fast path saves no frame. */
void sched_handoff(struct proc *p, struct proc *dst);
int sched_check(void);
void cpu_run(struct proc *p); /* arch/x86_64/cpu.c */

/* inject.c: fault injection (KC_INJECT), only with inject=1 on the command line */
void inject_boot_option(const char *cmdline);
const message_t *inject_garbage(struct proc *p, const message_t *m);
uint64_t inject_denied_call(struct proc *p, uint64_t n);

/* ipc.c */
int64_t ipc_send(struct proc *p, endpoint_t dst, uint64_t msgp, int nonblock, int sendrec);
int64_t ipc_receive(struct proc *p, endpoint_t src, uint64_t msgp, uint64_t flags);
int64_t ipc_notify(struct proc *p, endpoint_t dst);
int64_t ipc_reply_receive(struct proc *p, endpoint_t dst, uint64_t msgp);
void ipc_fastpath(void);
void ipc_linux_fastpath(struct proc *p, endpoint_t server);
void linux_fastpath(void);
void notify_from_kernel(struct proc *dst, endpoint_t src, uint32_t bits);
void ipc_cleanup(struct proc *dead);
int64_t ipc_linux_call(struct proc *p, endpoint_t server, const message_t *m);
int64_t ipc_interrupt(struct proc *t, struct proc *caller, uint64_t uaddr);
void linux_syscall(struct proc *p);
int64_t linux_orphaned(endpoint_t dead); /* a dead server's callers' error */
void ipc_timeout(struct proc *p);
void ipc_resend_held(void);
int linux_hold(struct proc *p, endpoint_t dead, int received);
int ipc_check(void);

/* kcall.c, priv.c (privileges and the denial trace) */
void kcall_dispatch(struct proc *p);
static inline int priv_may_send(const struct proc *p, const struct proc *dst)
{
    return (p->priv.flags & PRIV_IPC_ALL) ||
           ((p->priv.ipc_to[(uint32_t)dst->slot / 64] >> (dst->slot % 64)) & 1);
}
int64_t deny(struct proc *p, int arg);                /* refused for lack of privilege */
int64_t refuse(struct proc *p, int arg, int64_t err); /* refused argument: traced, not a denial */
void trace_device(struct proc *p, uint64_t third);    /* a traced process's device operation */
int64_t trace_read(struct proc *p, uint64_t first, uint64_t buf, uint64_t max);
uint64_t trace_next_seq(void);

/* irq.c, timer */
void irq_handle(int irq);
void irq_release(struct proc *p, int irq);
void irq_release_all(struct proc *p);
int irq_control(struct proc *p, int op, int irq);
void alarm_set(struct proc *p, uint64_t delay);
void timer_wake_at(uint64_t tick);
void timer_tick(void);
void iommu_init(void);
void iommu_map(endpoint_t owner, uint64_t pa, uint64_t pages);
int64_t iommu_bind(struct proc *t, uint64_t bdf, int add);
void iommu_forget(endpoint_t ep);
void iommu_poll(void);
void dma_map_owned(endpoint_t ep);
uint64_t clock_ticks(void);

/* boot.c */
int elf_load_root(struct proc *p, uint64_t image_pa, uint64_t size, uint64_t *entry);
void boot_start_root(uint32_t mb_info);

#endif
