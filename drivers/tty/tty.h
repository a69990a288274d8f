/*
 * The serial console driver's shared state and its parts: tty.c (main and
 * the chardriver callbacks), ioctl.c (terminal ioctls), line.c (the line
 * discipline: input editing, echo, output processing) and uart.c (the
 * 16550 on COM1). One minor, 0: the console.
 */
#ifndef TTY_H
#define TTY_H

#include "chardriver/chardriver.h"
#include "termios.h"

#define TTY_IRQ 4
#define TTY_IN_SIZE 1024  /* input ring, elements */
#define TTY_LINE_MAX 255  /* canonical line, bytes before its end */
#define TTY_OUT_SIZE 2048 /* output ring, bytes */
#define TTY_HZ 1000       /* kernel clock ticks a second (kernel/kernel.h) */
#define TTY_QUEUE 8       /* suspended reads (and writes) served in turn */

/* Input elements are a byte and these flags. */
#define TTY_EOL 0x100 /* ends a line (newline, EOL, or ^D) */
#define TTY_EOF 0x200 /* a ^D: ends a line but is not data */

struct tty {
    struct tty_termios tio;
    struct tty_winsize ws;
    int32_t pgrp; /* foreground process group, 0: none */

    uint16_t in[TTY_IN_SIZE]; /* ring: readable elements, then the edited line */
    unsigned in_head, in_count;
    unsigned edit_len; /* canonical: elements of the line being edited */
    unsigned lines;    /* TTY_EOL elements among the readable ones */
    unsigned line_col; /* output column where the edited line began */
    int lnext;         /* the next byte is taken literally (^V) */

    uint8_t out[TTY_OUT_SIZE];
    unsigned out_head, out_count;
    unsigned col; /* output column (erasing a tab needs it) */
    int stopped;  /* output stopped by ^S (IXON) or TCXONC */

    /* suspended requests, oldest first: only the first read and write move */
    struct chardriver_req rdq[TTY_QUEUE], wrq[TTY_QUEUE];
    unsigned nrd, nwr;
    uint64_t wr_done;     /* bytes of wrq[0] queued so far */
    uint64_t rd_deadline; /* VTIME: finish rdq[0] at this tick (0: none) */

    int drain_active; /* one ioctl waits for the output to drain */
    struct chardriver_req drain_req;
    struct tty_termios drain_tio; /* TCSETSW/TCSETSF: set after the drain */
    int drain_op;
};

extern struct tty tty;

/* line.c */
void tty_line_init(void);
void tty_input(uint8_t c);
void tty_flush_input(void);
void tty_flush_output(void);
void tty_set_termios(const struct tty_termios *t);
unsigned tty_readable(void); /* bytes a read could return now */
int tty_can_read(void);      /* a read would not block (ignoring VMIN/VTIME) */
unsigned tty_peek(uint8_t *buf, unsigned len, unsigned *elems);
void tty_consume(unsigned elems);
int tty_output(uint8_t c); /* with output processing; 0: no room */
static inline unsigned tty_out_free(void)
{
    return TTY_OUT_SIZE - tty.out_count;
}

/* uart.c */
int tty_uart_init(void);
unsigned tty_uart_service(void); /* on IRQ: the bytes received */
unsigned tty_uart_poll(void);    /* take received bytes without an IRQ */
void tty_uart_kick(void);        /* move output to the UART */

/* tty.c */
void tty_events(void); /* progress suspended requests, post select readiness */

/* ioctl.c */
int64_t tty_ioctl(const struct chardriver_req *r);
int64_t tty_drain_cancel(endpoint_t source, uint64_t id);
void tty_drain_progress(void);

#endif
