/*
 * badbar: a malicious PCI driver for the malicious-driver suite
 * (tools/suite_baddrv.py, docs/TRACE.md). Its manifest names QEMU's edu
 * (1234:11e8), of which the suite's QEMU has two; it reserves the first,
 * whose one memory BAR (1 MiB) the pci server adds to its privileges.
 *
 * The first instance behaves: it maps its BAR and reads the device's
 * identification register. Every later instance (restart count > 0) does
 * the same, also reserves the second edu for a moment (its BAR mapped and
 * read, then released: no longer its own), and then tries, once each,
 * printing "badbar: ATTEMPT: RESULT" for the host:
 *   - mapping MMIO past its BAR: the page after it, the page before it, its
 *     BAR and one page more, its last page and the next;
 *   - mapping the other edu's BAR (one page, the whole), once released;
 *   - writing through its old mapping of the other edu's BAR (the kernel
 *     copies into it: unmapped at the release, E_FAULT);
 *   - a mapping whose length wraps around the address space (E_INVAL);
 *   - moving its BAR onto the other edu's with a configuration write (the
 *     pci server's refusal);
 *   - an MSI of its device aimed at the CPU with vector 13 (#GP's): the
 *     pci server allows it; the kernel's local APIC is off, so no vector
 *     arrives (it did, and the kernel panicked, before the APIC was off);
 * then checks that its own BAR still reads right, and floods mappings of the
 * page past its BAR until rs stops it for crossing its denial_limit. Each
 * kernel refusal is counted (KC_PROC_INFO's denied) and traced.
 */
#include <samsara/priv.h>
#include "pci/pci.h"
#include "sys.h"

#define OWN_VA 0x20000000ull   /* its BAR */
#define OTHER_VA 0x30000000ull /* the other edu's, while reserved */
#define TRY_VA 0x40000000ull   /* where each refused mapping would go */
#define EDU_ID 0x010000edu     /* edu's register 0: its identification */
#define PAGE 4096ull
#define MSI_VECTOR                                                                                 \
    13 /* #GP's: the CPU would take it for an exception, its frame one word short                  \
        */

static const char *result(int64_t r)
{
    return r == -E_PERM    ? "refused (E_PERM)"
           : r == -E_FAULT ? "refused (E_FAULT)"
           : r == -E_INVAL ? "refused (E_INVAL)"
           : r < 0         ? "error"
                           : "ALLOWED";
}

static void attempt(const char *what, int64_t r)
{
    printf("badbar: %s: %s\n", what, result(r));
}

static uint32_t ident(uint64_t va)
{
    return *(volatile uint32_t *)va;
}

/* The second edu: reserved, its BAR read, mapped and read, released. 0 or an error. */
static int borrow_other(struct pci_bar_info *b)
{
    struct pci_dev d;
    int r = pci_find(1, &d);
    if (r == 0)
        r = pci_reserve(d.bdf);
    if (r < 0)
        return r;
    r = pci_bar(d.bdf, 0, &b->base, &b->size, &b->kind);
    if (r == 0)
        r = sys_mapphys(b->base, b->size, OTHER_VA);
    if (r == 0)
        printf("badbar: the other edu at 0x%lx+0x%lx reads 0x%x while reserved\n", b->base, b->size,
               ident(OTHER_VA));
    int released = pci_release(d.bdf);
    return r < 0 ? r : released;
}

/*
 * Its device's MSI aimed at the CPU with a vector of its choosing: the pci
 * server lets a driver write its device's MSI capability (address, data,
 * enable) and turn bus mastering on; edu's register 0x60 raises the
 * interrupt. The kernel keeps the local APIC off, so nothing arrives.
 */
static void raise_msi(uint32_t bdf)
{
    int64_t cap = pci_cfg_read(bdf, PCI_CFG_CAP_PTR, 1);
    for (int n = 0; n < 48 && cap >= 0x40 && pci_cfg_read(bdf, (uint32_t)cap, 1) != 0x05; n++)
        cap = pci_cfg_read(bdf, (uint32_t)cap + 1, 1) & 0xfc;
    int64_t ctl = cap >= 0x40 ? pci_cfg_read(bdf, (uint32_t)cap + 2, 2) : -E_NODEV;
    uint32_t data = (uint32_t)cap + (ctl >= 0 && (ctl & 0x80) ? 12 : 8); /* 64-bit capable? */
    int64_t r = ctl < 0 ? ctl : pci_cfg_write(bdf, (uint32_t)cap + 4, 4, 0xfee00000u);
    if (r == 0)
        r = pci_cfg_write(bdf, data, 2, MSI_VECTOR);
    if (r == 0)
        r = pci_set_master(bdf, PCI_CMD_MEM, 1);
    if (r == 0)
        r = pci_cfg_write(bdf, (uint32_t)cap + 2, 2, (uint32_t)ctl | 1);
    if (r < 0) {
        printf("badbar: MSI not programmed: %s\n", strerror_s(r));
        return;
    }
    *(volatile uint32_t *)(OWN_VA + 0x60) = 1;
    for (uint64_t until = sys_uptime() + 50; sys_uptime() < until;)
        ; /* the MSI is a DMA write: QEMU makes it at once */
    printf("badbar: an MSI at vector %d raised; still running\n", MSI_VECTOR);
}

/* The hostile part: one of each attempt, then the flood. */
static void misbehave(uint32_t bdf, const struct pci_bar_info *own)
{
    struct pci_bar_info other;
    int r = borrow_other(&other);
    if (r < 0) {
        printf("badbar: no second edu: %s\n", strerror_s(r));
        return;
    }
    uint64_t end = own->base + own->size;
    attempt("map the page past its BAR", sys_mapphys(end, PAGE, TRY_VA));
    attempt("map the page before its BAR", sys_mapphys(own->base - PAGE, PAGE, TRY_VA));
    attempt("map its BAR and one page more", sys_mapphys(own->base, own->size + PAGE, TRY_VA));
    attempt("map its last page and the next", sys_mapphys(end - PAGE, 2 * PAGE, TRY_VA));
    attempt("map a page of the other edu's BAR", sys_mapphys(other.base, PAGE, TRY_VA));
    attempt("map the other edu's whole BAR", sys_mapphys(other.base, other.size, TRY_VA));
    struct proc_info info;
    attempt("write through the old mapping of the other edu's BAR",
            sys_proc_info(SELF, (struct proc_info *)OTHER_VA));
    attempt("map a length that wraps", sys_mapphys(own->base, 0 - own->base, TRY_VA));
    attempt("move its BAR onto the other edu's", pci_cfg_write(bdf, 0x10, 4, (uint32_t)other.base));
    raise_msi(bdf);
    uint32_t id = ident(OWN_VA);
    printf("badbar: its own BAR reads 0x%x %s\n", id, id == EDU_ID ? "still" : "NO LONGER");
    if (sys_proc_info(SELF, &info) == 0)
        printf("badbar: %lu denials counted; flooding the page past its BAR\n", info.denied);
    for (uint64_t i = 0; i < 100000; i++) /* rs stops us at the denial limit */
        sys_mapphys(end, PAGE, TRY_VA);
    printf("badbar: the flood was not stopped\n");
}

int main(uint64_t arg)
{
    (void)arg;
    uint64_t restarts = service_startup("badbar", 0);
    struct pci_dev d;
    struct pci_bar_info own;
    int r = pci_take_first(&d, 0, PCI_BAR_MEM, PAGE, &own);
    if (r == 0)
        r = (own.base | own.size) & (PAGE - 1) ? -E_INVAL : sys_mapphys(own.base, own.size, OWN_VA);
    if (r == 0)
        r = pci_set_master(d.bdf, PCI_CMD_MEM, 0);
    if (r < 0) {
        printf("badbar: no device: %s\n", strerror_s(r));
        return 1;
    }
    printf("badbar: instance %lu: BAR 0x%lx+0x%lx reads 0x%x\n", restarts, own.base, own.size,
           ident(OWN_VA));
    if (restarts > 0)
        misbehave(d.bdf, &own);
    for (;;) {
        message_t m;
        service_receive(&m);
    }
}
