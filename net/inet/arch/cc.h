/*
 * lwIP's port to Samsara's user space: the compiler and platform part
 * (lwip/arch.h reads this first). inet and lwIP are built freestanding
 * with libsys, not a C library (docs/INET.md, "The port"): types come from
 * the compiler's own stdint.h and stddef.h, lwIP's own character-class
 * macros replace ctype.h, the limits come from the compiler's predefined
 * macros, and diagnostics go to printf (libsys: the kernel log).
 */
#ifndef INET_ARCH_CC_H
#define INET_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

/* No inttypes.h, limits.h, unistd.h or ctype.h: what lwIP wanted from them. */
#define LWIP_NO_INTTYPES_H 1
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"
#define LWIP_NO_LIMITS_H 1
#define INT_MAX __INT_MAX__
#define SSIZE_MAX __LONG_MAX__
#define LWIP_NO_UNISTD_H 1
typedef long ssize_t;
#define LWIP_NO_CTYPE_H 1

/* x86-64: little-endian; byte swaps are single instructions. */
#define BYTE_ORDER LITTLE_ENDIAN
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_ntohs(x) lwip_htons(x)
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))
#define lwip_ntohl(x) lwip_htonl(x)

/* Protocol headers are read in place from frames: pack them. */
#define PACK_STRUCT_STRUCT __attribute__((__packed__))

/* Diagnostics: LWIP_PLATFORM_DIAG((fmt, args)) prints; a failed assertion is a bug in inet or
 * lwIP, never bad input: log it and exit, and rs starts a fresh inet (manifest: restart). */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void inet_assert_failed(const char *what, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        printf x;                                                                                  \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) inet_assert_failed((x), __FILE__, __LINE__)

/* Initial sequence numbers, ephemeral ports, IP ids (port.c). Without the hook lwIP's ISN is
 * 6510 plus its tick count: a restarted inet began its connections where its predecessor had. */
uint32_t inet_random(void);
#define LWIP_RAND() inet_random()
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) inet_random()

#endif
