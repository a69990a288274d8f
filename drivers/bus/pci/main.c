/*
 * The pci server: it owns configuration space (ports 0xcf8-0xcff), finds
 * the functions on the bus at its start, and gives each driver the
 * functions its manifest names (`pci VVVV:DDDD`, `pci class CC:SS[:PP]`;
 * drivers.c), one driver per function at a time, with the function's BARs
 * and IRQ line as privileges (reserve.c). When a driver dies rs asks it to
 * quiesce the driver's devices (PCI_QUIESCE): bus mastering off, so no DMA
 * the dead instance set up lands in memory that is about to be reused, and
 * INTx disabled, so no interrupt of its device holds a shared line. Each
 * command register is read back and logged; the reservations end. The
 * driver's replacement resets its device and turns both on again when it is
 * ready for them. It also serves /dev/pci, a listing (list.c). Reservations
 * are kept in ds and taken back by a restarted instance (saved.c).
 *
 * Who may send what (docs/PCI.md): one table (requests[]), checked before
 * any handler runs; a refusal is counted and logged (service_refuse) and
 * answered with E_PERM.
 *   PCI_QUIESCE        rs only;
 *   PCI_FIND           a driver (a label whose manifest names PCI devices;
 *                      anyone else finds nothing: E_SRCH);
 *   PCI_RESERVE        a driver, for a function its manifest names;
 *   PCI_BAR, PCI_CFG_READ, PCI_CFG_WRITE, PCI_RELEASE
 *                      the driver that reserved the function (writes only
 *                      to the fields reserve.c allows).
 *   CDEV_* (/dev/pci)  vfs (libchardriver's clients).
 */
#include <samsara/pci.h>
#include <samsara/root.h>
#include "sys.h"
#include "pci.h"

/* Who may send a request. */
enum sender {
    RS,     /* only rs (root) */
    DRIVER, /* a driver: a running service whose manifest names PCI devices */
    OWNER,  /* the driver that reserved the function the request names */
};
static const char *const refusal[] = {[RS] = "only rs may ask for that",
                                      [DRIVER] = "its manifest names no PCI device",
                                      [OWNER] = "it has not reserved that function"};

/* The reply to m: the PCI_REPLY convention, result first. */
static void reply(const message_t *m, message_t *r)
{
    r->type = PCI_REPLY;
    reply_hold(m->source, r);
}

/* One request as the handlers see it: the sender's driver index and the function named. */
struct request {
    message_t *m, *r;
    int driver;
    struct pci_dev *dev;
};

/* PCI_QUIESCE: every function with one of the dead driver's ids, its manifest's classes, or
 * reserved by it; its reservations end. */
static int64_t handle_quiesce(struct request *q)
{
    struct msg_pci_quiesce rq = q->m->u.pci.quiesce;
    struct msg_pci_quiesce_reply *a = &q->r->u.pci.quiesce_reply;
    size_t label_len = 0;
    while (label_len < sizeof(rq.label) && rq.label[label_len])
        label_len++;
    if (rq.nr_ids > PCI_QUIESCE_IDS || label_len == sizeof(rq.label))
        return -E_INVAL;
    int driver = pci_driver_by_label(rq.label);
    for (int i = 0; i < pci_nr_devs; i++) {
        struct pci_dev *d = &pci_devs[i];
        int named =
            (driver >= 0 && pci_names(driver, d)) || (rq.driver > 0 && d->owner == rq.driver);
        for (int k = 0; k < rq.nr_ids && !named; k++)
            named = d->vendor == rq.ids[k].vendor && d->device == rq.ids[k].device;
        if (!named)
            continue;
        a->quiesced++;
        a->failed += pci_quiesce(d, rq.label) < 0;
        if (d->owner && d->owner == rq.driver)
            pci_release(d, 0); /* dead: its privileges died with it */
    }
    return 0;
}

/* PCI_FIND: the index-th function the caller's manifest names, in bus order. */
static int64_t handle_find(struct request *q)
{
    uint64_t index = q->m->u.pci.find.index;
    for (int i = 0; i < pci_nr_devs; i++) {
        const struct pci_dev *d = &pci_devs[i];
        if (!pci_names(q->driver, d) || index--)
            continue;
        q->r->u.pci.find_reply = (struct msg_pci_find_reply){.bdf = d->bdf,
                                                             .id = {d->vendor, d->device},
                                                             .class_code = d->class_code,
                                                             .irq = d->irq};
        return 0;
    }
    return -E_SRCH;
}

static int64_t handle_reserve(struct request *q)
{
    struct pci_dev *d = pci_dev_at(q->m->u.pci.dev.bdf);
    if (!d)
        return -E_SRCH;
    if (!pci_names(q->driver, d)) {
        service_refuse("pci", q->m, "its manifest does not name that function");
        return -E_PERM;
    }
    return pci_reserve(q->m->source, q->driver, d);
}

static int64_t handle_release(struct request *q)
{
    pci_quiesce(q->dev, 0); /* its privileges go: it could not stop the device any more */
    pci_release(q->dev, 1);
    return 0;
}

static int64_t handle_bar(struct request *q)
{
    uint32_t bar = q->m->u.pci.bar.bar;
    if (bar >= PCI_BARS)
        return -E_INVAL;
    const struct pci_bar_info *b = &q->dev->bars[bar];
    q->r->u.pci.bar_reply =
        (struct msg_pci_bar_reply){.base = b->base, .size = b->size, .kind = b->kind};
    return 0;
}

/* 0 if offset and width name bytes of configuration space a request may: aligned, < 256. */
static int cfg_args_ok(const struct msg_pci_cfg *c)
{
    return (c->width == 1 || c->width == 2 || c->width == 4) && c->offset < PCI_CFG_SIZE &&
           c->offset % c->width == 0;
}

static int64_t handle_cfg_read(struct request *q)
{
    const struct msg_pci_cfg *c = &q->m->u.pci.cfg;
    if (!cfg_args_ok(c))
        return -E_INVAL;
    q->r->u.pci.cfg_reply.value = pci_cfg_read(q->dev->bdf, c->offset, c->width);
    return 0;
}

static int64_t handle_cfg_write(struct request *q)
{
    const struct msg_pci_cfg *c = &q->m->u.pci.cfg;
    if (!cfg_args_ok(c))
        return -E_INVAL;
    if (c->width < 4 && c->value >> (8 * c->width))
        return -E_INVAL; /* more bits than the width holds */
    if (pci_cfg_write_allowed(q->dev, c->offset, c->width, c->value) < 0) {
        service_refuse("pci", q->m, "a configuration field drivers may not write");
        return -E_PERM;
    }
    pci_cfg_write(q->dev->bdf, c->offset, c->width, c->value);
    return 0;
}

/* Each request with its handler and who may send it, checked before the handler runs. */
static const struct {
    int32_t type;
    int64_t (*handle)(struct request *q);
    enum sender who;
} requests[] = {
    {PCI_QUIESCE, handle_quiesce, RS}, /* it would stop a running driver's DMA */
    {PCI_FIND, handle_find, DRIVER},
    {PCI_RESERVE, handle_reserve, DRIVER}, /* and only functions its manifest names */
    {PCI_RELEASE, handle_release, OWNER},
    {PCI_BAR, handle_bar, OWNER},
    {PCI_CFG_READ, handle_cfg_read, OWNER},
    {PCI_CFG_WRITE, handle_cfg_write, OWNER},
};

/* The function a request names (every body but PCI_QUIESCE's and PCI_FIND's starts with it). */
static uint32_t named_bdf(const message_t *m)
{
    _Static_assert(__builtin_offsetof(struct msg_pci_bar, bdf) == 0 &&
                       __builtin_offsetof(struct msg_pci_cfg, bdf) == 0 &&
                       __builtin_offsetof(struct msg_pci_dev, bdf) == 0,
                   "bdf first in every body that names a function");
    return m->u.pci.dev.bdf;
}

static void dispatch(const message_t *in)
{
    message_t m = *in, r = {.u.reply.result = -E_NOSYS};
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        if (requests[i].type != m.type)
            continue;
        struct request q = {&m, &r, -1, 0};
        int ok = requests[i].who == RS && m.source == ROOT_EP;
        if (requests[i].who != RS && (q.driver = pci_driver_of(m.source)) >= 0) {
            q.dev = requests[i].who == OWNER ? pci_dev_at(named_bdf(&m)) : 0;
            ok = requests[i].who == DRIVER || (q.dev && q.dev->owner == m.source);
        }
        if (ok) {
            r.u.reply.result = requests[i].handle(&q);
        } else if (m.type == PCI_FIND) {
            r.u.reply.result = -E_SRCH; /* no manifest entry: no device */
        } else {
            service_refuse("pci", &m, refusal[requests[i].who]);
            r.u.reply.result = -E_PERM;
        }
        break;
    }
    reply(&m, &r);
}

/* A call to rs met rs sending us a request (PCI_QUIESCE): serve it (and a heartbeat) first. */
static void take_rs_request(void)
{
    message_t in;
    for (int n = 0; n < 4 && ipc_receive_nb(ROOT_EP, &in) == 0; n++)
        if (!service_handle(&in)) {
            dispatch(&in);
            return;
        }
}

static int init(void)
{
    printf("pci: %d functions on the bus\n", pci_scan());
    pci_drivers_load();
    return 0;
}

/* A restarted instance scans the bus and reads the manifests again, then takes the reservations
 * of live drivers back from ds (saved.c, docs/PCI.md). */
static int init_restart(uint64_t restarts)
{
    (void)restarts;
    init();
    pci_saved_restore();
    return 0;
}

static const struct service_callbacks callbacks = {.init_fresh = init,
                                                   .init_restart = init_restart};

int main(void)
{
    root_on_deadlock(take_rs_request); /* pci_driver_of asks rs while rs may quiesce */
    service_startup("pci", &callbacks);
    pci_list_serve(dispatch);
}
