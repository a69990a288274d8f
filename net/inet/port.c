/*
 * What lwIP needs from its platform besides arch/cc.h (docs/INET.md, "The
 * port"): the clock (sys_now, in ms from the kernel's uptime), random
 * numbers for sequence numbers and ports, the assertion exit, and the two
 * C library functions libsys does not have (memmove, atoi).
 */
#include "lwip/sys.h"
#include "sys.h"

/* lwIP's clock: the kernel counts 1000 ticks a second (HZ), so ticks are ms. */
u32_t sys_now(void)
{
    return (u32_t)sys_uptime();
}

/* Initial sequence numbers and ephemeral ports must differ from one inet instance to the next
 * (a restarted inet must not reuse its predecessor's): seeded from the TSC at the first call. */
uint32_t inet_random(void)
{
    static uint64_t state;
    if (!state)
        state = (sys_tsc() ^ 0x9e3779b97f4a7c15ull) | 1;
    return (uint32_t)(rand64(&state) >> 32);
}

_Noreturn void inet_assert_failed(const char *what, const char *file, int line)
{
    printf("inet: assertion \"%s\" failed at %s:%d\n", what, file, line);
    sys_exit(2); /* rs starts a fresh inet */
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    if (p <= q || p >= q + n)
        return memcpy(d, s, n); /* libsys's memcpy copies forwards (rep movs, DF clear) */
    while (n--)
        p[n] = q[n];
    return d;
}

int atoi(const char *s)
{
    int v = 0, neg = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}
