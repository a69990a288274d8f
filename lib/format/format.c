/* See format.h. Pure code: also built and tested on the host. */
#include "format.h"
#include <stdint.h>

static int emit_number(format_put_t put, void *ctx, uint64_t v, int base, int upper, int neg,
                       int width, char pad, int left)
{
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0, out = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    if (neg && pad == '0') { /* sign goes before zero padding */
        put(ctx, '-');
        out++;
        n--;
        width--;
    }
    for (int i = n; !left && i < width; i++, out++)
        put(ctx, pad);
    while (n)
        put(ctx, tmp[--n]), out++;
    for (; left && out < width; out++)
        put(ctx, ' ');
    return out;
}

int format(format_put_t put, void *ctx, const char *fmt, va_list ap)
{
    int out = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(ctx, *fmt);
            out++;
            continue;
        }
        fmt++;
        int left = 0, width = 0, lng = 0;
        char pad = ' ';
        if (*fmt == '-')
            left = 1, fmt++;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z')
            lng++, fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            out += emit_number(put, ctx, mag, 10, 0, v < 0, width, pad, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            out +=
                emit_number(put, ctx, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, width, pad, left);
            break;
        }
        case 'p':
            put(ctx, '0'), put(ctx, 'x');
            out +=
                2 + emit_number(put, ctx, (uint64_t)va_arg(ap, void *), 16, 0, 0, width, pad, left);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int n = 0;
            if (!s)
                s = "(null)";
            while (s[n])
                n++;
            for (int i = n; !left && i < width; i++, out++)
                put(ctx, ' ');
            for (int i = 0; i < n; i++, out++)
                put(ctx, s[i]);
            for (int i = n; left && i < width; i++, out++)
                put(ctx, ' ');
            break;
        }
        case 'c':
            put(ctx, (char)va_arg(ap, int));
            out++;
            break;
        case '%':
            put(ctx, '%');
            out++;
            break;
        case '\0':
            return out;
        default: /* unknown conversion: print it as is */
            put(ctx, '%');
            put(ctx, *fmt);
            out += 2;
        }
    }
    return out;
}

struct buf_ctx {
    char *buf;
    size_t size, len;
};

static void buf_put(void *ctx, char c)
{
    struct buf_ctx *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int snprintf_s(char *buf, size_t size, const char *fmt, ...)
{
    struct buf_ctx b = {buf, size, 0};
    va_list ap;
    va_start(ap, fmt);
    int n = format(buf_put, &b, fmt, ap);
    va_end(ap);
    if (size)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return n;
}
