/*
 * badkbd: a malicious "keyboard" driver for the malicious-driver suite
 * (tools/suite_baddrv.py, docs/TRACE.md). Its manifest lets it read the
 * i8042's ports 0x60 and 0x64, own IRQ 1 and talk to rs, nothing more.
 *
 * The first instance behaves: it reads the controller's status, enables
 * IRQ 1 and acknowledges its interrupts. Every later instance (restart
 * count > 0) does the same and then tries, once each, what a hostile
 * driver would, printing "badkbd: ATTEMPT: RESULT" for the host:
 *   - sending what it read to the network server (inet) and to the file
 *     servers (vfs, ramfs): no `ipc` right, refused;
 *   - port I/O outside its ranges: COM1, the PCI configuration ports, the
 *     ATA controller;
 *   - MMIO outside its BARs (it has none): the local APIC's page;
 *   - an IRQ that is not its own: enabling IRQ 14, acknowledging IRQ 11;
 *   - kernel calls not in its manifest: proc_kill of vfs, priv_set, dmaalloc;
 * then a flood of requests (notifications to inet, each refused) until rs
 * stops it for crossing its denial_limit. Each refusal is counted
 * (KC_PROC_INFO's denied) and traced (`trace -n N badkbd`).
 */
#include <samsara/priv.h>
#include <samsara/root.h>
#include "sys.h"

static const char *result(int64_t r)
{
    return r == -E_PERM ? "refused (E_PERM)" : r < 0 ? "error" : "ALLOWED";
}

static void attempt(const char *what, int64_t r)
{
    printf("badkbd: %s: %s\n", what, result(r));
}

/* The hostile part: one of each attempt, then the flood. */
static void misbehave(uint8_t status)
{
    message_t m = {.type = 0x4b44}; /* "keyboard data": what it read */
    m.u.w[0] = status;
    endpoint_t inet = root_lookup("inet"), vfs = root_lookup("vfs"), ramfs = root_lookup("ramfs");
    attempt("send the keys to inet", ipc_sendnb(inet, &m));
    attempt("send the keys to vfs", ipc_send(vfs, &m));
    attempt("send the keys to ramfs", ipc_notify(ramfs));
    attempt("out8 COM1 0x3f8", sys_ioport(IO_OUT8, 0x3f8, 'X'));
    attempt("out32 PCI config 0xcf8", sys_ioport(IO_OUT32, 0xcf8, 0x80000000u));
    attempt("in8 ATA 0x1f7", sys_ioport(IO_IN8, 0x1f7, 0));
    attempt("map the local APIC 0xfee00000", sys_mapphys(0xfee00000ull, 4096, 0x20000000));
    attempt("enable IRQ 14", sys_irqctl(IRQ_ENABLE, 14));
    attempt("ack IRQ 11", sys_irqctl(IRQ_ACK, 11));
    attempt("kernel call proc_kill vfs", sys_proc_kill(vfs));
    struct priv all = {.flags = PRIV_ROOT, .kcalls = ~0ull >> (64 - NR_KCALLS)};
    attempt("kernel call priv_set", sys_priv_set(SELF, &all));
    uint64_t pa;
    attempt("kernel call dmaalloc", sys_dmaalloc(4096, 0x21000000, &pa));
    struct proc_info info;
    if (sys_proc_info(SELF, &info) == 0)
        printf("badkbd: %lu denials counted; flooding inet\n", info.denied);
    for (uint64_t i = 0; i < 100000; i++) /* rs stops us at the denial limit */
        ipc_notify(inet);
    printf("badkbd: the flood was not stopped\n");
}

int main(uint64_t arg)
{
    (void)arg;
    uint64_t restarts = service_startup("badkbd", 0);
    int64_t status =
        sys_ioport(IO_IN8, 0x64, 0); /* the controller's status: reading it is harmless */
    int64_t irq = sys_irqctl(IRQ_ENABLE, 1);
    printf("badkbd: instance %lu: status 0x%lx, IRQ 1 %s\n", restarts, (uint64_t)status,
           irq == 0 ? "enabled" : "refused");
    if (restarts > 0)
        misbehave((uint8_t)status);
    for (;;) {
        message_t m;
        if (service_receive(&m) == 0 && m.source == HARDWARE)
            sys_irqctl(IRQ_ACK, 1);
    }
}
