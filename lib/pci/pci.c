/*
 * Client stubs of the pci server's driver requests (pci.h; protocol in
 * samsara/pci.h, docs/PCI.md). The server is found by its label through rs
 * and its endpoint kept; a request that finds it dead (a restarted pci
 * server) looks it up again once. Every call is bounded: a pci server that
 * does not answer in PCI_TIMEOUT_MS gives E_TIMEDOUT, never a hung driver.
 */
#include <samsara/root.h>
#include "sys.h"
#include "pci.h"

#define PCI_TIMEOUT_MS 1000

static endpoint_t server;

/* Send m to the pci server and take its reply into m: the reply's result or an error. */
static int64_t call(message_t *m)
{
    message_t copy = *m;
    for (int tries = 0;; tries++) {
        if (server <= 0) {
            endpoint_t ep = root_lookup("pci");
            if (ep < 0)
                return ep;
            server = ep;
        }
        int r = ipc_sendrec_bounded(server, m, PCI_TIMEOUT_MS);
        if (r == -E_DEADEP && tries == 0) {
            server = 0; /* restarted: find the new instance */
            *m = copy;
            continue;
        }
        if (r < 0)
            return r;
        int64_t result = m->u.reply.result;
        if (m->type != PCI_REPLY || result < -4095) /* errors are small */
            return -E_INVAL;
        return result;
    }
}

/* PCI_FIND; *answered: the server answered (a result < 0 is its own, not the IPC's). */
static int find(uint64_t index, struct pci_dev *out, int *answered)
{
    message_t m = {.type = PCI_FIND, .u.pci.find.index = index};
    int64_t r = call(&m);
    *answered = m.type == PCI_REPLY;
    if (r < 0)
        return (int)r;
    const struct msg_pci_find_reply *a = &m.u.pci.find_reply;
    *out = (struct pci_dev){.bdf = a->bdf,
                            .vendor = a->id.vendor,
                            .device = a->id.device,
                            .class_code = a->class_code,
                            .irq = a->irq};
    return 0;
}

int pci_find(uint64_t index, struct pci_dev *out)
{
    int answered;
    return find(index, out, &answered);
}

static int on_dev(int32_t type, uint32_t bdf)
{
    message_t m = {.type = type, .u.pci.dev.bdf = bdf};
    int64_t r = call(&m);
    return r < 0 ? (int)r : 0;
}

int pci_reserve(uint32_t bdf)
{
    return on_dev(PCI_RESERVE, bdf);
}

int pci_release(uint32_t bdf)
{
    return on_dev(PCI_RELEASE, bdf);
}

int pci_bar(uint32_t bdf, int bar, uint64_t *base, uint64_t *size, uint32_t *kind)
{
    if (bar < 0)
        return -E_INVAL;
    message_t m = {.type = PCI_BAR, .u.pci.bar = {.bdf = bdf, .bar = (uint32_t)bar}};
    int64_t r = call(&m);
    if (r < 0)
        return (int)r;
    *base = m.u.pci.bar_reply.base;
    *size = m.u.pci.bar_reply.size;
    *kind = m.u.pci.bar_reply.kind;
    return 0;
}

int64_t pci_cfg_read(uint32_t bdf, uint32_t offset, uint32_t width)
{
    message_t m = {.type = PCI_CFG_READ,
                   .u.pci.cfg = {.bdf = bdf, .offset = offset, .width = width}};
    int64_t r = call(&m);
    return r < 0 ? r : (int64_t)m.u.pci.cfg_reply.value;
}

int pci_cfg_write(uint32_t bdf, uint32_t offset, uint32_t width, uint32_t value)
{
    message_t m = {.type = PCI_CFG_WRITE,
                   .u.pci.cfg = {.bdf = bdf, .offset = offset, .width = width, .value = value}};
    int64_t r = call(&m);
    return r < 0 ? (int)r : 0;
}

int pci_set_master(uint32_t bdf, uint32_t decode, int on)
{
    int64_t cmd = pci_cfg_read(bdf, PCI_CFG_COMMAND, 2);
    if (cmd < 0)
        return (int)cmd;
    cmd |= decode & (PCI_CMD_IO | PCI_CMD_MEM);
    cmd = on ? (cmd | PCI_CMD_MASTER) & ~PCI_CMD_INTX_DISABLE
             : (cmd & ~PCI_CMD_MASTER) | PCI_CMD_INTX_DISABLE;
    return pci_cfg_write(bdf, PCI_CFG_COMMAND, 2, (uint32_t)cmd);
}

int pci_take_first(struct pci_dev *out, int bar, uint32_t kind, uint64_t min_size,
                   struct pci_bar_info *info)
{
    int answered;
    int r = find(0, out, &answered);
    if (r == -E_SRCH && answered)
        return -E_NODEV; /* the pci server knows of none the manifest names */
    if (r < 0 || (r = pci_reserve(out->bdf)) < 0 || !info ||
        (r = pci_bar(out->bdf, bar, &info->base, &info->size, &info->kind)) < 0)
        return r;
    if (!(info->kind & kind) || info->size < min_size ||
        ((kind & PCI_BAR_IO) && info->base > 0x10000 - info->size))
        return -E_INVAL;
    return 0;
}
