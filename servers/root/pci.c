/*
 * Bus mastering off for a dead driver's devices, before its replacement
 * runs: a device the dead instance set up may still be doing DMA into
 * memory that is about to be reused. rs finds the devices its manifests name
 * (`pci VVVV:DDDD`) once, walking configuration space (mechanism #1, ports
 * 0xcf8/0xcfc) from bus 0 through the bridges, and at each such service's
 * death clears bit 2 (bus master) of their command registers and reads it
 * back. The new instance then resets its device before using it.
 */
#include <samsara/kcall.h>
#include <samsara/manifest.h>
#include "root.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PCI_COMMAND_MASTER 0x4
#define PCI_DEVS_MAX 64

static struct {
    uint32_t bdf; /* bus << 8 | device << 3 | function */
    uint16_t vendor, device;
} devs[PCI_DEVS_MAX];
static int nr_devs, scanned;

static uint32_t cfg_read(uint32_t bdf, uint32_t off)
{
    sys_ioport(IO_OUT32, PCI_ADDR, 0x80000000u | bdf << 8 | (off & 0xfc));
    return (uint32_t)sys_ioport(IO_IN32, PCI_DATA, 0);
}

static void cfg_write16(uint32_t bdf, uint32_t off, uint16_t v)
{
    sys_ioport(IO_OUT32, PCI_ADDR, 0x80000000u | bdf << 8 | (off & 0xfc));
    sys_ioport(IO_OUT16, (uint16_t)(PCI_DATA + (off & 2)), v);
}

static void scan_bus(uint32_t bus, int depth)
{
    for (uint32_t dev = 0; dev < 32; dev++) {
        for (uint32_t fn = 0; fn < 8; fn++) {
            uint32_t bdf = bus << 8 | dev << 3 | fn;
            uint32_t id = cfg_read(bdf, 0);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break; /* no device here */
                continue;
            }
            if (nr_devs < PCI_DEVS_MAX) {
                devs[nr_devs].bdf = bdf;
                devs[nr_devs].vendor = (uint16_t)id;
                devs[nr_devs++].device = (uint16_t)(id >> 16);
            }
            uint32_t header = cfg_read(bdf, 0x0c) >> 16 & 0xff;
            if ((header & 0x7f) == 1 && depth < 8) /* a bridge: its secondary bus */
                scan_bus(cfg_read(bdf, 0x18) >> 8 & 0xff, depth + 1);
            if (fn == 0 && !(header & 0x80))
                break; /* not multi-function */
        }
    }
}

/* At m's service's death: bus mastering off on each device it names, logged through say. */
void pci_quiesce(const struct manifest *m, void (*say)(const char *text, void *arg), void *arg)
{
    if (!m->nr_pci)
        return;
    if (!scanned) {
        scanned = 1;
        scan_bus(0, 0);
    }
    for (int i = 0; i < nr_devs; i++) {
        for (int k = 0; k < m->nr_pci; k++) {
            if (devs[i].vendor != m->pci[k].vendor || devs[i].device != m->pci[k].device)
                continue;
            uint32_t bdf = devs[i].bdf;
            uint16_t before = (uint16_t)cfg_read(bdf, 4);
            cfg_write16(bdf, 4, before & ~PCI_COMMAND_MASTER);
            uint16_t after = (uint16_t)cfg_read(bdf, 4);
            char text[64];
            snprintf_s(text, sizeof(text),
                       "bus mastering off: %02x:%02x.%x command 0x%04x -> 0x%04x", bdf >> 8,
                       bdf >> 3 & 31, bdf & 7, before, after);
            say(text, arg);
        }
    }
}
