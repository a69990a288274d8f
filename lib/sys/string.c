/* String helpers and error names for system programs (memset and friends: lib/mem). */
#include "sys.h"

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n && *a && *a == *b; n--, a++, b++)
        ;
    return n ? (uint8_t)*a - (uint8_t)*b : 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

char *strncpy_s(char *d, const char *s, size_t n)
{
    size_t i = 0;
    for (; n && i < n - 1 && s[i]; i++)
        d[i] = s[i];
    if (n)
        d[i] = '\0';
    return d;
}

void sort_u64(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

uint64_t rand64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

const char *strerror_s(int err)
{
    switch (err < 0 ? -err : err) {
    case 0:
        return "OK";
    case E_PERM:
        return "E_PERM";
    case E_SRCH:
        return "E_SRCH";
    case E_IO:
        return "E_IO";
    case E_NXIO:
        return "E_NXIO";
    case E_NODEV:
        return "E_NODEV";
    case E_CHILD:
        return "E_CHILD";
    case E_AGAIN:
        return "E_AGAIN";
    case E_NOMEM:
        return "E_NOMEM";
    case E_FAULT:
        return "E_FAULT";
    case E_BUSY:
        return "E_BUSY";
    case E_INVAL:
        return "E_INVAL";
    case E_NOSPC:
        return "E_NOSPC";
    case E_RANGE:
        return "E_RANGE";
    case E_DEADLK:
        return "E_DEADLK";
    case E_NOSYS:
        return "E_NOSYS";
    case E_DEADEP:
        return "E_DEADEP";
    case E_BADGRANT:
        return "E_BADGRANT";
    case E_RESTARTED:
        return "E_RESTARTED";
    default:
        return "E_?";
    }
}
