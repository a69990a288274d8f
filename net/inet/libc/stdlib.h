/*
 * The part of <stdlib.h> lwIP uses (netif_find's atoi), for a build without
 * a C library; net/inet/port.c defines it.
 */
#ifndef INET_LIBC_STDLIB_H
#define INET_LIBC_STDLIB_H

int atoi(const char *s);

#endif
