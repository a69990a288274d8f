/*
 * Configuration space through mechanism #1 (PCI Local Bus 3.0, section
 * 3.2.2.3.2): the address of a dword goes to port 0xcf8, the data moves
 * through 0xcfc-0xcff. The scan walks bus 0 and, through each PCI-to-PCI
 * bridge, its secondary bus (at most 8 deep), and keeps every function it
 * finds. On q35 everything sits on bus 0.
 */
#include <samsara/kcall.h>
#include "sys.h"
#include "pci.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

struct pci_dev pci_devs[PCI_DEVS_MAX];
int pci_nr_devs;

static void select_dword(uint32_t bdf, uint32_t off)
{
    sys_ioport(IO_OUT32, PCI_ADDR, 0x80000000u | bdf << 8 | (off & 0xfc));
}

uint32_t pci_cfg_read32(uint32_t bdf, uint32_t off)
{
    select_dword(bdf, off);
    return (uint32_t)sys_ioport(IO_IN32, PCI_DATA, 0);
}

uint16_t pci_cfg_read16(uint32_t bdf, uint32_t off)
{
    return (uint16_t)(pci_cfg_read32(bdf, off) >> (8 * (off & 2)));
}

uint8_t pci_cfg_read8(uint32_t bdf, uint32_t off)
{
    return (uint8_t)(pci_cfg_read32(bdf, off) >> (8 * (off & 3)));
}

uint32_t pci_cfg_read(uint32_t bdf, uint32_t off, uint32_t width)
{
    return width == 1   ? pci_cfg_read8(bdf, off)
           : width == 2 ? pci_cfg_read16(bdf, off)
                        : pci_cfg_read32(bdf, off);
}

/* A write of width 1, 2 or 4 bytes at an offset aligned to it: only those bytes change. */
void pci_cfg_write(uint32_t bdf, uint32_t off, uint32_t width, uint32_t v)
{
    static const int op[] = {[1] = IO_OUT8, [2] = IO_OUT16, [4] = IO_OUT32};
    select_dword(bdf, off);
    sys_ioport(op[width], (uint16_t)(PCI_DATA + (off & 3)), v);
}

void pci_cfg_write16(uint32_t bdf, uint32_t off, uint16_t v)
{
    pci_cfg_write(bdf, off, 2, v);
}

void pci_cfg_write32(uint32_t bdf, uint32_t off, uint32_t v)
{
    pci_cfg_write(bdf, off, 4, v);
}

struct pci_dev *pci_dev_at(uint32_t bdf)
{
    for (int i = 0; i < pci_nr_devs; i++)
        if (pci_devs[i].bdf == bdf)
            return &pci_devs[i];
    return 0;
}

static void scan_bus(uint32_t bus, int depth)
{
    for (uint32_t dev = 0; dev < 32; dev++) {
        for (uint32_t fn = 0; fn < 8; fn++) {
            uint32_t bdf = bus << 8 | dev << 3 | fn;
            uint32_t id = pci_cfg_read32(bdf, PCI_VENDOR_ID);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break; /* no device here */
                continue;
            }
            uint8_t header = pci_cfg_read8(bdf, PCI_HEADER_TYPE);
            if (pci_nr_devs < PCI_DEVS_MAX)
                pci_devs[pci_nr_devs++] =
                    (struct pci_dev){.bdf = bdf,
                                     .vendor = (uint16_t)id,
                                     .device = (uint16_t)(id >> 16),
                                     .class_code = pci_cfg_read32(bdf, PCI_CLASS_REVISION) >> 8,
                                     .header = header & 0x7f,
                                     .irq = pci_cfg_read8(bdf, PCI_INTERRUPT_LINE),
                                     .nr_bars = (header & 0x7f) == 0   ? 6
                                                : (header & 0x7f) == 1 ? 2
                                                                       : 0};
            if ((header & 0x7f) == 1 && depth < 8) /* a bridge: its secondary bus */
                scan_bus(pci_cfg_read8(bdf, PCI_SECONDARY_BUS), depth + 1);
            if (fn == 0 && !(header & 0x80))
                break; /* not multi-function */
        }
    }
}

int pci_scan(void)
{
    pci_nr_devs = 0;
    scan_bus(0, 0);
    return pci_nr_devs;
}
