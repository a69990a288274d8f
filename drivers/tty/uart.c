/*
 * The 16550A UART on COM1 (ports 0x3f8-0x3ff, IRQ 4), interrupt driven.
 *
 * Registers (offset from 0x3f8; DLAB = LCR bit 7):
 *   0 RBR (read) / THR (write) / DLL (DLAB)   receive / transmit / divisor low
 *   1 IER / DLM (DLAB)  interrupt enable: 1 received data, 2 THR empty,
 *                       4 line status, 8 modem status
 *   2 IIR (read) / FCR (write)  IIR bit 0 = no interrupt pending, bits 1-3 =
 *                       cause: 6 line status, 4 data, 12 data timeout, 2 THR
 *                       empty, 0 modem status; FCR 1 FIFO on, 2/4 clear RX/TX
 *   3 LCR   line control: 3 = 8 data bits, no parity, 1 stop bit
 *   4 MCR   modem control: 1 DTR, 2 RTS, 8 OUT2 (gates the IRQ on PCs)
 *   5 LSR   line status: 1 data ready, 0x10 break, 0x20 THR empty, 0x40 idle
 *   6 MSR, 7 SCR (scratch)
 * Divisor 1 = 115200 baud. The FIFO holds 16 bytes each way; the receive
 * trigger is 1 byte.
 *
 * QEMU: `-serial stdio` (or -nographic) puts COM1 on QEMU's stdio; the
 * kernel's own log (kernel/console.c) writes the same port by polling, which
 * coexists with this driver. The IRQ line is edge-triggered at the 8259 and
 * the kernel masks it until IRQ_ACK, so the service routine reads IIR until
 * no cause is left, leaving the line low for the next edge.
 */
#include "tty.h"

#define COM1 0x3f8
#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RX 0x01
#define IER_TX 0x02
#define IER_LS 0x04
#define LSR_DR 0x01
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define IIR_NONE 0x01
#define FIFO_SIZE 16

static uint8_t ier;

static uint8_t uart_in(int reg)
{
    return (uint8_t)sys_ioport(IO_IN8, (uint16_t)(COM1 + reg), 0);
}
static void uart_out(int reg, uint8_t v)
{
    sys_ioport(IO_OUT8, (uint16_t)(COM1 + reg), v);
}

int tty_uart_init(void)
{
    uart_out(SCR, 0x5a);
    if (uart_in(SCR) != 0x5a)
        return -1;
    uart_out(IER, 0);
    uart_out(LCR, 0x80); /* DLAB: the divisor */
    uart_out(DLL, 1);    /* 115200 baud */
    uart_out(DLM, 0);
    uart_out(LCR, 0x03); /* 8N1 */
    uart_out(FCR, 0x07); /* FIFO on, both cleared, receive trigger 1 byte */
    uart_out(MCR, 0x0b); /* DTR, RTS, OUT2 */
    for (int i = 0; i < 64 && (uart_in(LSR) & LSR_DR); i++)
        uart_in(RBR);
    uart_in(IIR);
    uart_in(MSR);
    ier = IER_RX | IER_LS;
    uart_out(IER, ier);
    return sys_irqctl(IRQ_ENABLE, TTY_IRQ) < 0 ? -2 : 0;
}

/* Feed every received byte to the line discipline. */
static unsigned rx_drain(void)
{
    unsigned n = 0;
    for (int i = 0; i < 256; i++) {
        uint8_t lsr = uart_in(LSR);
        if (!(lsr & LSR_DR))
            break;
        uint8_t c = uart_in(RBR);
        if (lsr & LSR_BI)
            continue; /* a break: no byte */
        tty_input(c);
        n++;
    }
    return n;
}

unsigned tty_uart_poll(void)
{
    unsigned n = rx_drain();
    if (n)
        tty_uart_kick(); /* the echo */
    return n;
}

void tty_uart_kick(void)
{
    /* fill the FIFO while it is empty (on QEMU it empties at once) */
    for (int round = 0; round < 16 && tty.out_count && !tty.stopped; round++) {
        if (!(uart_in(LSR) & LSR_THRE))
            break;
        for (int i = 0; i < FIFO_SIZE && tty.out_count; i++) {
            uart_out(THR, tty.out[tty.out_head]);
            tty.out_head = (tty.out_head + 1) % TTY_OUT_SIZE;
            tty.out_count--;
        }
    }
    /* the THR-empty interrupt only while output waits */
    uint8_t want = tty.out_count && !tty.stopped ? ier | IER_TX : ier & ~IER_TX;
    if (want != ier) {
        ier = want;
        uart_out(IER, ier);
    }
}

unsigned tty_uart_service(void)
{
    unsigned n = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t iir = uart_in(IIR);
        if (iir & IIR_NONE)
            break;
        switch (iir & 0x0e) {
        case 0x06: /* line status: reading LSR clears it */
            uart_in(LSR);
            break;
        case 0x04: /* received data */
        case 0x0c: /* receive timeout */
            n += rx_drain();
            break;
        case 0x02: /* THR empty: reading IIR cleared it */
            tty_uart_kick();
            break;
        default: /* modem status */
            uart_in(MSR);
        }
    }
    n += rx_drain();
    tty_uart_kick();
    return n;
}
