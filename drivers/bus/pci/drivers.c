/*
 * Which functions each driver may have: the manifests say it (`pci
 * VVVV:DDDD`, `pci class CC:SS[:PP]`), and nothing else does. At start the
 * pci server borrows the manifests bundle from rs (ROOT_MODULE "manifests",
 * as vfs does for its device map) and keeps, for every label whose manifest
 * names PCI devices, those ids and classes. A label's first manifest counts,
 * as it does for rs. A manifest with errors names nothing (rs does not start
 * its service either).
 *
 * A sender is identified by its label: it is the driver `label` if rs says
 * the running service `label` has its endpoint (ROOT_LOOKUP). Endpoints
 * carry a generation, so a kept answer never matches a later process in the
 * same slot; on a miss every label is asked again (a driver may have been
 * restarted since), which only a new instance's first request costs.
 *
 * The request to rs is refused with E_DEADLK if rs is at that moment sending
 * to this instance (the kernel's cycle check): rs does not (it waits for a
 * pci server's ROOT_READY before it asks it to quiesce anything, quiesce.c),
 * but should it, the request is sent again after a pause, MANIFESTS_TRIES
 * times at most, each retry logged, rather than starting with no driver.
 */
#include <samsara/root.h>
#include "manifest/manifest.h"
#include "sys.h"
#include "pci.h"

#define BUNDLE_MAX (64 * 1024)
#define MANIFESTS_TRIES 20     /* E_DEADLK: rs was sending to us; it waits QUIESCE_MS at most */
#define MANIFESTS_PAUSE_MS 100 /* 20 pauses: 2 s, four times rs's longest wait on pci */

struct pci_driver pci_drivers[PCI_DRIVERS_MAX];
int pci_nr_drivers;

int pci_driver_by_label(const char *label)
{
    for (int i = 0; i < pci_nr_drivers; i++)
        if (!strcmp(pci_drivers[i].label, label))
            return i;
    return -1;
}

static void keep(const struct manifest *m, const char *file)
{
    if ((!m->nr_pci && !m->nr_pci_class) || pci_driver_by_label(m->label) >= 0)
        return;
    if (pci_nr_drivers == PCI_DRIVERS_MAX) {
        printf("pci: %s: more than %d drivers name PCI devices: %s gets none\n", file,
               PCI_DRIVERS_MAX, m->label);
        return;
    }
    struct pci_driver *d = &pci_drivers[pci_nr_drivers++];
    strncpy_s(d->label, m->label, sizeof(d->label));
    d->nr_ids = m->nr_pci;
    for (int k = 0; k < m->nr_pci; k++)
        d->ids[k] = (struct pci_id){m->pci[k].vendor, m->pci[k].device};
    d->nr_classes = m->nr_pci_class;
    for (int k = 0; k < m->nr_pci_class; k++)
        d->classes[k] = m->pci_class[k];
}

/* Sleep ms: the alarm's notification is the only message taken (rs's stays queued). */
static void pause_ms(uint64_t ms)
{
    message_t m;
    sys_alarm(ms);
    while (ipc_receive(SYSTEM, &m) == 0 && !(m.u.notify.bits & NOTIFY_ALARM))
        ;
}

void pci_drivers_load(void)
{
    static char bundle[BUNDLE_MAX];
    static struct manifest man;
    pci_nr_drivers = 0;
    int64_t size = root_module_copy("manifests", bundle, sizeof(bundle));
    for (int tries = 1; size == -E_DEADLK && tries < MANIFESTS_TRIES; tries++) {
        printf("pci: the manifests request met rs sending to us (E_DEADLK): again in %d ms "
               "(try %d of %d)\n",
               MANIFESTS_PAUSE_MS, tries + 1, MANIFESTS_TRIES);
        pause_ms(MANIFESTS_PAUSE_MS);
        size = root_module_copy("manifests", bundle, sizeof(bundle));
    }
    if (size < 0) {
        printf("pci: cannot read the manifests (%s): no driver gets a device\n",
               strerror_s((int)size));
        return;
    }
    const char *cursor = bundle, *end = bundle + size;
    char path[96];
    int r;
    while ((r = manifest_bundle_parse(&cursor, end, path, sizeof(path), &man, 0, 0)) > 0)
        if (r == 1)
            keep(&man, path);
}

int pci_driver_of(endpoint_t who)
{
    if (who <= 0)
        return -1;
    for (int i = 0; i < pci_nr_drivers; i++)
        if (pci_drivers[i].ep == who)
            return i;
    for (int i = 0; i < pci_nr_drivers; i++) {
        endpoint_t ep = root_lookup(pci_drivers[i].label);
        if (ep > 0)
            pci_drivers[i].ep = ep;
        if (ep == who)
            return i;
    }
    return -1;
}

int pci_names(int driver, const struct pci_dev *d)
{
    const struct pci_driver *p = &pci_drivers[driver];
    for (int k = 0; k < p->nr_ids; k++)
        if (p->ids[k].vendor == d->vendor && p->ids[k].device == d->device)
            return 1;
    for (int k = 0; k < p->nr_classes; k++) {
        const struct manifest_pci_class *c = &p->classes[k];
        if (c->base == (d->class_code >> 16 & 0xff) && c->sub == (d->class_code >> 8 & 0xff) &&
            (c->any_prog_if || c->prog_if == (d->class_code & 0xff)))
            return 1;
    }
    return 0;
}
