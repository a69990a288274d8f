/*
 * A dead driver's devices and DMA memory (docs/REINCARNATION.md). Its DMA
 * frames may be reused only once the devices it drove have stopped
 * writing into them: rs asks the pci server (drivers/bus/pci) to turn bus
 * mastering and INTx off on every device the dead driver's manifest names
 * (`pci VVVV:DDDD`, `pci class CC:SS[:PP]`) or had reserved, and to end its
 * reservations (docs/PCI.md), waiting at most QUIESCE_MS, and then frees the frames
 * the kernel kept quarantined (KC_DMA_RELEASE). A driver that names no
 * device gets its frames freed at once. When the pci server cannot vouch
 * for the devices (not running, no answer in time, or a read-back that
 * shows one still mastering), rs says so and the frames stay quarantined:
 * memory lost is better than memory overwritten.
 */
#include <samsara/pci.h>
#include "root.h"

#define QUIESCE_MS 500

_Static_assert(MANIFEST_PCI_MAX <= PCI_QUIESCE_IDS, "a manifest's pci ids fit one request");

/* Ask the pci server to quiesce m's devices; 0 if it did, with a line for the log in text. */
static int quiesce(const struct manifest *m, endpoint_t dead, char *text, uint64_t len)
{
    endpoint_t pci = service_lookup("pci");
    message_t req = {.type = PCI_QUIESCE}, r;
    struct msg_pci_quiesce *q = &req.u.pci.quiesce;
    q->driver = dead;
    q->nr_ids = (uint16_t)m->nr_pci;
    for (int k = 0; k < m->nr_pci; k++)
        q->ids[k] = (struct pci_id){m->pci[k].vendor, m->pci[k].device};
    strncpy_s(q->label, m->label, sizeof(q->label));
    service_release_startup("pci"); /* its start-up query held (service.c): answered first */
    int err = pci > 0 ? -E_DEADLK : pci;
    for (int tries = 0; pci > 0 && err == -E_DEADLK && tries < 8; tries++) {
        r = req;
        err = ipc_sendrec_bounded(pci, &r, QUIESCE_MS);
        message_t in; /* a new pci server waits for rs's answer (ROOT_READY): give it first */
        if (err == -E_DEADLK && ipc_receive(pci, &in) == 0)
            root_dispatch(&in);
    }
    const struct msg_pci_quiesce_reply *a = &r.u.pci.quiesce_reply;
    if (!err && r.type == PCI_REPLY && a->result == 0 && a->failed == 0) {
        snprintf_s(text, len, "pci quiesced %u device(s)", a->quiesced);
        return 0;
    }
    if (err)
        snprintf_s(text, len, "pci server unreachable (%s): its devices may still do DMA",
                   strerror_s(err));
    else
        snprintf_s(text, len, "pci server: %ld, %u of %u device(s) still on", a->result, a->failed,
                   a->quiesced);
    return -1;
}

/*
 * After the death of dead (started with manifest m, or 0): quiesce its
 * devices, then free its DMA memory; what happened goes to say.
 */
void dead_driver_devices(const struct manifest *m, endpoint_t dead,
                         void (*say)(const char *text, void *arg), void *arg)
{
    char text[96];
    int names_devices = m && (m->nr_pci || m->nr_pci_class);
    if (names_devices && quiesce(m, dead, text, sizeof(text)) < 0) {
        say(text, arg);
        say("its DMA memory stays quarantined", arg);
        return;
    }
    if (names_devices)
        say(text, arg);
    int64_t pages = sys_dma_release(dead);
    if (pages != 0) {
        snprintf_s(text, sizeof(text),
                   pages > 0 ? "DMA memory released (%ld pages)" : "DMA memory not released (%ld)",
                   pages);
        say(text, arg);
    }
}
