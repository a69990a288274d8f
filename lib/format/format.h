/*
 * A small printf-style formatter shared by the kernel and system programs
 * (freestanding: no allocation, output through a callback). Supports
 * %d %i %u %x %X %p %s %c %%, the l/ll/z length modifiers, width, '0' and '-'.
 */
#ifndef FORMAT_H
#define FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_put_t)(void *ctx, char c);
int format(format_put_t put, void *ctx, const char *fmt, va_list ap);
int snprintf_s(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
