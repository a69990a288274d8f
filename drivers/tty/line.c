/*
 * The tty line discipline (POSIX/Linux termios semantics, Linux's defaults).
 *
 * Input: each received byte goes through ISTRIP, IGNCR/ICRNL/INLCR, IXON
 * (^S/^Q), ISIG (^C, ^\, ^Z: flush, echo, signal the foreground group) and
 * then, in canonical mode, line editing (erase = VERASE or ^H, ^W with
 * IEXTEN, kill = VKILL, ^V literal next, ^D = EOF or push the line); in raw
 * mode it is stored as is. Echo honours ECHO, ECHOE, ECHOK, ECHOKE, ECHONL
 * and ECHOCTL (control bytes as ^X).
 *
 * The input ring holds 16-bit elements: a byte plus TTY_EOL (ends a line)
 * and TTY_EOF (a ^D, which ends a line but is not data). Its first
 * in_count - edit_len elements can be read; the last edit_len are the line
 * being edited. A canonical read returns at most one line.
 *
 * Output: OPOST with ONLCR (NL -> CR NL), OCRNL, ONOCR, ONLRET into the
 * output ring, which uart.c drains.
 */
#include "tty.h"

struct tty tty;

#define LFLAG(f) (tty.tio.c_lflag & (f))
#define IFLAG(f) (tty.tio.c_iflag & (f))
#define OFLAG(f) (tty.tio.c_oflag & (f))

void tty_line_init(void)
{
    static const uint8_t cc[TTY_NCCS] = {
        [VINTR] = 3,       [VQUIT] = 0x1c,    [VERASE] = 0x7f,  [VKILL] = 0x15,  [VEOF] = 4,
        [VTIME] = 0,       [VMIN] = 1,        [VSTART] = 0x11,  [VSTOP] = 0x13,  [VSUSP] = 0x1a,
        [VREPRINT] = 0x12, [VDISCARD] = 0x0f, [VWERASE] = 0x17, [VLNEXT] = 0x16,
    };
    tty.tio.c_iflag = ICRNL | IXON;
    tty.tio.c_oflag = OPOST | ONLCR;
    tty.tio.c_cflag = B38400 | CS8 | CREAD | HUPCL;
    tty.tio.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    memcpy(tty.tio.c_cc, cc, sizeof(cc));
    tty.ws.ws_row = 24;
    tty.ws.ws_col = 80;
}

static int is_cc(uint8_t c, int index)
{
    return tty.tio.c_cc[index] && c == tty.tio.c_cc[index];
}
static int is_ctrl(uint8_t c)
{
    return c < 0x20 || c == 0x7f;
}
static int is_cont(uint8_t c)
{
    return IFLAG(IUTF8) && (c & 0xc0) == 0x80;
}

/* ---- output ---- */

static void out_put(uint8_t c)
{
    tty.out[(tty.out_head + tty.out_count) % TTY_OUT_SIZE] = c;
    tty.out_count++;
    if (c == '\r')
        tty.col = 0;
    else if (c == '\t')
        tty.col = (tty.col | 7) + 1;
    else if (c == '\b')
        tty.col -= tty.col > 0;
    else if (!is_ctrl(c) && !is_cont(c))
        tty.col++;
}

int tty_output(uint8_t c)
{
    if (!tty_out_free())
        return 0;
    if (OFLAG(OPOST)) {
        if (c == '\n' && OFLAG(ONLCR)) {
            if (tty_out_free() < 2)
                return 0;
            out_put('\r');
        } else if (c == '\r' && OFLAG(ONOCR) && tty.col == 0) {
            return 1;
        } else if (c == '\r' && OFLAG(OCRNL)) {
            c = '\n';
        }
        if (c == '\n' && OFLAG(ONLRET))
            tty.col = 0;
    }
    out_put(c);
    return 1;
}

void tty_flush_output(void)
{
    tty.out_head = tty.out_count = 0;
}

static void echo(uint8_t c)
{
    if (LFLAG(ECHOCTL) && is_ctrl(c) && c != '\t' && c != '\n') {
        if (tty_out_free() >= 2) {
            tty_output('^');
            tty_output(c ^ 0x40);
        }
    } else {
        tty_output(c);
    }
}

/* The column after echoing c at column col. */
static unsigned echo_col(unsigned col, uint8_t c)
{
    if (c == '\t')
        return (col | 7) + 1;
    if (is_ctrl(c))
        return col + (LFLAG(ECHOCTL) && c != '\n' ? 2 : 0);
    return col + !is_cont(c);
}

/* ---- the input ring ---- */

static uint16_t *at(unsigned i)
{
    return &tty.in[(tty.in_head + i) % TTY_IN_SIZE];
}

static int append(uint16_t e)
{
    if (tty.in_count == TTY_IN_SIZE)
        return 0;
    *at(tty.in_count++) = e;
    if (LFLAG(ICANON) && !(e & TTY_EOL)) {
        if (!tty.edit_len)
            tty.line_col = tty.col;
        tty.edit_len++;
    }
    return 1;
}

/* Finish the edited line with element e (newline, EOL or ^D). */
static void end_line(uint16_t e)
{
    if (!append(e | TTY_EOL))
        return;
    tty.edit_len = 0;
    tty.lines++;
}

void tty_flush_input(void)
{
    tty.in_head = tty.in_count = tty.edit_len = tty.lines = 0;
    tty.lnext = 0;
}

unsigned tty_readable(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < tty.in_count - tty.edit_len; i++)
        n += !(*at(i) & TTY_EOF);
    return n;
}

int tty_can_read(void)
{
    return LFLAG(ICANON) ? tty.lines > 0 : tty_readable() > 0;
}

/*
 * Copy what a read of len bytes returns now into buf: in canonical mode up
 * to the end of the first line (a ^D is not copied, and goes with the
 * line's data if all of it fits), in raw mode any readable bytes. *elems =
 * the elements tty_consume must take afterwards.
 */
unsigned tty_peek(uint8_t *buf, unsigned len, unsigned *elems)
{
    unsigned n = 0, i = 0, readable = tty.in_count - tty.edit_len;
    int canon = LFLAG(ICANON) != 0;
    while (i < readable) {
        uint16_t e = *at(i);
        if (e & TTY_EOF) {
            i++;
            if (canon)
                break;
            continue;
        }
        if (n == len)
            break;
        buf[n++] = (uint8_t)e;
        i++;
        if (canon && (e & TTY_EOL))
            break;
    }
    *elems = i;
    return n;
}

void tty_consume(unsigned elems)
{
    for (unsigned i = 0; i < elems; i++)
        if (*at(i) & TTY_EOL)
            tty.lines--;
    tty.in_head = (tty.in_head + elems) % TTY_IN_SIZE;
    tty.in_count -= elems;
}

void tty_set_termios(const struct tty_termios *t)
{
    int was_canon = LFLAG(ICANON) != 0;
    tty.tio = *t;
    if (was_canon && !LFLAG(ICANON)) {
        tty.edit_len = 0; /* the partial line becomes readable */
        tty.lnext = 0;
    } else if (!was_canon && LFLAG(ICANON)) {
        /* bytes after the last line end are a line being edited */
        tty.edit_len = 0;
        while (tty.edit_len < tty.in_count && !(*at(tty.in_count - 1 - tty.edit_len) & TTY_EOL))
            tty.edit_len++;
        tty.line_col = tty.col;
    }
}

/* ---- canonical editing ---- */

/* Erase the last character of the edited line (a whole UTF-8 sequence). */
static void erase_one(void)
{
    if (!tty.edit_len)
        return;
    uint8_t c;
    do {
        c = (uint8_t)*at(--tty.in_count);
        tty.edit_len--;
    } while (is_cont(c) && tty.edit_len);
    if (!LFLAG(ECHO))
        return;
    if (!LFLAG(ECHOE)) {
        echo(tty.tio.c_cc[VERASE]);
        return;
    }
    if (c == '\t') { /* back to where the rest of the line ends */
        unsigned col = tty.line_col;
        for (unsigned i = tty.in_count - tty.edit_len; i < tty.in_count; i++)
            col = echo_col(col, (uint8_t)*at(i));
        while (tty.col > col && tty_output('\b'))
            ;
        return;
    }
    for (unsigned w = echo_col(0, c); w > 0; w--)
        if (tty_out_free() >= 3) {
            tty_output('\b');
            tty_output(' ');
            tty_output('\b');
        }
}

static uint8_t last_edited(void)
{
    return (uint8_t)*at(tty.in_count - 1);
}

static void erase_word(void)
{
    while (tty.edit_len && (last_edited() == ' ' || last_edited() == '\t'))
        erase_one();
    while (tty.edit_len && last_edited() != ' ' && last_edited() != '\t')
        erase_one();
}

static void kill_line(uint8_t c)
{
    if (LFLAG(ECHO) && LFLAG(ECHOK) && LFLAG(ECHOKE) && LFLAG(ECHOE)) {
        while (tty.edit_len)
            erase_one();
        return;
    }
    tty.in_count -= tty.edit_len;
    tty.edit_len = 0;
    if (LFLAG(ECHO)) {
        echo(c);
        if (LFLAG(ECHOK))
            tty_output('\n');
    }
}

/* A byte that is data: append and echo it. */
static void store(uint8_t c)
{
    if (LFLAG(ICANON)) {
        /* keep room for the line's end, so a full line can still finish */
        if (tty.edit_len >= TTY_LINE_MAX || tty.in_count + 1 >= TTY_IN_SIZE)
            return;
    }
    if (!append(c))
        return;
    if (LFLAG(ECHO))
        echo(c);
    else if (c == '\n' && LFLAG(ECHONL))
        tty_output('\n');
}

static int canonical(uint8_t c)
{
    if (is_cc(c, VERASE) || c == '\b') {
        erase_one();
    } else if (LFLAG(IEXTEN) && is_cc(c, VWERASE)) {
        erase_word();
    } else if (is_cc(c, VKILL)) {
        kill_line(c);
    } else if (LFLAG(IEXTEN) && is_cc(c, VLNEXT)) {
        tty.lnext = 1;
    } else if (is_cc(c, VEOF)) {
        end_line(c | TTY_EOF); /* not echoed */
    } else if (c == '\n' || is_cc(c, VEOL) || is_cc(c, VEOL2)) {
        if (LFLAG(ECHO) || (c == '\n' && LFLAG(ECHONL)))
            echo(c);
        end_line(c);
    } else {
        return 0;
    }
    return 1;
}

static int signal_char(uint8_t c)
{
    int sig = is_cc(c, VINTR)   ? TTY_SIGINT
              : is_cc(c, VQUIT) ? TTY_SIGQUIT
              : is_cc(c, VSUSP) ? TTY_SIGTSTP
                                : 0;
    if (!sig)
        return 0;
    if (!LFLAG(NOFLSH)) {
        tty_flush_input();
        tty_flush_output();
    }
    tty.stopped = 0;
    if (LFLAG(ECHO))
        echo(c);
    if (tty.pgrp > 0)
        chardriver_signal(tty.pgrp, sig);
    return 1;
}

void tty_input(uint8_t c)
{
    if (IFLAG(ISTRIP))
        c &= 0x7f;
    if (tty.lnext) {
        tty.lnext = 0;
        store(c);
        return;
    }
    if (c == '\r') {
        if (IFLAG(IGNCR))
            return;
        if (IFLAG(ICRNL))
            c = '\n';
    } else if (c == '\n' && IFLAG(INLCR)) {
        c = '\r';
    }
    if (IFLAG(IXON)) {
        if (is_cc(c, VSTOP)) {
            tty.stopped = 1;
            return;
        }
        if (is_cc(c, VSTART)) {
            tty.stopped = 0;
            return;
        }
        if (IFLAG(IXANY))
            tty.stopped = 0;
    }
    if (LFLAG(ISIG) && signal_char(c))
        return;
    if (LFLAG(ICANON) && canonical(c))
        return;
    store(c);
}
