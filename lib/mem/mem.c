/*
 * The memory and string functions the kernel and system programs share (gcc
 * may emit calls to the first three): linked into both, as lib/format is.
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n)
{
    void *ret = d;
    size_t words = n / 8, tail = n % 8;
    uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
    return ret;
}

/* Eight bytes at a time, then the tail (TCG counts every rep iteration). */
void *memcpy(void *d, const void *s, size_t n)
{
    void *ret = d;
    size_t words = n / 8, tail = n % 8;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words)::"memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(tail)::"memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
