/*
 * The pci server: it owns configuration space (ports 0xcf8-0xcff), finds
 * the functions on the bus at its start, and quiesces a dead driver's
 * devices when rs asks (PCI_QUIESCE): bus mastering off, so no DMA the
 * dead instance set up lands in memory that is about to be reused, and
 * INTx disabled, so no interrupt of its device holds a shared line. Each
 * command register is read back and logged. The driver's replacement
 * resets its device and turns both on again when it is ready for them.
 *
 * Who may send what: one table (requests[]), checked before any handler
 * runs; a refusal is counted and logged (service_refuse) and answered with
 * E_PERM. Device reservations, BARs and configuration access for drivers
 * come next (issue 9) as more lines in the same table.
 */
#include <samsara/pci.h>
#include <samsara/root.h>
#include "sys.h"
#include "pci.h"

/* Who may send a request; issue 9 adds drivers (by the devices their manifests name). */
enum sender {
    RS, /* only rs (root) */
};
static const char *const refusal[] = {[RS] = "only rs may ask for that"};

/* The reply to m: the PCI_REPLY convention, result first. */
static void reply(const message_t *m, message_t *r)
{
    r->type = PCI_REPLY;
    ipc_sendnb(m->source, r);
}

/* Bus mastering off and INTx disabled on one function; 0 if the read-back shows both. */
static int quiesce_function(const struct pci_dev *d, const char *label)
{
    uint16_t before = pci_cfg_read16(d->bdf, PCI_COMMAND);
    pci_cfg_write16(d->bdf, PCI_COMMAND,
                    (uint16_t)((before & ~PCI_COMMAND_MASTER) | PCI_COMMAND_INTX_DISABLE));
    uint16_t after = pci_cfg_read16(d->bdf, PCI_COMMAND);
    int ok = !(after & PCI_COMMAND_MASTER) && (after & PCI_COMMAND_INTX_DISABLE);
    printf("pci: %s died: %02x:%02x.%x (%04x:%04x) command 0x%04x -> 0x%04x, bus master and "
           "INTx %s\n",
           label, d->bdf >> 8, d->bdf >> 3 & 31, d->bdf & 7, d->vendor, d->device, before, after,
           ok ? "off" : "NOT OFF");
    return ok ? 0 : -1;
}

/* PCI_QUIESCE: every function with one of the dead driver's ids. */
static void handle_quiesce(message_t *m)
{
    struct msg_pci_quiesce q = m->u.pci.quiesce;
    message_t r = {0};
    size_t label_len = 0;
    while (label_len < sizeof(q.label) && q.label[label_len])
        label_len++;
    if (q.nr_ids > PCI_QUIESCE_IDS || label_len == sizeof(q.label)) {
        r.u.pci.quiesce_reply.result = -E_INVAL;
        reply(m, &r);
        return;
    }
    for (int i = 0; i < pci_nr_devs; i++)
        for (int k = 0; k < q.nr_ids; k++)
            if (pci_devs[i].vendor == q.ids[k].vendor && pci_devs[i].device == q.ids[k].device) {
                r.u.pci.quiesce_reply.quiesced++;
                r.u.pci.quiesce_reply.failed += quiesce_function(&pci_devs[i], q.label) < 0;
                break;
            }
    reply(m, &r);
}

/* Each request with its handler and who may send it, checked before the handler runs. */
static const struct {
    int32_t type;
    void (*handle)(message_t *m);
    enum sender who;
} requests[] = {
    {PCI_QUIESCE, handle_quiesce, RS}, /* it would stop a running driver's DMA */
};

static void dispatch(message_t *m)
{
    message_t r = {.u.reply.result = -E_NOSYS};
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        if (requests[i].type != m->type)
            continue;
        if (requests[i].who == RS && m->source == ROOT_EP) {
            requests[i].handle(m);
            return;
        }
        service_refuse("pci", m, refusal[requests[i].who]);
        r.u.reply.result = -E_PERM;
        break;
    }
    if (m->type != MSG_NOTIFY) /* nobody's notifications mean anything here */
        reply(m, &r);
}

static int init(void)
{
    printf("pci: %d functions on the bus\n", pci_scan());
    return 0;
}

/* A restarted instance starts the same way: what it knows, a new scan finds again. */
static const struct service_callbacks callbacks = {.init_fresh = init};

int main(void)
{
    service_startup("pci", &callbacks);
    for (;;) {
        message_t m;
        if (service_receive(&m) == 0)
            dispatch(&m);
    }
}
