/*
 * lib/test: the one test library of Samsara's test programs (sel4test's
 * test_assert, xv6 usertests' table). The same header and lib/test/test.c
 * build for native Samsara programs (libsys: ktest, fstest, dstest, ...)
 * and for hosted programs (musl's utest on Samsara, the host unit tests).
 *
 * A program lists its tests in tables of struct test, each ended by {0},
 * and hands them to test_main() in a struct test_suite. The runner:
 *   - runs every test in table order, or only the one its arguments name
 *     ("only=NAME", or NAME alone);
 *   - prints one line per test, "TEST <prefix>NAME PASS|FAIL (N ms)", and
 *     a failed check's line before it, "FAIL <prefix>NAME: file:line: ...";
 *   - ends with "<program>: N passed, M failed" (tools/qemu.py's
 *     collect_tests and tools/test.py read these three kinds of lines);
 *   - on Samsara, leaves QEMU through isa-debug-exit (port 0x501: status 1
 *     if every test passed, 3 otherwise), or, for a suite that says
 *     exit_only_if_asked (ktest), when its arguments say "exit".
 *
 * CHECK(cond) and EXPECT(expr, want) mark the running test failed. What
 * happens next is the program's choice, made once for all its tests:
 *   - the suite's fail_exits: the test runs in a process of its own (a
 *     ktest child, a forked utest child) and the failed check ends it;
 *   - else TEST_LEAVE, defined before this header is included: `return`
 *     (void tests), `return 1` (tests returning int), or nothing: the test
 *     goes on and reports every failed check.
 */
#ifndef LIB_TEST_H
#define LIB_TEST_H

#include <stddef.h>
#include <stdint.h>

#ifndef TEST_LEAVE
#define TEST_LEAVE /* go on */
#endif

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_failed(__FILE__, __LINE__, #cond);                                                \
            TEST_LEAVE;                                                                            \
        }                                                                                          \
    } while (0)
/* An expression and the value it must have (Samsara and Linux errors are negative numbers). */
#define EXPECT(expr, want)                                                                         \
    do {                                                                                           \
        int64_t got_ = (int64_t)(expr), want_ = (int64_t)(want);                                   \
        if (got_ != want_) {                                                                       \
            test_failed_value(__FILE__, __LINE__, #expr, got_, want_);                             \
            TEST_LEAVE;                                                                            \
        }                                                                                          \
    } while (0)

struct test {
    const char *name;
    void (*fn)(void);
};

struct test_suite {
    const char *program;              /* the summary line: "<program>: N passed, M failed" */
    const char *prefix;               /* the test lines: "TEST <prefix>NAME", e.g. "fs." */
    const struct test *tests;         /* the tests, ended by {0} */
    const struct test *const *groups; /* or several such tables, the list ended by 0 */
    /* Runs one test elsewhere (a process of its own) or in another way (fstest's tests return
     * int); 1 if it passed. 0: the runner calls fn here. */
    int (*run_apart)(const struct test *t);
    void (*after_each)(void); /* cleanup after each test (0: none) */
    void (*on_fail)(void);    /* at a failed check, before it leaves (0: nothing) */
    int fail_exits;           /* a failed check ends the process with status 1 */
    int exit_only_if_asked;   /* leave QEMU only with the argument "exit" (Samsara only) */
};

/* The runner: arguments "exit" and "only=NAME" (or NAME) in args; returns the failures. */
int test_main(const struct test_suite *s, const char *args);
/* Setup failed before any test could run: "TEST <prefix>setup FAIL", the summary, the exit. */
int test_abort(const struct test_suite *s, const char *why);
/* Run the named test here (a child's part when run_apart starts this program again). */
int test_child(const struct test_suite *s, const char *name);
/* The test (or helper) running in this process, for the FAIL lines. */
void test_enter(const struct test_suite *s, const char *name);
const char *test_current(void);
const struct test *test_find(const struct test_suite *s, const char *name);

/* Leave QEMU through isa-debug-exit: status 1 if failed is 0, else 3 (nothing when hosted). */
void test_exit_qemu(int failed);

/* Called by CHECK and EXPECT. */
void test_failed(const char *file, int line, const char *what);
void test_failed_value(const char *file, int line, const char *what, int64_t got, int64_t want);

#if __STDC_HOSTED__
/* run_apart for hosted programs: fork, run the test in the child, wait. */
int test_run_forked(const struct test *t);
#endif

#endif
