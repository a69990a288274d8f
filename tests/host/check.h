/*
 * Host unit tests: each test is a function; CHECK records a failure and
 * the runner prints "TEST name PASS|FAIL" per test (read by tools/test.py).
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("  %s:%d: %s\n", __FILE__, __LINE__, #cond);                                    \
            check_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

struct host_test {
    const char *name;
    void (*fn)(void);
};

static int run_host_tests(const struct host_test *t)
{
    int failed = 0;
    for (; t->name; t++) {
        check_failed = 0;
        t->fn();
        printf("TEST %s %s\n", t->name, check_failed ? "FAIL" : "PASS");
        failed += check_failed;
    }
    return failed != 0;
}

/* The file at path (the tests run at the top of the tree) with a NUL after it, its length in
 * *len; NULL if it cannot be read. The caller frees it. */
static inline char *host_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    *len = n > 0 ? fread(b, 1, (size_t)n, f) : 0;
    b[*len] = 0;
    fclose(f);
    return b;
}

#endif
