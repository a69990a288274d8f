/*
 * Reservations kept across a restart of the pci server. Each one is a key
 * of the server's own in ds, `pci.res.BBDF` (the function's address in hex),
 * written when the reservation is made and deleted when it ends (release,
 * the owner's death): ds keeps a label's keys across its restarts and lets
 * only the label's running instance write them (docs/DS.md). The value is
 * 16 bytes (DS_INLINE_MAX: it travels in the message, no grant, no blob
 * slot): the owner's endpoint, the function, and each BAR's size as a power
 * of two, since sizing a BAR again would turn the owner's device's decoding
 * off under it; the bases are in the BAR registers, which no driver may
 * write.
 *
 * A new instance (init_restart) reads every function's key back: a live
 * owner's reservation is taken back as it was (the kernel still holds the
 * owner's privileges; what they were is computed again from the same BARs
 * and IRQ line, so a release can take them back); one whose owner died
 * while no pci server ran is quiesced here (rs could not have it done) and
 * dropped. Why ds and not rs: rs knows the drivers but not which functions
 * each reserved; the kernel knows the privileges but has no call that lists
 * them. A failed write to ds is logged: the reservation holds, but would not
 * survive a restart.
 */
#include <samsara/ds.h>
#include "format/format.h"
#include "sys.h"
#include "pci.h"

struct saved {
    endpoint_t owner;
    uint16_t bdf;
    uint8_t size_log2[PCI_BARS]; /* 0: no BAR (a BAR is at least 4 bytes) */
    uint8_t unused[4];
};
_Static_assert(sizeof(struct saved) <= DS_INLINE_MAX, "a reservation travels in the message");

static void key_of(const struct pci_dev *d, char key[DS_KEY_MAX])
{
    snprintf_s(key, DS_KEY_MAX, "pci.res.%04x", d->bdf);
}

static void say(const struct pci_dev *d, const char *what, int err)
{
    printf("pci: %02x:%02x.%x: %s (%s)\n", d->bdf >> 8, d->bdf >> 3 & 31, d->bdf & 7, what,
           strerror_s(err));
}

void pci_saved_put(struct pci_dev *d)
{
    char key[DS_KEY_MAX];
    struct saved s = {.owner = d->owner, .bdf = (uint16_t)d->bdf};
    for (int i = 0; i < d->nr_bars; i++)
        s.size_log2[i] = d->bars[i].size ? (uint8_t)__builtin_ctzll(d->bars[i].size) : 0;
    key_of(d, key);
    int r = ds_publish_blob(key, &s, sizeof(s), DS_OVERWRITE);
    d->saved = r == 0;
    if (r < 0)
        say(d, "reservation not kept in ds: a restart of the pci server would forget it", r);
}

void pci_saved_drop(struct pci_dev *d)
{
    char key[DS_KEY_MAX];
    if (!d->saved)
        return;
    d->saved = 0;
    key_of(d, key);
    int r = ds_delete(key);
    if (r < 0 && r != -E_SRCH)
        say(d, "ended reservation still in ds", r);
}

void pci_saved_restore(void)
{
    int kept = 0, ended = 0;
    for (int i = 0; i < pci_nr_devs; i++) {
        struct pci_dev *d = &pci_devs[i];
        struct saved s;
        struct proc_info info;
        char key[DS_KEY_MAX];
        key_of(d, key);
        int n = ds_retrieve_blob(key, &s, sizeof(s));
        if (n == -E_SRCH)
            continue;
        d->saved = 1; /* dropped below unless taken back */
        if (n != (int)sizeof(s) || s.bdf != d->bdf || s.owner <= 0) {
            say(d, "a malformed reservation in ds: dropped", n < 0 ? n : -E_INVAL);
            pci_saved_drop(d);
            continue;
        }
        if (sys_proc_info(s.owner, &info) < 0) { /* it died while no pci server ran */
            char who[32];
            snprintf_s(who, sizeof(who), "endpoint %d", s.owner);
            pci_quiesce(d, who);
            pci_saved_drop(d);
            ended++;
            continue;
        }
        uint64_t size[PCI_BARS] = {0};
        for (int b = 0; b < PCI_BARS; b++)
            size[b] = s.size_log2[b] && s.size_log2[b] < 64 ? 1ull << s.size_log2[b] : 0;
        pci_reserve_restore(d, s.owner, pci_driver_of(s.owner), size);
        kept++;
    }
    printf("pci: restarted: %d reservation(s) taken back, %d of dead drivers ended\n", kept, ended);
}
