/*
 * Signals. A signal for a process is made pending; an unblocked pending
 * signal is delivered at once: its default action (terminate, or ignore
 * for SIGCHLD, SIGCONT, SIGURG, SIGWINCH and the stop signals, since job
 * control stops are not supported), or its handler. For a handler, the
 * process's current call is ended first (a wait in pm with -EINTR; a call
 * queued at a server is withdrawn by the kernel; one vfs holds is
 * cancelled), then pm writes a Linux rt_sigframe on its stack and points
 * it at the handler; the handler returns through its SA_RESTORER, which
 * calls rt_sigreturn and restores the saved registers, FPU/SSE state and mask.
 */
#include "pm.h"

#define SIG_BIT(s) (1ull << ((s)-1))
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
    int32_t si_signo, si_errno, si_code, si_pad; /* siginfo (128 bytes) */
    int32_t si_pid, si_uid;
    uint8_t si_rest[104];
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

extern struct mproc *in_call;

static int default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH || sig == SIGSTOP ||
           sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * End the call mp is in, so its registers can be changed; the number of a
 * call that ended with -EINTR and may be restarted (SA_RESTART), else -1.
 */
static int64_t interrupt_call(struct mproc *mp)
{
    if (mp->wait != W_NONE) {
        int restartable = mp->wait == W_WAIT4;
        uint64_t nr = mp->call.u.lx.nr, rem = nr == LX_nanosleep ? mp->call.u.lx.arg[1] : 0;
        if (nr == LX_clock_nanosleep && !(mp->call.u.lx.arg[1] & 1))
            rem = mp->call.u.lx.arg[3]; /* relative sleeps report what is left */
        if (mp->wait == W_SLEEP && rem) {
            uint64_t now = now_ticks(), left = mp->wake_at > now ? mp->wake_at - now : 0;
            uint64_t ts[2] = {left / 1000, (left % 1000) * 1000000};
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

static void deliver(struct mproc *mp, int sig)
{
    struct k_sigaction *act = &mp->act[sig];
    mp->pending &= ~SIG_BIT(sig);
    if (act->handler == SIG_IGN || (act->handler == SIG_DFL && default_ignored(sig)))
        return;
    if (act->handler == SIG_DFL || sig == SIGKILL || !(act->flags & SA_RESTORER)) {
        mproc_exit(mp, sig); /* terminated by the signal */
        return;
    }
    int64_t nr = interrupt_call(mp);
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
    f.si_signo = sig;
    /* below the red zone: the FPU image (16-byte aligned), then the frame (rsp+8 aligned) */
    f.mc.fpstate = (u.rsp - 128 - FPU_STATE_SIZE) & ~15ull;
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
    u.rsi = sp + offsetof(struct rt_sigframe, si_signo);
    u.rdx = sp + offsetof(struct rt_sigframe, uc_flags);
    u.rax = 0;
    if (sys_proc_regs(mp->ep, REGS_SET, &u) < 0) {
        mproc_exit(mp, SIGSEGV);
        return;
    }
    mp->sigmask |= act->mask | ((act->flags & SA_NODEFER) ? 0 : SIG_BIT(sig));
    mp->sigmask &= ~UNBLOCKABLE;
    if (act->flags & SA_RESETHAND)
        act->handler = SIG_DFL;
}

/* A handler waits while its process waits in vfork (Linux: a killable wait). */
static int held_in_vfork(const struct mproc *mp, int sig)
{
    uint64_t h = mp->act[sig].handler;
    return mp->wait == W_VFORK && sig != SIGKILL && h != SIG_DFL && h != SIG_IGN;
}

static void deliver_pending(struct mproc *mp)
{
    for (int sig = 1; sig < NSIG && mp->state == M_ALIVE; sig++)
        if (((mp->pending & ~mp->sigmask & SIG_BIT(sig)) && !held_in_vfork(mp, sig)) ||
            (sig == SIGKILL && (mp->pending & SIG_BIT(sig))))
            deliver(mp, sig);
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

void signal_send(struct mproc *mp, int sig)
{
    if (mp->state != M_ALIVE || sig <= 0 || sig >= NSIG)
        return;
    if (mp->act[sig].handler == SIG_IGN && sig != SIGKILL)
        return;
    mp->pending |= SIG_BIT(sig);
    signal_check(mp);
}

/*
 * Send sig (0: none) to every process of group pgid (0 < pgid) that sender
 * may signal (sender 0: the terminal, which may signal all); the number reached.
 */
int signal_group(int pgid, int sig, struct mproc *sender)
{
    int n = 0;
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state == M_ALIVE && mprocs[i].pgid == pgid &&
            (!sender || cred_may_signal(sender, &mprocs[i]))) {
            n++;
            signal_send(&mprocs[i], sig);
        }
    return n;
}

int64_t do_kill(struct mproc *mp, const uint64_t *a)
{
    int pid = (int)a[0], sig = (int)a[1], n = 0;
    if (sig < 0 || sig >= NSIG)
        return -LX_EINVAL;
    if (pid == INT32_MIN)
        return -LX_ESRCH; /* no group -pid: it would not fit an int */
    if (pid > 0) {
        struct mproc *t = mproc_by_pid(pid);
        if (!t || (t->state != M_ALIVE && sig)) /* a zombie still exists for kill(pid, 0) */
            return -LX_ESRCH;
        if (!cred_may_signal(mp, t))
            return -LX_EPERM;
        if (sig)
            signal_send(t, sig);
        return 0;
    }
    if (pid == -1) {
        for (int i = 0; i < NR_MPROCS; i++)
            if (mprocs[i].state == M_ALIVE && mprocs[i].pid != INIT_PID && &mprocs[i] != mp) {
                n++; /* as Linux: those it may not signal are skipped, and no error */
                if (cred_may_signal(mp, &mprocs[i]))
                    signal_send(&mprocs[i], sig);
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

/* One thread per process: tid = pid. A tid names one thread: never a group or all (EINVAL). */
int64_t do_tkill(struct mproc *mp, const uint64_t *a)
{
    uint64_t b[2] = {a[0], a[1]};
    return (int)a[0] <= 0 ? -LX_EINVAL : do_kill(mp, b);
}

int64_t do_tgkill(struct mproc *mp, const uint64_t *a)
{
    uint64_t b[2] = {a[1], a[2]};
    if ((int)a[0] <= 0 || (int)a[1] <= 0)
        return -LX_EINVAL;
    return (int)a[0] == (int)a[1] ? do_kill(mp, b) : -LX_ESRCH;
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
        mp->act[sig] = act;
        if (act.handler == SIG_IGN)
            mp->pending &= ~SIG_BIT(sig);
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
    uint64_t set = mp->pending & mp->sigmask;
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
    if (mp->pending & ~mp->sigmask) { /* one is deliverable now: end at once */
        in_call = 0;
        signal_check(mp);
    }
    return SUSPEND;
}
