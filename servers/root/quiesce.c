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
 *
 * rs asks only a pci server that said ROOT_READY: a new instance still
 * starting calls rs itself (the manifests bundle, its start-up query held
 * while ds is not ready), and a request from rs then would meet the kernel's
 * cycle check (E_DEADLK: seen once, a new pci server left with no driver's
 * manifest). A driver that dies while the pci server is starting or being
 * restarted is kept in `pending`; once the server says ready, rs asks it to
 * quiesce the functions that driver had reserved (the new instance took its
 * reservations back from ds, saved.c, and ended itself those of drivers
 * already dead then), and frees its DMA memory. Not the functions its
 * manifest names: its new instance may have reserved them meanwhile.
 */
#include <samsara/pci.h>
#include "root.h"

#define QUIESCE_MS 500

_Static_assert(MANIFEST_PCI_MAX <= PCI_QUIESCE_IDS, "a manifest's pci ids fit one request");

#define PENDING_MAX 16 /* dead drivers awaiting a ready pci server; more stay quarantined */

static endpoint_t pending[PENDING_MAX]; /* 0: a free slot */

/* Ask the (ready) pci server to quiesce m's devices (m 0: only those dead had reserved); 0 if
 * it did, with a line for the log in text. */
static int quiesce(endpoint_t pci, const struct manifest *m, endpoint_t dead, char *text,
                   uint64_t len)
{
    message_t req = {.type = PCI_QUIESCE}, r;
    struct msg_pci_quiesce *q = &req.u.pci.quiesce;
    q->driver = dead;
    q->nr_ids = m ? (uint16_t)m->nr_pci : 0;
    for (int k = 0; k < q->nr_ids; k++)
        q->ids[k] = (struct pci_id){m->pci[k].vendor, m->pci[k].device};
    if (m)
        strncpy_s(q->label, m->label, sizeof(q->label));
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

static void release_dma(endpoint_t dead, void (*say)(const char *text, void *arg), void *arg)
{
    char text[96];
    int64_t pages = sys_dma_release(dead);
    if (pages != 0) {
        snprintf_s(text, sizeof(text),
                   pages > 0 ? "DMA memory released (%ld pages)" : "DMA memory not released (%ld)",
                   pages);
        say(text, arg);
    }
}

/* Keep dead for the next ready pci server: 0, or -1 if no slot is free. */
static int defer(endpoint_t dead)
{
    for (int i = 0; i < PENDING_MAX; i++)
        if (!pending[i]) {
            pending[i] = dead;
            return 0;
        }
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
    endpoint_t pci = names_devices ? service_ready_endpoint("pci") : -E_SRCH;
    if (names_devices && pci == 0 && defer(dead) == 0) {
        say("pci server not ready: once it is, its devices are quiesced and its DMA memory freed",
            arg);
        return;
    }
    if (names_devices && quiesce(pci, m, dead, text, sizeof(text)) < 0) {
        say(text, arg);
        say("its DMA memory stays quarantined", arg);
        return;
    }
    if (names_devices)
        say(text, arg);
    release_dma(dead, say, arg);
}

static void say_console(const char *text, void *dead)
{
    printf("rs: dead driver (endpoint %d): %s\n", *(endpoint_t *)dead, text);
}

/* A pci server said ROOT_READY: the drivers that died while none was ready, one by one. */
void dead_drivers_pci_ready(void)
{
    endpoint_t pci = service_ready_endpoint("pci");
    for (int i = 0; i < PENDING_MAX && pci > 0; i++) {
        endpoint_t dead = pending[i];
        if (!dead)
            continue;
        char text[96];
        pending[i] = 0;
        int r = quiesce(pci, 0, dead, text, sizeof(text));
        say_console(text, &dead);
        if (r < 0)
            say_console("its DMA memory stays quarantined", &dead);
        else
            release_dma(dead, say_console, &dead);
    }
}
