/*
 * Reservations: a function becomes one driver's, with exactly its BARs'
 * ranges and its IRQ line added to that driver's privileges (KC_PRIV_DEVICE),
 * and taken away again at release. At the first reservation each BAR is
 * sized (all ones written, read back, the original restored, with I/O and
 * memory decoding off around it, so the device never decodes the probe).
 * A memory range is granted page-rounded (the kernel maps pages); an I/O
 * range exactly. Ranges or lines two functions of the same driver share
 * (a page, a shared INTx line) are taken back only when neither is held.
 *
 * Configuration writes a driver may make: the command register's I/O,
 * memory, bus-master and INTx-disable bits (no other bit may change), and
 * the bodies of the capabilities in the function's capability list whose
 * layout is known (power management, MSI as long as its control register
 * says, MSI-X, PCI Express, vendor specific), never any capability's id or
 * next pointer (a body's assumed length never reaches into the next one's
 * header), never the rest of the header (ids, BARs, interrupt line, ...).
 */
#include "sys.h"
#include "pci.h"

#define PAGE 4096ull
#define CMD_DRIVER_BITS                                                                            \
    (PCI_COMMAND_IO | PCI_COMMAND_MEM | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)
#define CONFIG_PORTS 0xcf8        /* 0xcf8-0xcff: the pci server's alone */
#define GRANTS_MAX (PCI_BARS + 2) /* the BARs, the IRQ line, the IOMMU binding */

/* What a reservation added to its owner's privileges: ops PRIV_DEV_*_ADD. */
static struct grant_rec {
    int op;
    uint64_t base, len;
} granted[PCI_DEVS_MAX][GRANTS_MAX];
static int nr_granted[PCI_DEVS_MAX];

static int index_of(const struct pci_dev *d)
{
    return (int)(d - pci_devs);
}

/* Read BAR i's original value, probe it with all ones, put the original back; the read-back. */
static uint32_t probe(uint32_t bdf, int i, uint32_t *orig)
{
    uint32_t off = PCI_BAR0 + 4 * (uint32_t)i;
    *orig = pci_cfg_read32(bdf, off);
    pci_cfg_write32(bdf, off, ~0u);
    uint32_t got = pci_cfg_read32(bdf, off);
    pci_cfg_write32(bdf, off, *orig);
    return got;
}

/*
 * Set BAR i of d from its register (orig; hi_orig: the next register, the
 * upper half of a 64-bit BAR) and its size (0: none); 1 if it is a 64-bit
 * BAR, whose upper half i + 1 then reads as no BAR.
 */
static int bar_set(struct pci_dev *d, int i, uint64_t size, uint32_t orig, uint32_t hi_orig)
{
    int wide = !(orig & 1) && (orig >> 1 & 3) == 2 && i + 1 < d->nr_bars;
    d->bars[i] = (struct pci_bar_info){0};
    if (size && (orig & 1))
        d->bars[i] = (struct pci_bar_info){orig & 0xfffc, size, PCI_BAR_IO};
    else if (size)
        d->bars[i] = (struct pci_bar_info){(uint64_t)(wide ? hi_orig : 0) << 32 | (orig & ~0xfu),
                                           size, PCI_BAR_MEM | (orig & 8 ? PCI_BAR_PREFETCH : 0)};
    if (wide)
        d->bars[i + 1] = (struct pci_bar_info){0}; /* the upper half */
    return wide;
}

static void size_bars(struct pci_dev *d)
{
    uint16_t cmd = pci_cfg_read16(d->bdf, PCI_COMMAND);
    pci_cfg_write16(d->bdf, PCI_COMMAND, (uint16_t)(cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEM)));
    for (int i = 0; i < d->nr_bars; i++) {
        uint32_t orig, hi_orig = 0, got = probe(d->bdf, i, &orig), hi = ~0u;
        uint64_t size = 0;
        if (orig & 1) { /* I/O: a 16-bit port range (the upper bits may read as 0) */
            if (got & ~3u)
                size = (~(got & ~3u) + 1) & 0xffff;
        } else {
            int wide = (orig >> 1 & 3) == 2 && i + 1 < d->nr_bars;
            if (wide)
                hi = probe(d->bdf, i + 1, &hi_orig);
            uint64_t mask = (uint64_t)hi << 32 | (got & ~0xfu);
            if (got & ~0xfu || (wide && hi))
                size = ~mask + 1;
        }
        i += bar_set(d, i, size, orig, hi_orig);
    }
    pci_cfg_write16(d->bdf, PCI_COMMAND, cmd);
    d->sized = 1;
}

/* Does another function held by owner carry the same grant? */
static int shared(const struct pci_dev *d, endpoint_t owner, const struct grant_rec *g)
{
    for (int i = 0; i < pci_nr_devs; i++)
        for (int k = 0; &pci_devs[i] != d && pci_devs[i].owner == owner && k < nr_granted[i]; k++)
            if (granted[i][k].op == g->op && granted[i][k].base == g->base &&
                granted[i][k].len == g->len)
                return 1;
    return 0;
}

/* Take back what d's reservation added (if the owner still lives: take), and forget it. */
void pci_release(struct pci_dev *d, int take)
{
    int n = index_of(d);
    for (int k = nr_granted[n] - 1; k >= 0 && take; k--)
        if (!shared(d, d->owner, &granted[n][k])) {
            int r = sys_priv_device(d->owner, granted[n][k].op + 1, granted[n][k].base,
                                    granted[n][k].len);
            if (r < 0 && r != -E_DEADEP && r != -E_SRCH)
                printf("pci: %02x:%02x.%x: privilege %d 0x%lx+0x%lx not taken back: %s\n",
                       d->bdf >> 8, d->bdf >> 3 & 31, d->bdf & 7, granted[n][k].op,
                       granted[n][k].base, granted[n][k].len, strerror_s(r));
        }
    nr_granted[n] = 0;
    pci_saved_drop(d);
    d->owner = 0;
    d->owner_driver = -1;
}

/* Add one range (or line) to who's privileges (unless it has it: !add) and remember it. */
static int grant(struct pci_dev *d, endpoint_t who, int op, uint64_t base, uint64_t len, int add)
{
    int n = index_of(d);
    int r = add ? sys_priv_device(who, op, base, len) : 0;
    if (r == 0)
        granted[n][nr_granted[n]++] = (struct grant_rec){op, base, len};
    return r;
}

/* d's BARs and IRQ line to who (add: to its privileges; else only remembered); 0 or an error. */
static int grant_all(struct pci_dev *d, endpoint_t who, int add)
{
    int r = 0;
    for (int i = 0; i < d->nr_bars && r == 0; i++) {
        const struct pci_bar_info *b = &d->bars[i];
        if (!b->size || !b->base)
            continue; /* not implemented, or firmware left it unassigned */
        if (b->kind == PCI_BAR_IO) {
            if (b->base + b->size > 0x10000 ||
                (b->base < CONFIG_PORTS + 8 && b->base + b->size > CONFIG_PORTS))
                return -E_PERM; /* never the configuration ports */
            r = grant(d, who, PRIV_DEV_IO_ADD, b->base, b->size, add);
        } else {
            uint64_t start = b->base & ~(PAGE - 1), end = b->base + b->size;
            if (end < b->base || end > UINT64_MAX - PAGE)
                return -E_INVAL;
            r = grant(d, who, PRIV_DEV_MEM_ADD, start, ((end + PAGE - 1) & ~(PAGE - 1)) - start,
                      add);
        }
    }
    if (r == 0 && d->irq > 0 && d->irq < 16 && d->irq != 2)
        r = grant(d, who, PRIV_DEV_IRQ_ADD, d->irq, 1, add);
    if (r == 0) /* with an IOMMU, its DMA reaches its driver's DMA memory only (docs/IOMMU.md) */
        r = grant(d, who, PRIV_DEV_PCI_ADD, d->bdf, 1, add);
    return r;
}

/*
 * Make d driver's (who): E_BUSY if a live driver holds it; a dead holder's
 * reservation ends here if rs has not ended it yet. 0 or an error.
 */
int pci_reserve(endpoint_t who, int driver, struct pci_dev *d)
{
    struct proc_info info;
    if (d->owner == who)
        return 0; /* its already */
    if (d->owner && sys_proc_info(d->owner, &info) == 0)
        return -E_BUSY;
    if (d->owner)
        pci_release(d, 0); /* died: rs quiesced it or is about to */
    if (!d->sized)
        size_bars(d);
    d->owner = who;
    d->owner_driver = driver;
    int r = grant_all(d, who, 1);
    if (r < 0) {
        printf("pci: %02x:%02x.%x for %s: cannot grant its resources (%s)\n", d->bdf >> 8,
               d->bdf >> 3 & 31, d->bdf & 7, pci_drivers[driver].label, strerror_s(r));
        pci_release(d, 1);
        return r;
    }
    pci_saved_put(d); /* kept across a restart of this server */
    return 0;
}

/*
 * A reservation a previous instance of this server made (saved.c): the BARs
 * from their registers and the sizes it found (no new sizing: the owner is
 * using the device), and what it granted, recorded again but not asked of
 * the kernel (the owner holds those privileges still).
 */
void pci_reserve_restore(struct pci_dev *d, endpoint_t owner, int driver,
                         const uint64_t size[PCI_BARS])
{
    for (int i = 0; i < d->nr_bars; i++) {
        uint32_t orig = pci_cfg_read32(d->bdf, PCI_BAR0 + 4 * (uint32_t)i);
        uint32_t hi =
            i + 1 < d->nr_bars ? pci_cfg_read32(d->bdf, PCI_BAR0 + 4 * (uint32_t)i + 4) : 0;
        i += bar_set(d, i, size[i], orig, hi);
    }
    d->sized = 1;
    d->owner = owner;
    d->owner_driver = driver;
    grant_all(d, owner, 0);
}

/* The length of the body of capability id at cap that a driver may write, or 0 (none). */
static uint32_t cap_length(uint32_t bdf, uint8_t id, uint32_t cap)
{
    switch (id) {
    case 0x01: /* power management: PMC, PMCSR */
        return 8;
    case 0x05: { /* MSI: 32- or 64-bit address, with or without per-vector masking */
        uint16_t control = pci_cfg_read16(bdf, cap + 2);
        return (control & 0x80 ? 14 : 10) + (control & 0x100 ? 10 : 0);
    }
    case 0x09: /* vendor specific: its length byte says */
        return pci_cfg_read8(bdf, cap + 2);
    case 0x10: /* PCI Express */
        return 0x3c;
    case 0x11: /* MSI-X */
        return 12;
    default:
        return 0;
    }
}

/* 0 if a driver may write width bytes of value at off (aligned, < 256) of d, else -E_PERM. */
int pci_cfg_write_allowed(const struct pci_dev *d, uint32_t off, uint32_t width, uint32_t value)
{
    if (off >= PCI_COMMAND && off + width <= PCI_COMMAND + 2) {
        uint32_t cmd = pci_cfg_read16(d->bdf, PCI_COMMAND), shift = 8 * (off - PCI_COMMAND);
        uint32_t bytes = (width == 1 ? 0xffu : 0xffffu) << shift;
        uint32_t wanted = (cmd & ~bytes) | ((value << shift) & bytes);
        return (wanted ^ cmd) & ~CMD_DRIVER_BITS ? -E_PERM : 0;
    }
    if (off < 0x40 || !(pci_cfg_read16(d->bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return -E_PERM; /* the rest of the header: ids, BARs, interrupt line, ... */
    uint32_t cap = pci_cfg_read8(d->bdf, PCI_CAP_PTR) & 0xfc;
    int inside = 0;
    for (int n = 0; n < 48 && cap >= 0x40; n++) { /* a looped list ends too */
        uint8_t id = pci_cfg_read8(d->bdf, cap);
        uint32_t first = cap + (id == 0x09 ? 3 : 2), end = cap + cap_length(d->bdf, id, cap);
        if (off < cap + 2 && off + width > cap)
            return -E_PERM; /* any capability's id or next pointer */
        inside |= off >= first && off + width <= (end < PCI_CFG_SIZE ? end : PCI_CFG_SIZE);
        cap = pci_cfg_read8(d->bdf, cap + 1) & 0xfc;
    }
    return inside ? 0 : -E_PERM;
}

/* Bus mastering off and INTx disabled on one function; 0 if the read-back shows both. */
int pci_quiesce(const struct pci_dev *d, const char *label)
{
    uint16_t before = pci_cfg_read16(d->bdf, PCI_COMMAND);
    pci_cfg_write16(d->bdf, PCI_COMMAND,
                    (uint16_t)((before & ~PCI_COMMAND_MASTER) | PCI_COMMAND_INTX_DISABLE));
    uint16_t after = pci_cfg_read16(d->bdf, PCI_COMMAND);
    int ok = !(after & PCI_COMMAND_MASTER) && (after & PCI_COMMAND_INTX_DISABLE);
    if (label)
        printf("pci: %s died: %02x:%02x.%x (%04x:%04x) command 0x%04x -> 0x%04x, bus master and "
               "INTx %s\n",
               label, d->bdf >> 8, d->bdf >> 3 & 31, d->bdf & 7, d->vendor, d->device, before,
               after, ok ? "off" : "NOT OFF");
    return ok ? 0 : -1;
}
