/*
 * The device map: which driver serves a character device, what vfs knows of
 * each driver: its endpoint, its status mailbox, and for a terminal the
 * session it belongs to and its foreground process group.
 *
 * Majors to labels come from the manifests, the one place that says which
 * driver serves what (`dev char 4,5 terminal`, docs/MANIFESTS.md): at start
 * vfs borrows the manifest bundle from rs (ROOT_MODULE "manifests") and
 * maps each major to the label that names it; a major named twice stays the
 * first one's. No major, label or endpoint is written here, except vfs's
 * own devices (samsara/fs.h): /dev/service (DEV_MISC_MAJOR,
 * DEV_SERVICE_MINOR) is served by rs (ROOT_EP) and mem (null, zero) by vfs
 * itself (file.c).
 *
 * Labels to endpoints come from rs: a driver announces itself in ds when it
 * is ready (it publishes LABEL.dev, which ds lets only that label's running
 * service write); vfs subscribes to LABEL.dev for each label of the map,
 * and to ep.* (rs's record of every service's endpoint, 0 while down), and
 * at a change asks rs for the label's endpoint (ROOT_LOOKUP). So a driver
 * is bound only to the majors its manifest names, whatever it publishes,
 * and a new instance is bound (given its mailbox, and a terminal its
 * foreground group) as soon as it says it is ready. A driver used before
 * it announced itself is looked up the first time it is used.
 *
 * vfs never waits for a driver to learn its status. When it binds a
 * driver it lends it a mailbox in vfs's own memory (CDEV_MAILBOX, samsara/
 * fs.h); the driver writes status items there with safecopy and notifies.
 * vfs reads them from its memory (driver_status). A notification counts only
 * from a driver in this map that took a mailbox (driver_of); anyone else's is
 * refused (main.c). Everything in the box is checked: a DONE must name a
 * request of ours waiting at that driver, and a SIGNAL is obeyed only from a
 * terminal's driver, for that terminal's foreground group, and only for the
 * signals a terminal sends (^C, ^\, ^Z, window size, hang-up).
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "manifest/manifest.h"
#include "vfs.h"

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGCONT 18
#define SIGTSTP 20
#define SIGWINCH 28

#define NR_DRIVERS 16 /* labels in the map, rs's /dev/service first */
_Static_assert(NR_DRIVERS == sizeof(((struct tables *)0)->terminals) / sizeof(struct terminal_kept),
               "one kept terminal per driver");
#define ANNOUNCE_SUFFIX ".dev"

static struct driver drivers[NR_DRIVERS]; /* [0]: rs, for /dev/service */
static int nr_drivers = 1;
/* The map: [class][major], 0 where no manifest names the major. */
static struct driver *dmap[MANIFEST_DEV_BLOCK + 1][DEV_MAJOR_MAX + 1];

static struct driver *driver_by_label(const char *label)
{
    for (int i = 1; i < nr_drivers; i++)
        if (!strcmp(drivers[i].label, label))
            return &drivers[i];
    return 0;
}

/* Map the majors one manifest names to its label. */
/* The device nodes the manifests name (`node`), for majors whose claim stood: main.c makes them. */
#define NR_NODES 32
static struct manifest_node nodes[NR_NODES];
static int nr_nodes;

static void dmap_claim(const struct manifest *man, const char *file)
{
    static const char *const class_name[] = {"?", "char", "block"};
    for (int k = 0; k < man->nr_devs; k++) {
        int cls = man->devs[k].dev_class, major = man->devs[k].major;
        struct driver *d = driver_by_label(man->label), **slot = &dmap[cls][major];
        if (*slot) {
            printf("vfs: %s: %s major %d is %s's already: not mapped\n", file, class_name[cls],
                   major, (*slot)->label);
            continue;
        }
        if (!d && nr_drivers == NR_DRIVERS) {
            printf("vfs: %s: more than %d drivers: not mapped\n", file, NR_DRIVERS - 1);
            return;
        }
        if (!d) {
            d = &drivers[nr_drivers++];
            strncpy_s(d->label, man->label, sizeof(d->label));
        }
        d->terminal |= man->devs[k].terminal && cls == MANIFEST_DEV_CHAR;
        *slot = d;
    }
    for (int k = 0; k < man->nr_nodes; k++) { /* only nodes of majors this driver now holds */
        const struct driver *d = dmap[MANIFEST_DEV_CHAR][man->nodes[k].major];
        if (!d || strcmp(d->label, man->label))
            printf("vfs: %s: node %s: major %d is not %s's: not made\n", file, man->nodes[k].name,
                   man->nodes[k].major, man->label);
        else if (nr_nodes == NR_NODES)
            printf("vfs: %s: more than %d device nodes: %s not made\n", file, NR_NODES,
                   man->nodes[k].name);
        else
            nodes[nr_nodes++] = man->nodes[k];
    }
}

/* The i-th device node the manifests name, or 0 past the last. */
const struct manifest_node *dmap_node(int i)
{
    return i >= 0 && i < nr_nodes ? &nodes[i] : 0;
}

/*
 * The file servers mount(2) may mount: the labels vfs's own manifest names
 * under `ipc` (rs lets vfs send to no one else), except the services vfs
 * speaks other protocols with and the drivers of the map.
 */
static char servers[MANIFEST_IPC_MAX][MANIFEST_LABEL_MAX];
static int nr_servers;

static void keep_servers(const struct manifest *vfs)
{
    static const char *const others[] = {"rs", "pm", "ds", "inet", "drivers", "parent"};
    for (int i = 0; i < vfs->nr_ipc; i++) {
        int other = 0;
        for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++)
            other |= !strcmp(vfs->ipc[i], others[k]);
        if (!other)
            strncpy_s(servers[nr_servers++], vfs->ipc[i], MANIFEST_LABEL_MAX);
    }
}

int mount_may_serve(const char *label)
{
    for (int i = 0; i < nr_servers; i++)
        if (!strcmp(servers[i], label) && !driver_by_label(label))
            return 1;
    return 0;
}

/*
 * Build the map from the manifests (at start, once: rs reads them only at
 * boot too), then subscribe to each driver's announcement. The bundle is
 * copied into `bounce`, which nothing else uses yet. A manifest with errors
 * maps nothing (rs does not start its service either).
 */
void dmap_init(void)
{
    static struct manifest man;
    int64_t size = root_module_copy("manifests", bounce, BOUNCE_SIZE);
    if (size < 0) {
        printf("vfs: cannot read the manifests (%s): no device has a driver\n",
               strerror_s((int)size));
        return;
    }
    const char *cursor = (const char *)bounce, *end = cursor + size;
    char path[96];
    int r;
    while ((r = manifest_bundle_parse(&cursor, end, path, sizeof(path), &man, 0, 0)) > 0)
        if (r == 1 && !strcmp(man.label, "vfs"))
            keep_servers(&man);
        else if (r == 1)
            dmap_claim(&man, path);
    int subscribed = ds_subscribe("ep.*", 0); /* a driver died or came back */
    for (int i = 1; i < nr_drivers && subscribed >= 0; i++) {
        char key[DS_KEY_MAX];
        snprintf_s(key, sizeof(key), "%s" ANNOUNCE_SUFFIX, drivers[i].label);
        subscribed = ds_subscribe(key, DS_INITIAL); /* one that is ready already counts */
    }
    if (subscribed < 0)
        printf("vfs: no data store (%s): driver restarts will be noticed late\n",
               strerror_s(subscribed));
}

/* /proc/devices, as Linux shows it: "MAJOR NAME" per class; vfs's own majors too. */
int64_t dmap_text(char *buf, size_t size)
{
    static const char *const heading[] = {"", "Character devices:\n", "\nBlock devices:\n"};
    size_t at = 0;
    for (int cls = MANIFEST_DEV_CHAR; cls <= MANIFEST_DEV_BLOCK; cls++) {
        at += (size_t)snprintf_s(buf + at, size - at, "%s", heading[cls]);
        for (int major = 1; major <= DEV_MAJOR_MAX && at < size; major++) {
            const char *name = dmap[cls][major] ? dmap[cls][major]->label : 0;
            if (cls == MANIFEST_DEV_CHAR && DEV_IS_VFS_OWN(major))
                name = major == DEV_MEM_MAJOR ? "mem" : "misc";
            if (name)
                at += (size_t)snprintf_s(buf + at, size - at, "%3d %s\n", major, name);
        }
    }
    return (int64_t)(at < size ? at : size - 1);
}

struct driver *driver_for(uint64_t rdev)
{
    if (rdev == DEV_MAKE(DEV_MISC_MAJOR, DEV_SERVICE_MINOR))
        return &drivers[0];
    return DEV_MAJOR(rdev) <= DEV_MAJOR_MAX ? dmap[MANIFEST_DEV_CHAR][DEV_MAJOR(rdev)] : 0;
}

/* The registered driver whose endpoint this is (one that took a mailbox), or 0. */
struct driver *driver_of(endpoint_t ep)
{
    for (int i = 0; i < nr_drivers; i++)
        if (ep > 0 && drivers[i].ep == ep && drivers[i].has_box)
            return &drivers[i];
    return 0;
}

static void forget(struct driver *d)
{
    if (d->has_box)
        grant_free(d->box_grant);
    d->has_box = 0;
    d->ep = 0;
}

/*
 * A request to a driver of the map: bounded, so that a driver which keeps
 * answering rs's heartbeats but not us cannot hold every file call. A
 * driver answers each request at once (a call that must wait is suspended
 * and finished through the mailbox), so one that has not answered in
 * DRIVER_TIMEOUT_MS is broken: we complain to rs, which replaces it, and
 * the call fails with EIO (the E_TIMEDOUT the caller sees becomes that).
 */
int driver_sendrec(endpoint_t ep, message_t *m)
{
    if (m->type != CDEV_READ && m->type != CDEV_SELECT)
        keep_seal();        /* a write, an ioctl, an open...: not undone (keep.c) */
    int was = keep_busy(0); /* the tables change only after the answer: a death here keeps them */
    int r = ipc_sendrec_bounded(ep, m, DRIVER_TIMEOUT_MS);
    keep_busy(was);
    struct driver *d;
    if (r == -E_TIMEDOUT && (d = driver_of(ep)) && d->label[0]) {
        printf("vfs: driver %s (endpoint %d) did not answer in %d ms: complaint to rs\n", d->label,
               ep, DRIVER_TIMEOUT_MS);
        root_complain(d->label, DRIVER_TIMEOUT_MS);
    }
    return r;
}

/*
 * Lend a driver we just found its mailbox. A restarted terminal driver also
 * learns its foreground group again (so ^C still reaches it).
 */
static void register_mailbox(struct driver *d)
{
    memset(&d->box, 0, sizeof(d->box));
    d->taken = 0;
    grant_id_t g = grant_alloc(d->ep, &d->box, sizeof(d->box), GRANT_READ | GRANT_WRITE);
    message_t m = {.type = CDEV_MAILBOX, .u.cdev.mailbox = {g, sizeof(d->box)}};
    if (g < 0 || driver_sendrec(d->ep, &m) < 0 || m.u.cdev.reply.result < 0) {
        printf("vfs: driver %s took no status mailbox: its notifications are ignored\n", d->label);
        grant_free(g);
        return;
    }
    d->box_grant = g;
    d->has_box = 1;
    if (d->terminal && d->sid > 0) {
        message_t c = {
            .type = CDEV_IOCTL,
            .u.cdev.ioctl = {
                .id = dev_new_id(), .request = TIOCSCTTY, .grant = -1, .pgrp = d->fgrp, .arg = 1}};
        driver_sendrec(d->ep, &c);
    }
    driver_status(d); /* what it had queued for us already */
}

/* The driver's endpoint, looked up (and given its mailbox) the first time. */
endpoint_t driver_endpoint(struct driver *d)
{
    if (!d)
        return -E_SRCH;
    if (d->ep > 0)
        return d->ep;
    if (!d->label[0])
        return d->ep = ROOT_EP;
    endpoint_t ep = root_lookup(d->label);
    if (ep <= 0)
        return -E_SRCH;
    d->ep = ep;
    d->used = 1;
    register_mailbox(d);
    return d->ep > 0 ? d->ep : -E_SRCH;
}

/* A request to the driver failed with E_DEADEP: it was restarted. The new instance, or -E_SRCH. */
endpoint_t driver_restarted(endpoint_t old)
{
    for (int i = 0; i < nr_drivers; i++)
        if (drivers[i].ep == old && drivers[i].label[0]) {
            forget(&drivers[i]);
            return driver_endpoint(&drivers[i]);
        }
    return -E_SRCH;
}

/*
 * A driver announced itself (LABEL.dev): bind its label to the instance rs
 * runs now. ds let only that instance write the key, but it may have died
 * since, so rs is asked, not the key; a driver bound already is left as it
 * is. A new instance gets a mailbox at once, so its status and signals
 * reach us before anyone uses it.
 */
static void driver_announced(struct driver *d)
{
    endpoint_t ep = root_lookup(d->label);
    if (ep <= 0 || (ep == d->ep && d->has_box))
        return;
    forget(d);
    d->ep = ep;
    d->used = 1;
    register_mailbox(d);
}

/*
 * Requests waiting on a driver that is gone fail with EIO, and a driver
 * we used is found again (its new instance gets a mailbox).
 */
static void drivers_check(void)
{
    struct proc_info info;
    for (int i = 0; i < nr_drivers; i++)
        if (drivers[i].label[0] && drivers[i].ep > 0 && sys_proc_info(drivers[i].ep, &info) < 0)
            forget(&drivers[i]);
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        if (p && p->wait == WAIT_DEV && sys_proc_info(p->dev_ep, &info) < 0) {
            p->wait = WAIT_NONE;
            reply(p->ep, dev_finish(p, -LX_EIO));
        }
    }
    for (int i = 0; i < nr_drivers; i++)
        if (drivers[i].label[0] && drivers[i].used && drivers[i].ep <= 0)
            driver_endpoint(&drivers[i]);
}

/*
 * ds notified us: a driver announced itself (LABEL.dev), or rs says a
 * service came or went (ep.LABEL). Take every changed key (ds answers at
 * once and its client's wait is bounded), then look at the drivers.
 */
void drivers_changed(void)
{
    char key[DS_KEY_MAX];
    const size_t suffix = sizeof(ANNOUNCE_SUFFIX) - 1;
    int n;
    while ((n = ds_check(key, sizeof(key))) > 0) {
        struct driver *d = 0;
        if ((size_t)n > suffix && !strcmp(key + n - suffix, ANNOUNCE_SUFFIX)) {
            key[n - suffix] = '\0';
            d = driver_by_label(key);
        }
        if (d)
            driver_announced(d);
    }
    drivers_check();
    inet_check(); /* the network stack is no driver of the map, but its sockets die with it */
}

/* ---- terminals: sessions and foreground groups */

/*
 * Processes that exited and are not reaped yet: on Linux a zombie keeps its
 * process group, so a shell may give the terminal to a job whose leader has
 * already exited. pm tells us when it reaps one (VFS_PM_RELEASE); its slot
 * in our process table may be someone else's by then, so they live here.
 */
static struct {
    int pid, pgrp, sid;
} zombies[NR_SLOTS];

void zombie_add(const struct vproc *p)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if (!zombies[i].pid) {
            zombies[i].pid = p->pid, zombies[i].pgrp = p->pgrp, zombies[i].sid = p->sid;
            return;
        }
}

void zombie_release(int pid)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if ((zombies[i].pid == pid || pid < 0) && pid)
            zombies[i].pid = 0;
}

/* 1 if a process of session sid, live or a zombie, is in group pgrp. */
static int in_session(int pgrp, int sid)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *q = vproc_by_index(i);
        if ((q && q->pgrp == pgrp && q->sid == sid) ||
            (zombies[i].pid && zombies[i].pgrp == pgrp && zombies[i].sid == sid))
            return 1;
    }
    return 0;
}

/*
 * Before a terminal ioctl that changes who the terminal belongs to
 * (value: TIOCSPGRP's group, or TIOCSCTTY's argument): 0 or an errno, as
 * Linux. TIOCSCTTY needs a session leader, and a terminal that belongs to
 * no session (or the argument 1 from root, who may take it); TIOCSPGRP
 * needs the caller's own terminal and a group of the caller's session.
 */
int terminal_check(struct vproc *p, struct driver *d, uint64_t req, int64_t value)
{
    if (!d || !d->terminal)
        return 0;
    if (req == TIOCSCTTY) /* taking it from another session (1): root only (CAP_SYS_ADMIN) */
        return p->pid != p->sid || (d->sid && d->sid != p->sid && (value != 1 || p->cred.euid))
                   ? -LX_EPERM
                   : 0;
    if (req == TIOCGPGRP && (!d->sid || d->sid != p->sid))
        return -LX_ENOTTY; /* not the caller's controlling terminal */
    if (req == TIOCSPGRP) {
        if (!d->sid || d->sid != p->sid)
            return -LX_ENOTTY;
        if (value <= 0)
            return -LX_EINVAL;
        return in_session((int)value, p->sid) ? 0 : -LX_EPERM;
    }
    return 0;
}

/*
 * Linux's tty_check_change, for a read (sig SIGTTIN), a write with TOSTOP
 * and a call that changes the terminal (SIGTTOU): a process of a
 * background group using its own controlling terminal waits (WAIT_TTY)
 * while pm decides (VFS_SIG_TTY), as only pm knows its signal state and
 * whether its group is orphaned: the signal for its group (which stops or
 * interrupts the call; pm makes it again at SIGCONT, as Linux's
 * ERESTARTSYS), or VFS_PM_TTY: -EIO, or go on (SIGTTOU ignored). 0: go on now.
 */
int64_t terminal_job_check(struct vproc *p, struct driver *d, int sig)
{
    if (!d || !d->terminal || !d->sid || d->sid != p->sid || !d->fgrp || p->pgrp == d->fgrp)
        return 0;
    if (p->tty_passed) {
        p->tty_passed = 0;
        return 0;
    }
    suspend(p, WAIT_TTY);
    signal_queue(VFS_SIG_TTY, p->ep, sig);
    return SUSPEND;
}

/* After the driver accepted it: remember the terminal's session and foreground group. */
void terminal_update(struct vproc *p, struct driver *d, uint64_t req, int64_t value)
{
    if (!d || !d->terminal)
        return;
    if (req == TIOCSCTTY) {
        d->sid = p->sid;
        d->fgrp = p->pgrp;
    } else if (req == TIOCSPGRP) {
        d->fgrp = (int)value;
    } else if (req == TIOCNOTTY && d->sid == p->sid && p->pid == p->sid) {
        /* only the leader frees its session's terminal; anyone else gives up only its own */
        d->sid = d->fgrp = 0;
    }
    terminals_save();
}

/* The terminals' sessions and foreground groups into the kept tables (keep.c), after a change. */
void terminals_save(void)
{
    for (int i = 0; i < NR_DRIVERS; i++)
        tab->terminals[i] = (struct terminal_kept){"", drivers[i].terminal ? drivers[i].sid : 0,
                                                   drivers[i].fgrp, drivers[i].tostop};
    for (int i = 0; i < NR_DRIVERS; i++)
        memcpy(tab->terminals[i].label, drivers[i].label, sizeof(drivers[i].label));
}

/* After a restart: the last instance's sessions and foreground groups, by the drivers' labels. */
void terminals_take(const struct terminal_kept *old)
{
    for (int i = 0; i < NR_DRIVERS; i++) {
        struct driver *d = old[i].label[0] && !old[i].label[sizeof(old[i].label) - 1]
                               ? driver_by_label(old[i].label)
                               : 0;
        if (d && d->terminal && old[i].sid > 0) {
            d->sid = old[i].sid;
            d->fgrp = old[i].fgrp;
            d->tostop = old[i].tostop != 0;
        }
    }
    terminals_save();
}

/* A session leader exited: its terminal belongs to no session now (as Linux). */
/* The terminal of session sid as Linux's /proc/PID/stat encodes it (tty_nr: major << 8 | minor
 * 0), and its foreground group in *fgrp; 0 and -1 if the session has none. */
uint64_t terminal_of(int sid, int *fgrp)
{
    *fgrp = -1;
    for (int major = 1; sid > 0 && major <= DEV_MAJOR_MAX; major++) {
        struct driver *d = dmap[MANIFEST_DEV_CHAR][major];
        if (d && d->terminal && d->sid == sid) {
            *fgrp = d->fgrp > 0 ? d->fgrp : -1;
            return (uint64_t)major << 8;
        }
    }
    return 0;
}

void terminal_session_ended(int sid)
{
    for (int i = 0; i < nr_drivers; i++)
        if (drivers[i].terminal && drivers[i].sid == sid)
            drivers[i].sid = drivers[i].fgrp = 0;
    terminals_save();
}

static int terminal_signal(uint64_t sig)
{
    switch (sig) {
    case SIGHUP:
    case SIGINT:
    case SIGQUIT:
    case SIGCONT:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGWINCH:
        return 1;
    default:
        return 0;
    }
}

/* ---- the status mailbox */

static void item(struct driver *d, const struct cdev_status_item *it)
{
    char why[96];
    switch (it->kind) {
    case CDEV_ST_NONE: /* taken back by a cancel (driver_take_done) */
        return;
    case CDEV_ST_DONE:
        if (!dev_done(d->ep, it->w1, (int64_t)it->w2)) {
            snprintf_s(why, sizeof(why), "a result for request %lu, which waits for nothing",
                       it->w1);
            vfs_refuse(REFUSE_STATUS, d->ep, why);
        }
        return;
    case CDEV_ST_SELECT:
        wakeup_polls();
        return;
    case CDEV_ST_SIGNAL:
        if (d->terminal && d->fgrp > 0 && it->w1 == (uint64_t)d->fgrp && terminal_signal(it->w2)) {
            signal_queue(VFS_SIG_PGRP, d->fgrp, (int)it->w2);
            return;
        }
        snprintf_s(why, sizeof(why), "signal %lu for group %ld (its terminal's foreground: %d)",
                   it->w2, (int64_t)it->w1, d->terminal ? d->fgrp : 0);
        vfs_refuse(REFUSE_SIGNAL, d->ep, why);
        return;
    default:
        snprintf_s(why, sizeof(why), "a status item of unknown kind %lu", it->kind);
        vfs_refuse(REFUSE_STATUS, d->ep, why);
    }
}

/*
 * The driver notified us: take the items it wrote. Only our own count
 * (taken) is trusted; a head that runs more than a box ahead is refused and
 * the box emptied. If it was full, the driver may have kept items back:
 * a notification tells it there is room (never a wait).
 */
void driver_status(struct driver *d)
{
    uint64_t head = __atomic_load_n(&d->box.head, __ATOMIC_ACQUIRE), start = d->taken;
    if (head - start > CDEV_MAILBOX_ITEMS) {
        vfs_refuse(REFUSE_STATUS, d->ep, "a status mailbox whose head is out of range");
        d->taken = head;
        __atomic_store_n(&d->box.tail, head, __ATOMIC_RELEASE);
        return;
    }
    while (d->has_box && d->taken != head) {
        struct cdev_status_item it = d->box.item[d->taken % CDEV_MAILBOX_ITEMS];
        __atomic_store_n(&d->box.tail, ++d->taken, __ATOMIC_RELEASE);
        item(d, &it);
    }
    if (head - start == CDEV_MAILBOX_ITEMS && d->ep > 0)
        ipc_notify(d->ep);
}

/* A cancel found the request finished: its DONE item may wait in the box. Take it back. */
int driver_take_done(endpoint_t ep, uint64_t id, int64_t *result)
{
    struct driver *d = driver_of(ep);
    if (!d)
        return 0;
    uint64_t head = __atomic_load_n(&d->box.head, __ATOMIC_ACQUIRE);
    for (uint64_t i = d->taken; i != head && i - d->taken < CDEV_MAILBOX_ITEMS; i++) {
        struct cdev_status_item *it = &d->box.item[i % CDEV_MAILBOX_ITEMS];
        if (it->kind == CDEV_ST_DONE && it->w1 == id) {
            *result = (int64_t)it->w2;
            it->kind = CDEV_ST_NONE;
            return 1;
        }
    }
    return 0;
}
