/*
 * ttytest: tests the tty driver by speaking CDEV_* to it the way vfs does.
 * The Linux terminal ABI values are written out here independently of the
 * driver's own header, so a wrong constant on either side shows up.
 */
#ifndef TTYTEST_H
#define TTYTEST_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/root.h>
#include "sys.h"

struct lx_termios { /* the Linux kernel's struct termios: 36 bytes */
    uint32_t iflag, oflag, cflag, lflag;
    uint8_t line;
    uint8_t cc[19];
};
struct lx_winsize {
    uint16_t row, col, xpixel, ypixel;
};

#define L_ISIG 01
#define L_ICANON 02
#define L_ECHO 010
#define O_OPOST 01
#define O_ONLCR 04
#define C_VTIME 5
#define C_VMIN 6
#define T_TCGETS 0x5401
#define T_TCSETS 0x5402
#define T_TCSETSF 0x5404
#define T_TCFLSH 0x540B
#define T_TIOCSCTTY 0x540E
#define T_TIOCGPGRP 0x540F
#define T_TIOCSPGRP 0x5410
#define T_TIOCGWINSZ 0x5413
#define T_TIOCSWINSZ 0x5414
#define T_FIONREAD 0x541B
#define T_TIOCNOTTY 0x5422

#define WAIT_TICKS 10000     /* 10 s for typed input or a status */
#define IPC_FAILED (-100000) /* cdev(): the sendrec itself failed */

extern endpoint_t tty_ep;

#define TEST_LEAVE return /* a failed check fails the test and leaves it */
#include "test/test.h"

/* One request; the reply's u.w[0] (or IPC_FAILED + error), the whole reply in cdev_reply. */
extern message_t cdev_reply;
int64_t cdev(int type, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4, uint64_t w5,
             uint64_t w6);

/* A read or write that may be suspended: its grant lives until finished. */
struct op {
    uint64_t id;
    grant_id_t grant;
    uint8_t buf[512];
};
int64_t op_start(struct op *o, int type, uint64_t len, uint32_t flags);
int64_t op_wait(struct op *o);                 /* the DONE result, or IPC_FAILED on timeout */
int64_t op_cancel(struct op *o);               /* CDEV_CANCEL's reply; the grant goes */
int64_t read_line(struct op *o, uint64_t len); /* start and wait if suspended */
int64_t write_str(const char *s);

int64_t ioctl_ptr(uint32_t req, void *arg, uint64_t size);
int64_t ioctl_val(uint32_t req, uint64_t value, int32_t pgrp);
int get_termios(struct lx_termios *t);
int set_termios(const struct lx_termios *t);

/* Statuses: wait for one of this kind (and w1 unless w1 = ~0). */
int wait_status(int kind, uint64_t w1, uint64_t *w1_out, uint64_t *w2_out);
int status_pending(void);      /* items fetched but not yet waited for */
void prompt(const char *what); /* "ttytest: type WHAT": the host types */
void sleep_ticks(uint64_t ticks);
void reset_tty(void); /* default termios, empty input */

extern const struct lx_termios default_termios;

extern const struct test basic_tests[], typed_tests[];

#endif
