/*
 * Host unit tests: each test is a function; CHECK records a failure and
 * the runner prints "TEST name PASS|FAIL" per test (read by tools/test.py).
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

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

#endif
