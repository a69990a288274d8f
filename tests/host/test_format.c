/* The formatter shared by the kernel and system programs, against libc's printf. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "../../lib/format/format.h"
#include "check.h"

#define SAME(fmt, ...)                                                                             \
    do {                                                                                           \
        char ours[128], libc[128];                                                                 \
        snprintf_s(ours, sizeof(ours), fmt, __VA_ARGS__);                                          \
        snprintf(libc, sizeof(libc), fmt, __VA_ARGS__);                                            \
        if (strcmp(ours, libc)) {                                                                  \
            printf("  \"%s\": ours \"%s\", libc \"%s\"\n", fmt, ours, libc);                       \
            check_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

static void integers(void)
{
    SAME("%d %d %d", 0, -1, 2147483647);
    SAME("%d", (int)-2147483648);
    SAME("%ld %lu", (long)INT64_MIN, (unsigned long)UINT64_MAX);
    SAME("%x %X %lx", 0xdeadbeefu, 0xabcu, 0xffffffff80000000ul);
    SAME("%u %zu", 4000000000u, (size_t)12345);
}

static void widths(void)
{
    SAME("[%5d] [%-5d] [%05d]", 42, 42, 42);
    SAME("[%05d] [%8lx] [%-8s] [%8s]", -42, 0xabcul, "ab", "cd");
    SAME("[%016lx]", 0x1234ul);
}

static void strings_and_chars(void)
{
    SAME("%s|%c|%%", "text", 'x');
    char buf[8];
    int n = snprintf_s(buf, sizeof(buf), "%s", "truncated text");
    CHECK(n == 14);
    CHECK(strcmp(buf, "truncat") == 0);
    const char *volatile null_string = 0;
    snprintf_s(buf, sizeof(buf), "%s", null_string);
    CHECK(strcmp(buf, "(null)") == 0);
    CHECK(snprintf_s(buf, 0, "abc") == 3); /* size 0 writes nothing */
}

static void pointers(void)
{
    char buf[32];
    snprintf_s(buf, sizeof(buf), "%p", (void *)0x1000);
    CHECK(strcmp(buf, "0x1000") == 0);
}

int main(void)
{
    static const struct host_test tests[] = {
        {"integers", integers},
        {"widths", widths},
        {"strings_and_chars", strings_and_chars},
        {"pointers", pointers},
        {0, 0},
    };
    return run_host_tests(tests);
}
