/*
 * pm main loop: Linux system calls from processes, death reports and the
 * alarm from the kernel, and signal requests that vfs queues (SIGPIPE,
 * ^C from the terminal). At start it creates init, the first Linux
 * process, from the program named by its argument (default /sbin/init).
 */
#include <samsara/pm.h>
#include <samsara/root.h>
#include "pm.h"
#include "syscall_names.h"

endpoint_t vfs_ep;
struct mproc *in_call; /* the process whose call is being handled */

/*
 * Where the entry of an endpoint (by its kernel slot) and of a pid (by pid % PID_HINTS) was found
 * last: every call looks its caller up, and a thread's calls its main thread. A hint is checked
 * before it is believed (the entry is in use and has that endpoint or pid), so no place that frees
 * or reuses an entry has to keep the hints true: a wrong one costs the scan it saves.
 */
#define PID_HINTS 128
static struct mproc *ep_hint[NR_SLOTS], *pid_hint[PID_HINTS];

struct mproc *mproc_of(endpoint_t ep)
{
    struct mproc **h = &ep_hint[EP_SLOT(ep < 0 ? 0 : ep)];
    if (*h && (*h)->state != M_FREE && (*h)->ep == ep)
        return *h;
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state != M_FREE && mprocs[i].ep == ep)
            return *h = &mprocs[i];
    return 0;
}

struct mproc *mproc_by_pid(int pid)
{
    struct mproc **h = &pid_hint[(unsigned)pid % PID_HINTS];
    if (*h && (*h)->state != M_FREE && (*h)->pid == pid)
        return *h;
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state != M_FREE && mprocs[i].pid == pid)
            return *h = &mprocs[i];
    return 0;
}

void reply_to(struct mproc *mp, int64_t result)
{
    message_t m = {.type = MSG_LINUX_REPLY, .u.w = {(uint64_t)result}};
    reply_hold(mp->ep, &m);
}

int vfs_request(message_t *m, int64_t *result)
{
    int r = ipc_sendrec(vfs_ep, m);
    if (result)
        *result = r < 0 ? -LX_EIO : m->u.vfs_pm.reply.result;
    return r;
}

extern const pm_call_t pm_calls[LX_NR_MAX];
extern const uint8_t pm_process_calls[LX_NR_MAX];

static const char *call_name(uint64_t nr)
{
    return nr < sizeof(syscall_names) / sizeof(syscall_names[0]) && syscall_names[nr]
               ? syscall_names[nr]
               : "?";
}

/* An unimplemented call: -ENOSYS, and one log line per call number. */
static int64_t unimplemented(struct mproc *mp, uint64_t nr)
{
    static uint64_t logged[LX_NR_MAX / 64];
    if (nr < LX_NR_MAX && !((logged[nr / 64] >> (nr % 64)) & 1)) {
        logged[nr / 64] |= 1ull << (nr % 64);
        printf("pm: %s (pid %d) called %s (%lu), which is not implemented: -ENOSYS\n", mp->name,
               mp->pid, call_name(nr), nr);
    }
    return -LX_ENOSYS;
}

/*
 * A message its sender has no right to send (docs/USERLAND.md, "Who may
 * send what"): counted, and logged (the first 20, then every 1000th); a
 * sender that waits for a reply gets `reply_type` with -errno (0: no reply).
 */
static uint64_t refused;

static void refuse(const message_t *m, const char *rule, int reply_type, int64_t err)
{
    refused++;
    if (refused <= 20 || refused % 1000 == 0)
        printf("pm: refused message %x from endpoint %d: %s (%lu refused)\n", (unsigned)m->type,
               (int)m->source, rule, refused);
    message_t r = {.type = reply_type, .u.w = {(uint64_t)err}};
    if (reply_type && m->source > 0)
        reply_hold(m->source, &r);
}

static void handle_call(message_t *m)
{
    struct mproc *mp = mproc_of(m->source);
    if (!mp) { /* a system process trying the ABI */
        refuse(m, "Linux calls come from Linux processes only", MSG_LINUX_REPLY, -LX_ENOSYS);
        return;
    }
    if (mp->state != M_ALIVE)
        return; /* exiting: it is being killed */
    uint64_t deadline = 0;
    if ((m->u.lx.nr & LX_AGAIN) && !keep_again(mp, m, &deadline)) { /* the last pm had it */
        printf("pm: %s (pid %d): the last pm died holding its %s, which may not run again: "
               "-EIO\n",
               mp->name, mp->pid, call_name(m->u.lx.nr));
        reply_to(mp, -LX_EIO);
        return;
    }
    uint64_t nr = m->u.lx.nr;
    mp->call = *m;
    if (mp->call_masked) /* its ppoll ended, and vfs's VFS_SIG_UNMASK was lost */
        signal_call_mask(mp, 0, 0);
    in_call = mp;
    /* the memory map, limits and timers are the process's: a thread's call acts on them in its
     * main thread's entry (thread.c), and is answered here */
    struct mproc *on = nr < LX_NR_MAX && pm_process_calls[nr] ? leader_of(mp) : mp;
    int64_t r =
        nr < LX_NR_MAX && pm_calls[nr] ? pm_calls[nr](on, m->u.lx.arg) : unimplemented(mp, nr);
    in_call = 0;
    if (deadline)
        keep_deadline(mp, deadline);
    if (r != SUSPEND && mp->state == M_ALIVE && mp->ep == m->source) {
        reply_to(mp, r);
        signal_check(mp); /* a signal it sent itself, or one that came meanwhile */
    }
}

/* The kernel reports dead children: a Linux process that died without exit(2). */
static void reap_kernel_children(void)
{
    struct death_info d;
    while (sys_proc_reap(&d) > 0) {
        struct mproc *mp = mproc_of(d.ep);
        if (!mp || mp->state != M_ALIVE)
            continue; /* it exited through pm, which killed it */
        if (d.cause == FAULT_HELD) {
            signal_fault(mp, &d); /* alive, held: a handler, or death by the signal */
            continue;
        }
        int sig = SIGKILL;
        if (d.cause == DEATH_FAULT) /* past the end of a mapped file: SIGBUS (mem.c) */
            sig = mem_fault_signal(leader_of(mp), d.addr, fault_signal(d.code));
        else if (d.cause == DEATH_EXIT)
            sig = 0;
        mproc_exit(mp, sig ? sig : (int)((d.code & 0xff) << 8));
    }
}

static void pull_vfs_signals(void)
{
    for (int n = 0; n < 64; n++) {
        message_t m = {.type = VFS_PM_PULL};
        const struct msg_vfs_pm_pull_reply *q = &m.u.vfs_pm.pull;
        if (ipc_sendrec(vfs_ep, &m) < 0 || q->result == VFS_SIG_NONE)
            return;
        if (q->result == VFS_SIG_PROC) {
            struct mproc *mp = mproc_of((endpoint_t)q->target);
            struct sig_info own = {
                .code = SI_USER, .pid = mp ? mp->tgid : 0, .uid = mp ? (int32_t)mp->cred.ruid : 0};
            if (mp) /* SIGPIPE: as Linux's send_sig, from the process itself */
                signal_send_info(mp, (int)q->sig, &own);
        } else if (q->result == VFS_SIG_TAKE || q->result == VFS_SIG_TRY) {
            struct mproc *mp = mproc_of((endpoint_t)q->target);
            if (mp) /* a signalfd read: sig is its mask */
                sigfd_take(mp, (uint64_t)q->sig, q->result == VFS_SIG_TAKE);
        } else if (q->result == VFS_SIG_MESGQ) {
            struct mproc *mp = mproc_of((endpoint_t)q->target);
            if (mp) /* a message in an empty queue (mq_notify), from its sender */
                signal_send_info(
                    mp, (int)q->sig,
                    &(struct sig_info){.code = SI_MESGQ, .pid = q->pid, .uid = q->uid});
        } else if (q->result == VFS_SIG_PGRP) {
            signal_group((int)q->target, (int)q->sig, 0);
        } else if (q->result == VFS_SIG_PROCINFO) {
            procinfo_send((int)q->target, (endpoint_t)q->sig); /* for /proc (procinfo.c) */
        } else if (q->result == VFS_SIG_MASK || q->result == VFS_SIG_UNMASK) {
            struct mproc *mp = mproc_of((endpoint_t)q->target);
            if (mp) { /* what the new mask unblocks: a signal that ends the wait, or one */
                signal_call_mask(mp, q->result == VFS_SIG_MASK, (uint64_t)q->sig);
                signal_check(mp); /* the wait's mask held back */
            }
        } else if (q->result == VFS_SIG_TTY) {
            struct mproc *mp = mproc_of((endpoint_t)q->target);
            if (mp)
                job_terminal(mp, (int)q->sig);
        } else if (q->result == VFS_SIG_CHROOT) {
            struct mproc *mp = mproc_of((endpoint_t)q->target);
            if (mp) /* its children inherit it (fork copies the entry) */
                leader_of(mp)->chrooted = 1;
        }
    }
}

static endpoint_t lookup_service(const char *name)
{
    endpoint_t ep = root_lookup(name);
    return ep > 0 ? ep : -E_SRCH;
}

/*
 * A new Linux process with no parent, running argv (NUL-separated strings,
 * at most 1 KiB; argv[0] is the program's path), with the console on 0-2:
 * init at start, and the programs rs asks for (PM_RUN). Its pid, or -errno.
 */
static int64_t start_program(const char *strings, uint64_t len, const char *name)
{
    endpoint_t ep = sys_proc_create(SELF, name);
    struct mproc *mp = ep > 0 ? mproc_alloc() : 0;
    if (ep < 0 || !mp) {
        if (ep > 0)
            sys_proc_kill(ep);
        return -LX_EAGAIN;
    }
    mp->ep = ep;
    mp->pid = mp->tgid = pid_alloc();
    mp->pgid = mp->sid = mp->pid;
    strncpy_s(mp->name, name, sizeof(mp->name));
    int64_t r;
    message_t fork = {.type = VFS_PM_FORK, .u.vfs_pm.fork = {.child = ep, .pid = mp->pid}};
    vfs_request(&fork, &r);
    sysv_fork(0, mp);
    /* exec reads its path and argv from the process: put them there first */
    static uint64_t page[512];
    memset(page, 0, sizeof(page));
    char *s = (char *)(page + 64); /* strings at +512; argv pointers from page[0] */
    int argc = 0;
    len = len < 1024 ? len : 1024;
    memcpy(s, strings, len);
    for (uint64_t off = 0; off < len && argc < 60; argc++) {
        page[argc] = 0x10000 + 512 + off;
        off += strlen(s + off) + 1;
    }
    page[argc] = 0;     /* argv end */
    page[argc + 1] = 0; /* envp: none */
    if (sys_mem_map_fill(ep, 0x10000, 4096, PROT_R | PROT_W, page, sizeof(page)) < 0) {
        mproc_exit(mp, 127 << 8);
        return -LX_ENOMEM;
    }
    r = exec_image(mp, 0x10000 + 512, 0x10000, 0x10000 + (uint64_t)(argc + 1) * 8, 1);
    if (r < 0) {
        mproc_exit(mp, 127 << 8);
        return r;
    }
    return mp->pid;
}

/* init's command line: words separated by spaces become its argv. */
static void start_init(const char *path)
{
    static char argv[256];
    uint64_t n = 0;
    for (const char *c = path; *c && n < sizeof(argv) - 1; c++) {
        if (*c != ' ')
            argv[n++] = *c;
        else if (n > 0 && argv[n - 1] != '\0')
            argv[n++] = '\0'; /* runs of spaces make one separator */
    }
    if (n > 0 && argv[n - 1] == '\0')
        n--;
    argv[n] = '\0';
    int64_t r = start_program(argv, n + 1, "init");
    if (r < 0)
        printf("pm: cannot start init %s: %ld\n", path, r);
}

/* rs's requests: run a program for it (a policy script), and collect exit statuses. */
static struct {
    int pid, status;
} results[16];
static int nr_results;

void report_exit(struct mproc *mp)
{
    if (nr_results < 16)
        results[nr_results++] = (typeof(results[0])){mp->pid, mp->exit_status};
    ipc_notify(ROOT_EP);
}

static void rs_request(message_t *m)
{
    message_t r = {.type = PM_REPLY};
    if (m->source != ROOT_EP) {
        refuse(m, "only rs (root) may run programs or collect their results", PM_REPLY, -LX_EPERM);
        return;
    }
    if (m->type == PM_RUN) {
        static char argv[1024];
        const struct pm_run *rq = &m->u.pm.run;
        uint64_t len = rq->argv_len < sizeof(argv) ? rq->argv_len : sizeof(argv);
        int64_t pid = -LX_EFAULT;
        if (len && sys_safecopy_from(m->source, (grant_id_t)rq->argv_grant, 0, argv, len) == 0) {
            argv[len - 1] = '\0';
            pid = start_program(argv, len, "rs-policy");
            struct mproc *mp = pid > 0 ? mproc_by_pid((int)pid) : 0;
            if (mp)
                mp->report = 1;
        }
        r.u.pm.reply.result = pid;
    } else if (nr_results) {
        r.u.pm.results = (struct pm_results_reply){results[0].pid, (uint64_t)results[0].status};
        memcpy(&results[0], &results[1], sizeof(results[0]) * (size_t)--nr_results);
    }
    reply_hold(m->source, &r);
}

/*
 * Every message, by what its sender may send (docs/USERLAND.md, "Who may
 * send what"): the kernel its notifications (deaths, the alarm); a Linux
 * process its Linux calls, which the kernel routes; vfs a notification that
 * signals wait; rs (root) PM_RUN and PM_RESULTS. Anything else is refused.
 */
static void dispatch(message_t *m)
{
    if (m->source == SYSTEM) {
        if (m->type != MSG_NOTIFY) {
            refuse(m, "the kernel sends notifications only", 0, 0);
            return;
        }
        if (m->u.notify.bits & NOTIFY_CHILD)
            reap_kernel_children();
        if (m->u.notify.bits & NOTIFY_ALARM)
            timers_run();
    } else if (m->type == MSG_LINUX_CALL) {
        handle_call(m);
    } else if (m->type == MSG_NOTIFY) {
        if (m->source == vfs_ep)
            pull_vfs_signals();
        else if (vfs_restarted(m->source))
            pull_vfs_signals(); /* a new vfs instance, which knows every process now */
        else
            refuse(m, "only vfs's notifications (signals to pull) are read", 0, 0);
    } else if (m->type == PM_RUN || m->type == PM_RESULTS) {
        rs_request(m);
    } else {
        refuse(m, "not a request pm serves", MSG_LINUX_REPLY, -LX_ENOSYS);
    }
}

int main(uint64_t arg)
{
    const char *init = (const char *)arg;
    if (!init || !init[0])
        init = "/sbin/init";
    vfs_ep = lookup_service("vfs");
    if (vfs_ep <= 0) {
        printf("pm: no vfs\n");
        return 1;
    }
    int kept = keep_start();
    if (kept < 0)
        return 1;
    sysv_init();
    clock_init();
    if (kept) {
        keep_reconcile();   /* the last instance's processes go on */
        pull_vfs_signals(); /* what vfs queued for them while pm was down (^C, SIGPIPE) */
    } else {
        vfs_orphans(); /* a restart: the last instance's processes go first */
        start_init(init);
    }
    service_startup("pm", 0); /* ready; rs's heartbeat pings are answered in service_receive */
    for (;;) {
        message_t m;
        keep_busy(0);
        int r = service_receive(&m);
        keep_busy(1);
        if (r < 0)
            continue;
        dispatch(&m);
    }
}
