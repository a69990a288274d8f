/*
 * Signals. A signal for a process is made pending; an unblocked pending
 * signal is delivered at once: its default action (terminate; ignore for
 * SIGCHLD, SIGCONT, SIGURG, SIGWINCH; stop for the stop signals, stop.c),
 * or its handler. A fault the kernel reports (FAULT_HELD) is a forced
 * signal with its si_code and si_addr (signal_fault). For a handler, the
 * process's current call is ended first (a wait in pm with -EINTR; a call
 * queued at a server is withdrawn by the kernel; one vfs holds is
 * cancelled), then pm writes a Linux rt_sigframe on its stack and points
 * it at the handler; the handler returns through its SA_RESTORER, which
 * calls rt_sigreturn and restores the saved registers, FPU/SSE state and mask.
 * A handler with SA_ONSTACK runs on the alternate stack (sigaltstack) if
 * one is set and the process is not on it already.
 * Threads (thread.c): each has its own mask and pending set, and the
 * process has one more (Linux's shared pending set, in the main thread's
 * entry): a signal for the process is pending there and goes to one thread
 * that does not block it (signal_target), or, if every thread blocks it,
 * to the first that unblocks it (sigprocmask, sigsuspend, sigreturn) or
 * waits for it (rt_sigtimedwait); tkill and tgkill make it pending on the
 * thread named. Every thread holds a copy of the handlers, changed in all
 * at once (act_set).
 */
#include "pm.h"

#define SIG_BIT(s) (1ull << ((s)-1))
#define SA_ONSTACK 0x08000000
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 2048
#define UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))

struct sigcontext_l {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint64_t segs, err, trapno, oldmask, cr2, fpstate, reserved[8];
};

struct rt_sigframe {
    uint64_t pretcode; /* the restorer: the handler returns here */
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp, ss_flags, ss_size; /* uc_stack */
    struct sigcontext_l mc;            /* uc_mcontext */
    uint64_t uc_sigmask;
    uint64_t pad;
    struct siginfo_l info;
};

/* The signal Linux sends for each x86 exception vector (arch/x86/kernel/traps.c). */
static const uint8_t vector_signal[32] = {
    [0] = SIGFPE,   /* #DE divide error */
    [1] = SIGTRAP,  /* #DB debug: single step (TF), breakpoints */
    [3] = SIGTRAP,  /* #BP int3 */
    [4] = SIGSEGV,  /* #OF into */
    [5] = SIGSEGV,  /* #BR bound */
    [6] = SIGILL,   /* #UD invalid opcode */
    [9] = SIGFPE,   /* coprocessor segment overrun */
    [10] = SIGSEGV, /* #TS invalid TSS */
    [11] = SIGBUS,  /* #NP segment not present */
    [12] = SIGBUS,  /* #SS stack segment */
    [13] = SIGSEGV, /* #GP general protection */
    [14] = SIGSEGV, /* #PF page fault */
    [16] = SIGFPE,  /* #MF x87 floating point */
    [17] = SIGBUS,  /* #AC alignment check */
    [19] = SIGFPE,  /* #XM SIMD floating point */
    [21] = SIGSEGV, /* #CP control protection */
};

/* The signal a process killed by the kernel for exception `vector` died of. */
int fault_signal(int64_t vector)
{
    return vector >= 0 && vector < 32 && vector_signal[vector] ? vector_signal[vector] : SIGSEGV;
}

static uint8_t fpstate[FPU_STATE_SIZE] __attribute__((aligned(16))); /* mc.fpstate's image */

/* Is sp on mp's alternate signal stack (Linux's on_sig_stack: the stack grows down)? */
static int on_altstack(const struct mproc *mp, uint64_t sp)
{
    return mp->ss_size && sp > mp->ss_sp && sp - mp->ss_sp <= mp->ss_size;
}

/*
 * Set mp's alternate stack to (sp, flags, size) when its stack pointer is
 * at now: EPERM while on it, EINVAL for other modes than 0, SS_ONSTACK,
 * SS_DISABLE (with SS_AUTODISARM or not), ENOMEM under MINSIGSTKSZ.
 */
static int64_t altstack_set(struct mproc *mp, uint64_t now, uint64_t sp, uint32_t flags,
                            uint64_t size)
{
    uint32_t mode = flags & ~SS_AUTODISARM;
    if (on_altstack(mp, now))
        return -LX_EPERM;
    if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
        return -LX_EINVAL;
    if (mode == SS_DISABLE)
        sp = size = 0;
    else if (size < MINSIGSTKSZ)
        return -LX_ENOMEM;
    mp->ss_sp = sp, mp->ss_size = size, mp->ss_flags = flags;
    return 0;
}

/* sigaltstack(ss, old): old gets the stack and SS_ONSTACK, SS_DISABLE or 0 (and
 * SS_AUTODISARM if set); then ss, if given, is set (altstack_set). */
int64_t do_sigaltstack(struct mproc *mp, const uint64_t *a)
{
    struct {
        uint64_t sp;
        uint32_t flags, pad;
        uint64_t size;
    } ss, old;
    struct user_regs u;
    if (sys_proc_regs(mp->ep, REGS_GET, &u) < 0)
        return -LX_EIO;
    uint32_t now = !mp->ss_size ? SS_DISABLE : on_altstack(mp, u.rsp) ? SS_ONSTACK : 0;
    old = (typeof(old)){mp->ss_sp, now | (mp->ss_flags & SS_AUTODISARM), 0, mp->ss_size};
    if (a[0] && sys_vcopy(mp->ep, a[0], SELF, (uint64_t)&ss, sizeof(ss)) < 0)
        return -LX_EFAULT;
    int64_t r = a[0] ? altstack_set(mp, u.rsp, ss.sp, ss.flags, ss.size) : 0;
    if (r == 0 && a[1] && sys_vcopy(SELF, (uint64_t)&old, mp->ep, a[1], sizeof(old)) < 0)
        return -LX_EFAULT;
    return r;
}

extern struct mproc *in_call;

static int default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

/*
 * End the call mp is in, so its registers can be changed; the number of a
 * call that ended with -EINTR and may be restarted (SA_RESTART), else -1.
 */
int64_t signal_interrupt_call(struct mproc *mp)
{
    signal_call_mask(mp, 0, 0); /* the frame keeps the caller's own mask, not ppoll's */
    if (mp->wait != W_NONE) {
        int restartable = mp->wait == W_WAIT4;
        uint64_t nr = mp->call.u.lx.nr, rem = nr == LX_nanosleep ? mp->call.u.lx.arg[1] : 0;
        if (nr == LX_clock_nanosleep && !(mp->call.u.lx.arg[1] & 1))
            rem = mp->call.u.lx.arg[3]; /* relative sleeps report what is left */
        if (mp->wait == W_SLEEP && rem) {
            uint64_t now = now_ns(), left = mp->wake_at > now ? mp->wake_at - now : 0;
            uint64_t ts[2] = {left / 1000000000, left % 1000000000};
            sys_vcopy(SELF, (uint64_t)ts, mp->ep, rem, sizeof(ts));
        }
        if (mp->wait == W_SIGSUSPEND)
            mp->sigmask = mp->saved_mask;
        mp->wait = W_NONE;
        reply_to(mp, -LX_EINTR);
        return restartable ? (int64_t)mp->call.u.lx.nr : -1;
    }
    struct user_regs u;
    int r = sys_proc_regs(mp->ep, REGS_INTERRUPT, &u);
    if (r == 2 && (endpoint_t)u.rax == vfs_ep) {
        int64_t cancelled;
        message_t m = {.type = VFS_PM_CANCEL, .u.vfs_pm.proc.ep = mp->ep};
        vfs_request(&m, &cancelled);
        return cancelled == 1 ? (int64_t)u.rbx : -1;
    }
    if (r == 2 && sysv_is((endpoint_t)u.rax))
        sysv_tell(SYSV_CANCEL, mp); /* never restarted (SA_RESTART or not), as on Linux */
    return r == 1 && !sysv_is((endpoint_t)u.rax) ? (int64_t)u.rbx : -1;
}

/*
 * ppoll's or pselect6's mask while vfs holds the call (on: VFS_SIG_MASK),
 * or the caller's own again (off: the call ended, or a signal ends it).
 * The caller (pull_vfs_signals) then delivers what the new mask lets through.
 */
void signal_call_mask(struct mproc *mp, int on, uint64_t mask)
{
    if (on == mp->call_masked)
        return;
    mp->call_masked = on;
    if (on)
        mp->call_saved_mask = mp->sigmask;
    mp->sigmask = on ? mask & ~UNBLOCKABLE : mp->call_saved_mask;
}

/* The signals pending for thread mp: its own, and its process's. */
static uint64_t pending_for(struct mproc *mp)
{
    return mp->pending | leader_of(mp)->shared_pending;
}

/* sig's siginfo, as it came (signal_send_info); it is no longer pending: the thread's own, else
 * its process's (Linux's dequeue_signal order). */
static void siginfo_take(struct mproc *mp, int sig, struct siginfo_l *out)
{
    struct mproc *g = leader_of(mp);
    int own = (mp->pending & SIG_BIT(sig)) != 0;
    const struct sig_info *i = own ? &mp->info[sig] : &g->shared_info[sig];
    *out = (struct siginfo_l){.signo = sig, .code = i->code, .pid = i->pid, .uid = i->uid};
    if (sig == SIGCHLD)
        out->status = i->status;
    if (i->fault) /* si_addr takes pid's and uid's place */
        memcpy(&out->pid, &i->addr, sizeof(i->addr));
    if (own)
        mp->pending &= ~SIG_BIT(sig);
    else
        g->shared_pending &= ~SIG_BIT(sig);
}

/* sig's action in every thread of mp's process (CLONE_SIGHAND). */
static void act_set(struct mproc *mp, int sig, const struct k_sigaction *act)
{
    for (struct mproc *t = group_next(mp, 0); t; t = group_next(mp, t))
        t->act[sig] = *act;
    mp->act[sig] = *act;
}

static void deliver(struct mproc *mp, int sig)
{
    struct k_sigaction *act = &mp->act[sig];
    struct siginfo_l info;
    siginfo_take(mp, sig, &info);
    if (act->handler == SIG_IGN || (act->handler == SIG_DFL && default_ignored(sig)))
        return;
    if (act->handler == SIG_DFL && stop_signal(sig)) {
        job_stop(mp, sig);
        return;
    }
    if (act->handler == SIG_DFL || sig == SIGKILL || !(act->flags & SA_RESTORER)) {
        mproc_exit(mp, sig); /* terminated by the signal */
        return;
    }
    int64_t nr = signal_interrupt_call(mp);
    struct user_regs u;
    if (sys_proc_regs(mp->ep, REGS_GET, &u) < 0)
        return;
    if (nr >= 0 && (act->flags & SA_RESTART) && u.rax == (uint64_t)-LX_EINTR &&
        nr != LX_nanosleep && nr != LX_clock_nanosleep && nr != LX_poll && nr != LX_ppoll &&
        nr != LX_select && nr != LX_pselect6) {
        u.rax = (uint64_t)nr; /* after the handler, the syscall instruction runs again */
        u.rip -= 2;
    }
    struct rt_sigframe f = {0};
    f.pretcode = act->restorer;
    if (sys_proc_regs(mp->ep, REGS_FPU_GET, (struct user_regs *)fpstate) < 0)
        return;
    f.mc = (struct sigcontext_l){u.r8,        u.r9,  u.r10, u.r11,    u.r12, u.r13, u.r14,
                                 u.r15,       u.rdi, u.rsi, u.rbp,    u.rbx, u.rdx, u.rax,
                                 u.rcx,       u.rsp, u.rip, u.rflags, 0x33,  0,     0,
                                 mp->sigmask, 0,     0,     {0}};
    f.uc_sigmask = mp->sigmask;
    f.info = info;
    f.ss_sp = mp->ss_sp, f.ss_flags = mp->ss_flags, f.ss_size = mp->ss_size; /* uc_stack */
    /* below the red zone, or at the top of the alternate stack: the FPU image (16-byte
     * aligned), then the frame (rsp+8 aligned) */
    uint64_t top = u.rsp - 128;
    if ((act->flags & SA_ONSTACK) && mp->ss_size && !on_altstack(mp, top)) {
        top = mp->ss_sp + mp->ss_size;
        if (mp->ss_flags & SS_AUTODISARM) /* until the handler returns (rt_sigreturn) */
            mp->ss_sp = mp->ss_size = mp->ss_flags = 0;
    }
    f.mc.fpstate = (top - FPU_STATE_SIZE) & ~15ull;
    uint64_t sp = ((f.mc.fpstate - sizeof(f)) & ~15ull) - 8;
    if (sys_vcopy(SELF, (uint64_t)fpstate, mp->ep, f.mc.fpstate, FPU_STATE_SIZE) < 0) {
        mproc_exit(mp, SIGSEGV);
        return;
    }
    if (sys_vcopy(SELF, (uint64_t)&f, mp->ep, sp, sizeof(f)) < 0) {
        mproc_exit(mp, SIGSEGV); /* no stack to run the handler on */
        return;
    }
    u.rsp = sp;
    u.rip = act->handler;
    u.rdi = (uint64_t)sig;
    u.rsi = sp + offsetof(struct rt_sigframe, info);
    u.rdx = sp + offsetof(struct rt_sigframe, uc_flags);
    u.rax = 0;
    u.rflags &= ~0x400ull; /* DF clear for the handler, as the ABI (and Linux) want */
    if (sys_proc_regs(mp->ep, REGS_SET, &u) < 0) {
        mproc_exit(mp, SIGSEGV);
        return;
    }
    mp->sigmask |= act->mask | ((act->flags & SA_NODEFER) ? 0 : SIG_BIT(sig));
    mp->sigmask &= ~UNBLOCKABLE;
    if (act->flags & SA_RESETHAND)
        act_set(mp, sig, &(struct k_sigaction){SIG_DFL, act->flags, act->restorer, act->mask});
}

/* Linux's si_code (and si_addr) for a fault: a page fault inside one of mp's regions is
 * SEGV_ACCERR, outside SEGV_MAPERR; #DE FPE_INTDIV, #UD ILL_ILLOPN and #DB TRAP_TRACE at rip;
 * #AC BUS_ADRALN; the rest (#GP, int3...) SI_KERNEL with no address. */
static struct sig_info fault_info(struct mproc *mp, const struct death_info *d)
{
    struct sig_info i = {.code = SI_KERNEL, .fault = 1};
    switch (d->code) {
    case 14: { /* the regions are the process's: its main thread's entry */
        struct mproc *g = leader_of(mp);
        struct region *r = region_from(g, d->addr);
        i.code = !region_is_end(g, r) && r->start <= d->addr ? 2 : 1;
        if (mem_fault_signal(g, d->addr, SIGSEGV) == SIGBUS)
            i.code = 2; /* BUS_ADRERR: past the end of a mapped file */
        i.addr = d->addr;
        break;
    }
    case 0:
    case 1:
    case 6:
        i.code = d->code == 1 ? 2 : d->code == 0 ? 1 : 2; /* TRAP_TRACE, FPE_INTDIV, ILL_ILLOPN */
        i.addr = d->rip;
        break;
    case 17:
        i.code = 1; /* BUS_ADRALN */
        break;
    }
    return i;
}

/*
 * The kernel holds mp at a fault (FAULT_HELD). Its signal is forced, as
 * Linux's force_sig_fault: blocked, ignored or default, mp dies of it;
 * otherwise the handler runs (it may return, and the instruction runs
 * again, or siglongjmp out). A stopped mp stays held until SIGCONT.
 */
void signal_fault(struct mproc *mp, const struct death_info *d)
{
    int sig = fault_signal(d->code);
    if (d->code == 14) /* past the end of a mapped file: SIGBUS (mem.c) */
        sig = mem_fault_signal(leader_of(mp), d->addr, sig);
    struct k_sigaction *act = &mp->act[sig];
    if ((mp->sigmask & SIG_BIT(sig)) || act->handler == SIG_DFL || act->handler == SIG_IGN ||
        !(act->flags & SA_RESTORER)) {
        printf("pm: %s (pid %d) killed by signal %d: exception %ld at rip %lx, addr %lx\n",
               mp->name, mp->pid, sig, d->code, d->rip, d->addr);
        mproc_exit(mp, sig);
        return;
    }
    mp->info[sig] = fault_info(mp, d);
    mp->pending |= SIG_BIT(sig);
    deliver(mp, sig);
    if (mp->state == M_ALIVE && !mp->stopped)
        sys_proc_hold(mp->ep, 0);
}

/* A handler waits while its process waits in vfork (Linux: a killable wait). */
static int held_in_vfork(const struct mproc *mp, int sig)
{
    uint64_t h = mp->act[sig].handler;
    return mp->wait == W_VFORK && sig != SIGKILL && h != SIG_DFL && h != SIG_IGN;
}

/* A stopped process waits for SIGCONT: only SIGKILL acts (Linux's wants_signal passes over a
 * stopped task, so even a deadly SIGTERM waits). */
static int held_while_stopped(const struct mproc *mp, int sig)
{
    return mp->stopped && sig != SIGKILL;
}

/*
 * What deliver_pending may act on in thread mp: its pending signals (its own and its process's)
 * that it does not block, and SIGKILL whatever the mask. Computed from the state itself at each
 * check, not kept up to date beside it, so that no place that changes a mask, a pending set or a
 * handler can forget it: after nearly every call it is 0, and the reply costs no scan.
 */
static uint64_t deliverable(struct mproc *mp)
{
    return pending_for(mp) & (~mp->sigmask | SIG_BIT(SIGKILL));
}

/* Each deliverable signal, lowest first, held ones passed over; a delivery can change the mask
 * and the pending sets (a handler's mask, SIGCHLD to itself...), so they are read again after
 * each. */
static void deliver_pending(struct mproc *mp)
{
    if (mp->wait == W_GONE)
        return; /* a main thread that exited: never runs again */
    for (int sig = 1; sig < NSIG && mp->state == M_ALIVE; sig++) {
        uint64_t ready = deliverable(mp) & ~(SIG_BIT(sig) - 1); /* sig and above */
        if (!ready)
            return;
        sig = __builtin_ctzll(ready) + 1;
        if (sig == SIGKILL || (!held_in_vfork(mp, sig) && !held_while_stopped(mp, sig)))
            deliver(mp, sig);
    }
}

/*
 * Deliver what is pending and unblocked, unless mp is the caller being
 * served (after its reply: see handle_call). A delivery can end a process
 * (a default action, or no stack for the handler), whose parent then gets
 * SIGCHLD, whose delivery can end the parent, and so on up a chain of
 * processes. So a check that comes during a delivery only marks mp
 * (recheck), and the outermost check delivers to the marked ones in a
 * loop: pm's stack does not grow with the chain (utest sigchld_chain).
 */
void signal_check(struct mproc *mp)
{
    static int delivering, marked; /* marked: processes with recheck set */
    if (mp == in_call)
        return;
    if (delivering) {
        marked += !mp->recheck;
        mp->recheck = 1;
        return;
    }
    delivering = 1;
    deliver_pending(mp);
    for (int again = marked > 0; again;) { /* the table is scanned only if someone is marked */
        again = 0;
        marked = 0; /* recounted: what stays marked is the process in its call */
        for (int i = 0; i < NR_MPROCS; i++) {
            if (!mprocs[i].recheck)
                continue;
            if (&mprocs[i] == in_call) {
                marked++;
                continue;
            }
            mprocs[i].recheck = 0;
            deliver_pending(&mprocs[i]);
            again = 1;
        }
    }
    delivering = 0;
}

/*
 * rt_sigtimedwait's end: the lowest pending signal of set, taken, its
 * siginfo written to uinfo (if not 0); 0 if none is pending.
 */
static int64_t sigwait_take(struct mproc *mp, uint64_t set, uint64_t uinfo)
{
    uint64_t ready = pending_for(mp) & set;
    if (!ready)
        return 0;
    int sig = __builtin_ctzll(ready) + 1;
    struct siginfo_l si;
    siginfo_take(mp, sig, &si);
    if (uinfo && sys_vcopy(SELF, (uint64_t)&si, mp->ep, uinfo, sizeof(si)) < 0)
        return -LX_EFAULT; /* taken all the same, as on Linux */
    return sig;
}

/* Thread t has sig pending, its own or its process's: one it waits for in rt_sigtimedwait ends
 * that wait, before any handler; else it is delivered if t does not block it. */
static void signal_offer(struct mproc *t, int sig)
{
    if (t->wait == W_SIGWAIT && (t->wait_set & SIG_BIT(sig))) {
        t->wait = W_NONE;
        reply_to(t, sigwait_take(t, t->wait_set, t->call.u.lx.arg[1]));
    }
    signal_check(t);
}

/* sig pending in set (mp's own or its process's, infos their siginfo), with what its siginfo
 * says (a standard signal already pending keeps its first): 0 if mp is gone or ignores it. */
static int make_pending(struct mproc *mp, uint64_t *set, struct sig_info *infos, int sig,
                        const struct sig_info *info)
{
    if (mp->state != M_ALIVE || sig <= 0 || sig >= NSIG ||
        (mp->act[sig].handler == SIG_IGN && sig != SIGKILL))
        return 0;
    if (!(*set & SIG_BIT(sig)))
        infos[sig] = *info;
    *set |= SIG_BIT(sig);
    return 1;
}

/* What sending sig does at once (0 if mp is gone or sig is no signal): SIGCONT continues mp's
 * process even if blocked or ignored; a stop signal drops a SIGCONT pending in set. */
static int stop_or_continue(struct mproc *mp, uint64_t *set, int sig)
{
    if (mp->state != M_ALIVE || sig <= 0 || sig >= NSIG)
        return 0;
    if (sig == SIGCONT)
        job_continue(mp);
    else if (stop_signal(sig))
        *set &= ~SIG_BIT(SIGCONT);
    return 1;
}

/* A signal for thread mp. */
static void signal_send_thread(struct mproc *mp, int sig, const struct sig_info *info)
{
    if (!stop_or_continue(mp, &mp->pending, sig))
        return;
    if (make_pending(mp, &mp->pending, mp->info, sig, info)) {
        sigfd_pending(mp, sig); /* a signalfd read waiting for it (sigfd.c) */
        signal_offer(mp, sig);
    }
}

/* Does thread t take sig now: it runs (not a main thread that exited) and does not block sig,
 * or waits for it in rt_sigtimedwait? */
static int takes(const struct mproc *t, int sig)
{
    return t->wait != W_GONE &&
           (!(t->sigmask & SIG_BIT(sig)) || (t->wait == W_SIGWAIT && (t->wait_set & SIG_BIT(sig))));
}

/* The thread of process g a signal for it goes to: the first that takes it, the main one
 * first; 0 if none does (it stays pending on the process). */
static struct mproc *signal_target(struct mproc *g, int sig)
{
    if (takes(g, sig))
        return g;
    for (struct mproc *t = group_next(g, 0); t; t = group_next(g, t))
        if (takes(t, sig))
            return t;
    return 0;
}

/* A signal for mp's process (or, from vfs, a thread's own: mp is not a main thread), with its
 * siginfo: pending on the process, offered to a thread that takes it. */
void signal_send_info(struct mproc *mp, int sig, const struct sig_info *info)
{
    struct mproc *t;
    if (mp->pid != mp->tgid) {
        signal_send_thread(mp, sig, info);
        return;
    }
    if (!stop_or_continue(mp, &mp->shared_pending, sig))
        return;
    if (!make_pending(mp, &mp->shared_pending, mp->shared_info, sig, info))
        return;
    if ((t = signal_target(mp, sig)))
        signal_offer(t, sig);
    else
        sigfd_pending(mp, sig); /* every thread blocks it: a signalfd read waiting for it? */
}

/* A signal from the system (timers, terminals, faults): SI_KERNEL. */
void signal_send(struct mproc *mp, int sig)
{
    signal_send_info(mp, sig, &(struct sig_info){.code = SI_KERNEL});
}

/*
 * rt_sigtimedwait(set, info, timeout, 8): take a pending signal of set
 * (SIGKILL and SIGSTOP left out), or wait for one: at most the timeout
 * (then EAGAIN; a zero timeout does not wait), for ever without one. Its
 * number is the result, its siginfo goes to info. A signal outside set
 * that runs a handler ends the wait with EINTR (never restarted).
 */
int64_t do_rt_sigtimedwait(struct mproc *mp, const uint64_t *a)
{
    uint64_t set, ns = 0;
    if (a[3] != 8)
        return -LX_EINVAL;
    if (sys_vcopy(mp->ep, a[0], SELF, (uint64_t)&set, 8) < 0)
        return -LX_EFAULT;
    int64_t r = a[2] ? timespec_ns(mp, a[2], &ns) : 0;
    if (r < 0)
        return r;
    set &= ~UNBLOCKABLE;
    if ((r = sigwait_take(mp, set, a[1])) != 0)
        return r;
    if (a[2] && !ns)
        return -LX_EAGAIN;
    mp->wait = W_SIGWAIT;
    mp->wait_set = set;
    mp->wake_at = a[2] ? deadline_after(ns) : 0;
    timers_arm();
    return SUSPEND;
}

/*
 * Send sig (0: none) to every process of group pgid (0 < pgid) that sender
 * may signal (sender 0: the terminal, which may signal all); the number reached.
 */
/* What a signal sender's siginfo says: SI_USER from a process (its pid and real uid), or
 * SI_KERNEL from the terminal (sender 0). */
static struct sig_info sent_by(const struct mproc *sender, int32_t code)
{
    return sender ? (struct sig_info){.code = code,
                                      .pid = sender->tgid,
                                      .uid = (int32_t)sender->cred.ruid}
                  : (struct sig_info){.code = SI_KERNEL};
}

int signal_group(int pgid, int sig, struct mproc *sender)
{
    int n = 0;
    struct sig_info info = sent_by(sender, SI_USER);
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state == M_ALIVE && mprocs[i].pgid == pgid &&
            mprocs[i].pid == mprocs[i].tgid && /* processes, not their other threads */
            (!sender || cred_may_signal(sender, &mprocs[i]))) {
            n++;
            signal_send_info(&mprocs[i], sig, &info);
        }
    return n;
}

/* kill, and tkill's and tgkill's one process (si_code SI_TKILL). */
static int64_t kill_with(struct mproc *mp, const uint64_t *a, int32_t code)
{
    int pid = (int)a[0], sig = (int)a[1], n = 0;
    struct sig_info info = sent_by(mp, code);
    if (sig < 0 || sig >= NSIG)
        return -LX_EINVAL;
    if (pid == INT32_MIN)
        return -LX_ESRCH; /* no group -pid: it would not fit an int */
    if (pid > 0) {
        struct mproc *t = mproc_by_pid(pid);
        if (!t || (t->state != M_ALIVE && sig)) /* a zombie still exists for kill(pid, 0) */
            return -LX_ESRCH;
        t = leader_of(t); /* a thread's id names its process, as on Linux */
        if (!cred_may_signal(mp, t))
            return -LX_EPERM;
        if (sig)
            signal_send_info(t, sig, &info);
        return 0;
    }
    if (pid == -1) {
        for (int i = 0; i < NR_MPROCS; i++)
            if (mprocs[i].state == M_ALIVE && mprocs[i].pid != INIT_PID &&
                mprocs[i].tgid != mp->tgid && mprocs[i].pid == mprocs[i].tgid) {
                n++; /* as Linux: those it may not signal are skipped, and no error */
                if (cred_may_signal(mp, &mprocs[i]))
                    signal_send_info(&mprocs[i], sig, &info);
            }
        return n ? 0 : -LX_ESRCH;
    }
    int pgid = pid == 0 ? mp->pgid : -pid;
    if (signal_group(pgid, sig, mp))
        return 0;
    for (int i = 0; i < NR_MPROCS && !n; i++)
        n = mprocs[i].state == M_ALIVE && mprocs[i].pgid == pgid;
    return n ? -LX_EPERM : -LX_ESRCH; /* a group it may not signal at all */
}

int64_t do_kill(struct mproc *mp, const uint64_t *a)
{
    return kill_with(mp, a, SI_USER);
}

/* sig (0: none) to thread tid, of process tgid if tgid is not 0 (si_code SI_TKILL). A tid names
 * one thread: never a group or all (EINVAL). */
static int64_t kill_thread(struct mproc *mp, int tgid, int tid, int sig)
{
    struct mproc *t = tid > 0 ? mproc_by_pid(tid) : 0;
    if (tid <= 0 || tgid < 0 || sig < 0 || sig >= NSIG)
        return -LX_EINVAL;
    if (!t || t->state != M_ALIVE || t->wait == W_GONE || (tgid && t->tgid != tgid))
        return -LX_ESRCH;
    if (!cred_may_signal(mp, t))
        return -LX_EPERM;
    if (sig)
        signal_send_thread(
            t, sig,
            &(struct sig_info){.code = SI_TKILL, .pid = mp->tgid, .uid = (int32_t)mp->cred.ruid});
    return 0;
}

int64_t do_tkill(struct mproc *mp, const uint64_t *a)
{
    return kill_thread(mp, 0, (int)a[0], (int)a[1]);
}

int64_t do_tgkill(struct mproc *mp, const uint64_t *a)
{
    return (int)a[0] <= 0 ? -LX_EINVAL : kill_thread(mp, (int)a[0], (int)a[1], (int)a[2]);
}

int64_t do_rt_sigaction(struct mproc *mp, const uint64_t *a)
{
    int sig = (int)a[0];
    struct k_sigaction act;
    if (sig <= 0 || sig >= NSIG || a[3] != 8)
        return -LX_EINVAL;
    if (a[2] && sys_vcopy(SELF, (uint64_t)&mp->act[sig], mp->ep, a[2], sizeof(act)) < 0)
        return -LX_EFAULT;
    if (a[1]) {
        if (sig == SIGKILL || sig == SIGSTOP)
            return -LX_EINVAL;
        if (sys_vcopy(mp->ep, a[1], SELF, (uint64_t)&act, sizeof(act)) < 0)
            return -LX_EFAULT;
        act_set(mp, sig, &act);
        for (struct mproc *t = group_next(mp, 0); t && act.handler == SIG_IGN;
             t = group_next(mp, t))
            t->pending &= ~SIG_BIT(sig);
        if (act.handler == SIG_IGN)
            leader_of(mp)->shared_pending &= ~SIG_BIT(sig);
    }
    return 0;
}

int64_t do_rt_sigprocmask(struct mproc *mp, const uint64_t *a)
{
    uint64_t set, old = mp->sigmask;
    if (a[3] != 8)
        return -LX_EINVAL;
    if (a[1]) {
        if (sys_vcopy(mp->ep, a[1], SELF, (uint64_t)&set, 8) < 0)
            return -LX_EFAULT;
        if (a[0] == 0)
            mp->sigmask |= set;
        else if (a[0] == 1)
            mp->sigmask &= ~set;
        else if (a[0] == 2)
            mp->sigmask = set;
        else
            return -LX_EINVAL;
        mp->sigmask &= ~UNBLOCKABLE;
    }
    if (a[2] && sys_vcopy(SELF, (uint64_t)&old, mp->ep, a[2], 8) < 0)
        return -LX_EFAULT;
    return 0;
}

int64_t do_rt_sigpending(struct mproc *mp, const uint64_t *a)
{
    uint64_t set = pending_for(mp) & mp->sigmask; /* the thread's and its process's */
    return sys_vcopy(SELF, (uint64_t)&set, mp->ep, a[0], 8) < 0 ? -LX_EFAULT : 0;
}

/* The restorer ran rt_sigreturn with rsp just past pretcode: restore that frame. */
int64_t do_rt_sigreturn(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    struct user_regs u;
    struct rt_sigframe f;
    if (sys_proc_regs(mp->ep, REGS_GET, &u) < 0 ||
        sys_vcopy(mp->ep, u.rsp - 8, SELF, (uint64_t)&f, sizeof(f)) < 0 ||
        (f.mc.fpstate &&
         (sys_vcopy(mp->ep, f.mc.fpstate, SELF, (uint64_t)fpstate, FPU_STATE_SIZE) < 0 ||
          sys_proc_regs(mp->ep, REGS_FPU_SET, (struct user_regs *)fpstate) < 0))) {
        mproc_exit(mp, SIGSEGV);
        return SUSPEND;
    }
    altstack_set(mp, u.rsp, f.ss_sp, (uint32_t)f.ss_flags, f.ss_size); /* Linux: errors ignored */
    struct sigcontext_l *c = &f.mc;
    u = (struct user_regs){c->rax, c->rbx, c->rcx, c->rdx,    c->rsi,   c->rdi, c->rbp,
                           c->rsp, c->r8,  c->r9,  c->r10,    c->r11,   c->r12, c->r13,
                           c->r14, c->r15, c->rip, c->eflags, u.fs_base};
    if (sys_proc_regs(mp->ep, REGS_SET, &u) < 0) {
        mproc_exit(mp, SIGSEGV);
        return SUSPEND;
    }
    mp->sigmask = f.uc_sigmask & ~UNBLOCKABLE;
    return (int64_t)c->rax; /* the reply lands in rax: give it back its own */
}

int64_t do_pause(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    mp->wait = W_PAUSE;
    return SUSPEND;
}

int64_t do_rt_sigsuspend(struct mproc *mp, const uint64_t *a)
{
    uint64_t set;
    if (a[1] != 8)
        return -LX_EINVAL;
    if (sys_vcopy(mp->ep, a[0], SELF, (uint64_t)&set, 8) < 0)
        return -LX_EFAULT;
    mp->saved_mask = mp->sigmask;
    mp->sigmask = set & ~UNBLOCKABLE;
    mp->wait = W_SIGSUSPEND;
    if (pending_for(mp) & ~mp->sigmask) { /* one is deliverable now: end at once */
        in_call = 0;
        signal_check(mp);
    }
    return SUSPEND;
}
