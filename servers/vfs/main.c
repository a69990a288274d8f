/*
 * vfs main loop: Linux system calls from processes, requests from pm,
 * notifications from drivers (status in their mailbox), from ds (a driver
 * was restarted) and the alarm (poll timeouts). Each message is checked for
 * its sender's right to send it before anything else (docs/USERLAND.md,
 * "Who may send what"); a refusal is counted and logged (refuse.c). At
 * start it mounts the root file system (its argument's root=LABEL, ramfs
 * by default; mount.c), makes the device nodes under /dev, and mounts /proc
 * and the argument's other file systems.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "vfs.h"

struct vnode *root_vnode;
uint8_t bounce[BOUNCE_SIZE];
static endpoint_t pm_ep;

void reply(endpoint_t ep, int64_t result)
{
    message_t m = {.type = MSG_LINUX_REPLY, .u.w = {(uint64_t)result}};
    reply_hold(ep, &m);
    keep_commit(); /* answered: its stores stand (keep.c) */
}

struct vproc *vproc_of(endpoint_t ep)
{
    if (ep <= 0)
        return 0;
    struct vproc *p = &tab->procs[EP_SLOT(ep)];
    return p->ep == ep ? p : 0;
}

struct vproc *vproc_by_index(int i)
{
    return tab->procs[i].ep ? &tab->procs[i] : 0;
}

struct vproc *vproc_new(endpoint_t ep)
{
    struct vproc *p = &tab->procs[EP_SLOT(ep)];
    keep_log(&p->ep, sizeof(p->ep)); /* a process made in a request undone is not kept */
    memset(p, 0, sizeof(*p));
    p->ep = ep;
    p->files = p;
    p->files->umask = 022;
    p->files->fd_limit = NR_FDS;
    return p;
}

static endpoint_t lookup_service(const char *name)
{
    endpoint_t ep = root_lookup(name);
    return ep > 0 ? ep : -E_SRCH;
}

/* A device node in /dev, owned by root and group gid (an existing one is left as it is). */
static void make_node(struct vnode *dir, const char *name, uint64_t mode, uint64_t rdev,
                      uint64_t gid)
{
    struct fs_node node;
    int64_t r = fs_create(dir, name, mode, rdev, 0, (uint32_t)gid, &node);
    if (r < 0 && r != -LX_EEXIST)
        printf("vfs: cannot create /dev/%s: %ld\n", name, r);
    else if (r >= 0)
        fs_putnode(dir->fs, node.ino);
}

/*
 * The device nodes: vfs's own (anyone may use null and zero; /dev/service,
 * rs's administrator interface, is root's alone), then those the drivers'
 * manifests name (`node`: tty's console, tty and ttyS0 with Linux's usual
 * owners and modes, demo's), for majors whose claim stood (dmap.c).
 */
static void make_dev(void)
{
    struct vnode *dev;
    struct fs_node node;
    fs_create(root_vnode, "dev", S_IFDIR | 0755, 0, 0, 0, &node);
    if (path_lookup(0, AT_FDCWD, "/dev", 1, &dev) < 0) {
        printf("vfs: no /dev\n");
        return;
    }
    make_node(dev, "null", S_IFCHR | 0666, DEV_MAKE(DEV_MEM_MAJOR, DEV_MEM_NULL), 0);
    make_node(dev, "zero", S_IFCHR | 0666, DEV_MAKE(DEV_MEM_MAJOR, DEV_MEM_ZERO), 0);
    make_node(dev, "full", S_IFCHR | 0666, DEV_MAKE(DEV_MEM_MAJOR, DEV_MEM_FULL), 0);
    make_node(dev, "service", S_IFCHR | 0600, DEV_MAKE(DEV_MISC_MAJOR, DEV_SERVICE_MINOR), 0);
    const struct manifest_node *n;
    for (int i = 0; (n = dmap_node(i)); i++) /* the drivers' own, from their manifests */
        make_node(dev, n->name, S_IFCHR | n->mode, DEV_MAKE(n->major, n->minor), n->gid);
    vnode_put(dev);
}

static endpoint_t lookup_service(const char *name);

static int signal_pull(struct msg_vfs_pm_pull_reply *out);

/*
 * VFS_PM_TAKEOVER: thread ep of the process whose main thread was old (pm
 * has killed old and every other thread) execs, and becomes the process:
 * old's call ends, and what old's view held (the descriptor table, cwd,
 * root, umask, and /proc's fields) moves to ep's slot; ep keeps its own ids
 * and the program it is loading. -ESRCH unless ep is a thread of old.
 */
static int64_t takeover(endpoint_t old, endpoint_t ep)
{
    struct vproc *o = vproc_of(old), *p = vproc_of(ep);
    if (!o || !p || o == p || p->files != o || o->files != o)
        return -LX_ESRCH;
    struct cred cred = p->cred;
    char exe_next[sizeof(p->exe_next)];
    memcpy(exe_next, p->exe_next, sizeof(exe_next));
    cancel_call(o); /* its reply goes nowhere: old is dead */
    cancel_call(p);
    *p = *o;
    p->ep = ep;
    p->files = p;
    p->cred = cred;
    memcpy(p->exe_next, exe_next, sizeof(exe_next));
    o->ep = 0;
    return 0;
}

/*
 * p exited (VFS_PM_EXIT), or its pm is gone (VFS_PM_ORPHAN): a thread's view
 * goes; a process's descriptors, cwd and root too, and with zombie its group
 * lives on until pm reaps it (VFS_PM_RELEASE), shown by /proc as state Z.
 */
static void proc_gone(struct vproc *p, int zombie)
{
    if (p->files != p) {
        cancel_call(p);
        p->ep = 0;
        return;
    }
    if (zombie) {
        zombie_add(p);
        procfs_died(p);
    }
    cancel_call(p);
    if (p->pid == p->sid) /* a session leader: its terminal is free */
        terminal_session_ended(p->sid);
    for (int fd = 0; fd < NR_FDS; fd++)
        fd_close(p, fd);
    vnode_put(p->files->cwd);
    vnode_put(p->files->root);
    p->ep = 0;
    wakeup_pipes(); /* writers or readers may see EOF or EPIPE now */
}

static void pm_request(message_t *m)
{
    const union msg_vfs_pm *q = &m->u.vfs_pm;
    if (m->source != pm_ep && m->source > 0 && lookup_service("pm") == m->source)
        pm_ep = m->source; /* only the service root started as pm: at boot, or restarted */
    message_t r = {.type = VFS_PM_REPLY};
    int64_t res = 0;
    struct vproc *p, *parent;
    if (m->source != pm_ep) {
        res = -LX_EPERM;
        vfs_refuse(REFUSE_PM_REQUEST, m->source, "a request only pm may make");
    } else if (m->type == VFS_PM_FORK && (q->fork.flags & VFS_FORK_ADOPT) &&
               (p = vproc_of(q->fork.child))) {
        p->pid = q->fork.pid; /* it called before pm named it: its view is taken over already */
        p->ppid = q->fork.ppid;
    } else if (m->type == VFS_PM_FORK) {
        int adopt = (q->fork.flags & VFS_FORK_ADOPT) != 0;
        parent = adopt ? 0 : vproc_of(q->fork.parent); /* adopted: its own view, kept or new */
        p = vproc_new(q->fork.child);
        if (parent && (q->fork.flags & VFS_FORK_THREAD))
            p->files = parent->files; /* shared: nothing of them is copied */
        p->pid = q->fork.pid;
        p->ppid = parent ? parent->pid : (q->fork.flags & VFS_FORK_ADOPT) ? q->fork.ppid : 0;
        p->pgrp = p->sid = p->pid; /* init leads its own session and group, as in pm */
        p->start_tick = sys_uptime();
        if (parent) {
            memcpy(p->comm, parent->comm, sizeof(p->comm));
            memcpy(p->cmdline, parent->cmdline, sizeof(p->cmdline));
            memcpy(p->exe, parent->exe, sizeof(p->exe));
            p->cmdline_len = parent->cmdline_len;
        }
        if (p->files == p) {
            p->cwd = parent ? parent->files->cwd : root_vnode;
            vnode_hold(p->cwd);
            if ((p->root = parent ? parent->files->root : 0))
                vnode_hold(p->root);
        }
        if (adopt && keep_adopt(p)) {
            /* the last instance's descriptors, cwd and umask (keep.c) */
        } else if (!parent && (!adopt || p->pid == 1)) {
            /* the first process (or init, adopted after a restart): the console on 0, 1, 2 */
            extern int64_t do_open(struct vproc * p, const uint64_t *a);
            static const char console[] = "/dev/console";
            p->kernel_io = 1;
            for (int fd = 0; fd < 3; fd++)
                do_open(p, (const uint64_t[]){(uint64_t)console, O_RDWR, 0});
            p->kernel_io = 0;
        } else if (parent) {
            for (int fd = 0; fd < NR_FDS && p->files == p; fd++)
                if ((p->fd[fd] = parent->files->fd[fd]))
                    p->fd[fd]->refs++;
            if (p->files == p) {
                p->cloexec = parent->files->cloexec;
                p->fd_limit = parent->files->fd_limit;
                p->umask = parent->files->umask;
            }
            p->cred = parent->cred;
            p->pgrp = parent->pgrp;
            p->sid = parent->sid;
        }
    } else if (m->type == VFS_PM_EXIT) {
        if ((p = vproc_of(q->proc.ep)))
            proc_gone(p, 1);
    } else if (m->type == VFS_PM_ORPHAN) {
        struct msg_vfs_pm_orphan_reply *o = &r.u.vfs_pm.orphan_reply;
        *o = (struct msg_vfs_pm_orphan_reply){0, NR_SLOTS};
        if (!q->orphan.index) { /* the old pm's zombies: their pids are the new pm's to give */
            zombie_release(-1);
            procfs_reaped(-1);
        }
        for (int64_t i = q->orphan.index; i >= 0 && i < NR_SLOTS && !res; i++)
            if ((p = vproc_by_index((int)i))) {
                res = p->ep;
                o->next = i + 1;
                proc_gone(p, 0);
            }
    } else if (m->type == VFS_PM_EXEC) {
        struct msg_vfs_pm_exec_reply *e = &r.u.vfs_pm.exec_reply;
        p = vproc_of(q->exec.ep);
        *e = (struct msg_vfs_pm_exec_reply){0};
        e->result = res = p ? exec_load(p, m, e) : -LX_ESRCH;
    } else if (m->type == VFS_PM_EXEC_DONE) {
        const struct msg_vfs_pm_exec_done *e = &q->exec_done;
        if ((p = vproc_of(e->ep))) {
            for (int fd = 0; fd < NR_FDS; fd++)
                if ((p->files->cloexec >> fd) & 1)
                    fd_close(p, fd);
            uint64_t n = e->len < sizeof(p->cmdline) ? e->len : sizeof(p->cmdline);
            if (sys_safecopy_from(m->source, e->grant, 0, p->cmdline, n) < 0)
                n = 0;
            p->cmdline_len = n;
            p->ppid = e->ppid;
            memcpy(p->exe, p->exe_next, sizeof(p->exe));  /* the program exec loaded last */
            strncpy_s(p->comm, e->name, sizeof(p->comm)); /* pm's: the path's last part */
        }
    } else if (m->type == VFS_PM_SETNAME) {
        if ((p = vproc_of(q->setname.ep)))
            strncpy_s(p->comm, q->setname.name, sizeof(p->comm));
        else
            res = -LX_ESRCH;
    } else if (m->type == VFS_PM_CANCEL) {
        res = (p = vproc_of(q->proc.ep)) ? cancel_call(p) : 0;
    } else if (m->type == VFS_PM_PROCINFO) { /* pm's part of a /proc file: its reader goes on */
        p = procfs_answer(m->source, &q->procinfo);
        reply_hold(m->source, &r);
        if (p)
            rerun(p);
        return;
    } else if (m->type == VFS_PM_TTY) {
        res = (p = vproc_of(q->tty.ep)) && p->wait == WAIT_TTY;
        if (res && q->tty.result < 0) { /* -EIO; TIOCSPGRP says ENOTTY (Linux's tiocspgrp) */
            int spgrp = p->call.u.lx.nr == LX_ioctl && p->call.u.lx.arg[1] == TIOCSPGRP;
            p->wait = WAIT_NONE;
            reply(p->ep, spgrp ? -LX_ENOTTY : q->tty.result < -4095 ? -LX_EIO : q->tty.result);
        } else if (res) {
            p->tty_passed = 1; /* once: the call's check lets it through */
            rerun(p);
            p->tty_passed = 0;
        }
    } else if (m->type == VFS_PM_PULL) {
        signal_pull(&r.u.vfs_pm.pull);
        reply_hold(m->source, &r);
        return;
    } else if (m->type == VFS_PM_SETCRED) {
        res = perm_set_cred(m->source, m);
    } else if (m->type == VFS_PM_RELEASE) {
        zombie_release(q->release.pid);
        procfs_reaped(q->release.pid);
    } else if (m->type == VFS_PM_SHUTDOWN) {
        res = mount_shutdown();
    } else if (m->type == VFS_PM_SETLIMIT) {
        if (!(p = vproc_of(q->setlimit.ep)))
            res = -LX_ESRCH;
        else if (q->setlimit.fd_limit > NR_FDS)
            res = -LX_EINVAL;
        else
            p->files->fd_limit = q->setlimit.fd_limit;
    } else if (m->type == VFS_PM_MAP_OPEN) {
        struct msg_vfs_pm_map_open_reply o = {0};
        res = map_open(m, &o);
        o.result = res;
        r.u.vfs_pm.map_open_reply = o;
    } else if (m->type == VFS_PM_MAP_IO) {
        res = map_io(m);
    } else if (m->type == VFS_PM_MAP_CLOSE) {
        res = map_close(m);
    } else if (m->type == VFS_PM_SIGINFO) {
        res = sigfd_answer(&q->siginfo);
    } else if (m->type == VFS_PM_TAKEOVER) {
        res = takeover(q->takeover.old, q->takeover.ep);
    } else if (m->type == VFS_PM_SETPGRP) {
        if ((p = vproc_of(q->setpgrp.ep))) {
            p->pgrp = q->setpgrp.pgrp;
            p->sid = q->setpgrp.sid;
        }
    } else {
        res = -LX_ENOSYS;
    }
    if (m->type != VFS_PM_EXEC && m->type != VFS_PM_MAP_OPEN)
        r.u.vfs_pm.reply.result = res; /* VFS_PM_ORPHAN's next index stays */
    reply_hold(m->source, &r);
}

/* Requests for pm queued by vfs (SIGPIPE) or drivers (^C): pm pulls them. */
static struct {
    int kind, target;
    int64_t sig; /* a signal, or VFS_SIG_MASK's mask */
    int pid, uid;
} sigq[32];
static int sigq_len;

/*
 * A signal with its sender's pid and real uid (VFS_SIG_MESGQ: mq_notify's):
 * 1 if queued (a VFS_SIG_MASK only while a quarter of the queue stays free).
 */
int signal_queue_info(int kind, int target, int64_t sig, int pid, int uid)
{
    int queued = sigq_len < (kind == VFS_SIG_MASK ? 24 : 32);
    if (queued)
        sigq[sigq_len++] = (typeof(sigq[0])){kind, target, sig, pid, uid};
    if (pm_ep)
        ipc_notify(pm_ep);
    return queued;
}

int signal_queue(int kind, int target, int64_t sig)
{
    return signal_queue_info(kind, target, sig, 0, 0);
}

/* pm has something to pull (procfs.c: a /proc reader waits for pm's part). */
void pm_wake(void)
{
    if (pm_ep)
        ipc_notify(pm_ep);
}

/* Take back a queued item pm has not pulled yet: 1 if there was one. */
int signal_unqueue(int kind, int target)
{
    for (int i = 0; i < sigq_len; i++)
        if (sigq[i].kind == kind && sigq[i].target == target) {
            for (sigq_len--; i < sigq_len; i++)
                sigq[i] = sigq[i + 1];
            return 1;
        }
    return 0;
}

/* VFS_PM_PULL: the oldest queued signal into its reply; 0 if there is none. */
static int signal_pull(struct msg_vfs_pm_pull_reply *out)
{
    out->result = VFS_SIG_NONE;
    if (!sigq_len)
        return procfs_pull(out); /* a /proc reader's request for pm, if any */
    *out = (struct msg_vfs_pm_pull_reply){sigq[0].kind, sigq[0].target, sigq[0].sig, sigq[0].pid,
                                          sigq[0].uid};
    memcpy(&sigq[0], &sigq[1], sizeof(sigq[0]) * (size_t)--sigq_len);
    return 1;
}

int main(uint64_t arg)
{
    const char *args = (const char *)arg; /* root=LABEL mount=PATH:LABEL ... (mount.c) */
    keep_start(); /* the tables, in the state region: the last instance's taken over later */
    if (mount_root(args) < 0)
        return 1;
    dmap_init();      /* which driver serves which device, from the manifests */
    keep_terminals(); /* after a restart: the last instance's sessions of the terminals */
    make_dev();
    mount_others(args);        /* /proc, then the argument's mounts */
    service_startup("vfs", 0); /* ready; rs's heartbeat pings are answered in service_receive */
    if ((pm_ep = lookup_service("pm")) > 0)
        ipc_notify(pm_ep); /* after a restart: pm tells us its processes (VFS_FORK_ADOPT) */
    else
        pm_ep = 0; /* at boot pm starts after us: looked up at its first request */
    for (;;) {
        message_t m;
        wakeups_run(); /* the calls the last message let go on */
        keep_commit(); /* its table stores stand */
        keep_busy(0);  /* between requests: a restart may take the tables over */
        int got = service_receive(&m);
        keep_busy(1);
        if (got < 0)
            continue;
        struct driver *d;
        if (m.source == SYSTEM) { /* the kernel: our alarm */
            timers_check();
        } else if (m.type == MSG_NOTIFY && m.source == ds_endpoint()) {
            drivers_changed(); /* a driver announced itself, or a service came or went */
            mounts_check();    /* a file server of ours among them */
        } else if (m.type == MSG_NOTIFY && (d = driver_of(m.source))) {
            driver_status(d); /* a driver of ours wrote status into its mailbox */
        } else if (m.type == MSG_NOTIFY && fswait_notified(m.source)) {
            /* a busy file server finished its request (fswait.c) */
        } else if (m.type == MSG_NOTIFY && inet_notified(m.source)) {
            /* inet's status table changed (socket_inet.c) */
        } else if (m.type == MSG_NOTIFY && ds_notifier(m.source)) {
            drivers_changed(); /* from a restarted ds: its store and our subscriptions survive */
            mounts_check();
        } else if (m.type == MSG_NOTIFY) {
            vfs_refuse(REFUSE_NOTIFY, m.source, "a notification, not from a driver of ours");
        } else if (m.type == MSG_LINUX_CALL) {
            struct vproc *p = vproc_of(m.source); /* only pm's Linux processes */
            if (!p)
                p = keep_early(m.source); /* after a restart, before pm names it (keep.c) */
            if (!p) {
                vfs_refuse(REFUSE_LINUX_CALL, m.source,
                           "a Linux call from a process pm did not make");
                reply(m.source, -LX_ENOSYS);
                continue;
            }
            keep_caller(m.source);      /* undone whole after a death, it may run again */
            if (m.u.lx.nr & LX_AGAIN) { /* ran again after a vfs death (keep.c) */
                if (!keep_again(&m)) {  /* logged: the program sees EIO */
                    printf("vfs: pid %d: call %lu of the last instance fails (EIO): not safe "
                           "twice\n",
                           p->pid, (unsigned long)m.u.lx.nr);
                    reply(m.source, -LX_EIO);
                    continue;
                }
            }
            p->call = m; /* kept in case the call is suspended */
            procfs_forget(p);
            p->done = p->deadline = p->fs_deadline = 0;
            p->fs_unsafe = 0;
            p->waited = 0;
            rerun(p); /* the first run */
        } else if (IS_VFS_PM_RQ(m.type)) {
            pm_request(&m);
        } else if (m.source > 0) {
            vfs_refuse(REFUSE_MESSAGE, m.source, "a message vfs takes from nobody");
            message_t r = {.type = VFS_PM_REPLY, .u.vfs_pm.reply.result = -LX_ENOSYS};
            reply_hold(m.source, &r);
        }
    }
}
