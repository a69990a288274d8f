/*
 * /dev/pci: what the pci server knows, as text, one line per function:
 *
 *   00:02.0 class 02:00:00 8086:100e irq 11 owner e1000 bar0 mem 0xfeb80000+0x20000 bar1 io
 * 0xc000+0x40
 *
 * (the owner is "-" for a free function; a BAR's size is shown once a
 * reservation has sized it, before that only its base). The pci server
 * serves it as a character device (`dev char 242` in its manifest; vfs makes
 * the node /dev/pci from `node pci 242,0 0444`); /bin/lspci prints it. The
 * text is taken at each open and read from there on; a read at its end gives
 * 0. Readers share one position (a diagnostic device: lspci opens, reads to
 * the end, closes).
 */
#include "chardriver/chardriver.h"
#include "format/format.h"
#include "pci.h"

#define LIST_MAX (PCI_DEVS_MAX * 160)

static char text[LIST_MAX];
static int text_len, text_pos;

struct sink {
    char *buf;
    int size, *at;
};

static void sink_put(void *ctx, char c)
{
    struct sink *s = ctx;
    if (*s->at < s->size - 1)
        s->buf[(*s->at)++] = c;
}

/* Append to buf at *at (never past size - 1; the text stays terminated). */
static void put(char *buf, int size, int *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, int size, int *at, const char *fmt, ...)
{
    struct sink s = {buf, size, at};
    va_list ap;
    va_start(ap, fmt);
    format(sink_put, &s, fmt, ap);
    va_end(ap);
    buf[*at] = '\0';
}

/* A BAR's kind and base as the register holds them (i: not the upper half of a 64-bit one). */
static void bar_unsized(const struct pci_dev *d, int i, char *buf, int size, int *at)
{
    uint32_t v = pci_cfg_read32(d->bdf, PCI_BAR0 + 4 * (uint32_t)i);
    if (v & 1) {
        if (v & ~3u)
            put(buf, size, at, " bar%d io 0x%x", i, v & ~3u);
        return;
    }
    uint64_t base = v & ~0xfu;
    if ((v >> 1 & 3) == 2 && i + 1 < d->nr_bars)
        base |= (uint64_t)pci_cfg_read32(d->bdf, PCI_BAR0 + 4 * (uint32_t)i + 4) << 32;
    if (base)
        put(buf, size, at, " bar%d mem 0x%lx", i, base);
}

int pci_list(char *buf, int size)
{
    int at = 0;
    buf[0] = '\0';
    for (int n = 0; n < pci_nr_devs; n++) {
        const struct pci_dev *d = &pci_devs[n];
        put(buf, size, &at, "%02x:%02x.%x class %02x:%02x:%02x %04x:%04x irq ", d->bdf >> 8,
            d->bdf >> 3 & 31, d->bdf & 7, d->class_code >> 16, d->class_code >> 8 & 0xff,
            d->class_code & 0xff, d->vendor, d->device);
        put(buf, size, &at, d->irq && d->irq < 16 ? "%d" : "-", d->irq);
        put(buf, size, &at, " owner %s",
            !d->owner             ? "-"
            : d->owner_driver < 0 ? "?"
                                  : pci_drivers[d->owner_driver].label);
        for (int i = 0; i < d->nr_bars; i++) {
            const struct pci_bar_info *b = &d->bars[i];
            int wide = 0;
            if (!d->sized) {
                uint32_t v = pci_cfg_read32(d->bdf, PCI_BAR0 + 4 * (uint32_t)i);
                wide = !(v & 1) && (v >> 1 & 3) == 2;
                bar_unsized(d, i, buf, size, &at);
            } else if (b->size) {
                put(buf, size, &at, " bar%d %s 0x%lx+0x%lx", i,
                    b->kind == PCI_BAR_IO ? "io" : "mem", b->base, b->size);
            }
            i += wide;
        }
        put(buf, size, &at, "\n");
    }
    return at;
}

static int list_open(int minor, uint32_t flags, endpoint_t who)
{
    (void)minor, (void)flags, (void)who;
    text_len = pci_list(text, sizeof(text));
    text_pos = 0;
    return 0;
}

static int64_t list_read(const struct chardriver_req *r)
{
    uint64_t n = (uint64_t)(text_len - text_pos);
    if (n > r->size)
        n = r->size;
    if (chardriver_copy_to(r, 0, text + text_pos, n) < 0)
        return -LX_EFAULT;
    text_pos += (int)n;
    return (int64_t)n;
}

static int64_t list_write(const struct chardriver_req *r)
{
    (void)r;
    return -LX_EPERM;
}

_Noreturn void pci_list_serve(void (*serve)(const message_t *m))
{
    static struct chardriver drv = {
        .name = "pci", .minors = 1, .open = list_open, .read = list_read, .write = list_write};
    drv.serve = serve;
    chardriver_task(&drv);
}
