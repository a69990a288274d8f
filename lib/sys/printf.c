/* printf for system programs: one KC_LOG per line (or per 200 bytes). */
#include "sys.h"
#include "../format/format.h"

static char line[200];
static size_t line_len;

void log_flush(void)
{
    if (line_len)
        sys_log(line, line_len);
    line_len = 0;
}

static void put(void *ctx, char c)
{
    (void)ctx;
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof(line))
        log_flush();
}

int vprintf(const char *fmt, va_list ap)
{
    return format(put, 0, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
