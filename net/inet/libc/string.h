/*
 * The part of <string.h> lwIP uses, for a build without a C library: the
 * functions come from libsys (lib/mem/mem.c, lib/sys/string.c) and, for memmove, from
 * net/inet/port.c. Only lwIP's sources and inet's include this (mk/lwip.mk).
 */
#ifndef INET_LIBC_STRING_H
#define INET_LIBC_STRING_H

#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
