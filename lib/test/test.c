/*
 * lib/test's runner and its failure path (the interface and the lines it
 * prints: test.h). Built twice: with libsys for native Samsara programs,
 * and hosted (__STDC_HOSTED__: musl on Samsara, the host's libc for the
 * host unit tests), where the few calls that differ are below.
 */
#include "test.h"

#if __STDC_HOSTED__
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t uptime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
static void flush(void)
{
    fflush(stdout);
}
static _Noreturn void exit_process(int code)
{
    fflush(stdout);
    _exit(code);
}
static const char *error_name(int64_t got)
{
    (void)got;
    return strerror(errno);
}
/* What a failed check adds: the C library's last error. */
static const char *check_note(void)
{
    static char note[32];
    snprintf(note, sizeof(note), " (errno %d)", errno);
    return note;
}
void test_exit_qemu(int failed)
{
    (void)failed; /* a Linux process has no I/O ports: the harness waits for the summary */
}

int test_run_forked(const struct test *t)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        t->fn();
        exit_process(0);
    }
    /* As the first process (utest as init, tools/suite_system.py) the runner is also the parent
     * pm gives orphans to: it waits for any child, so none of them stays a zombie. */
    pid_t got = -1, which = getpid() == 1 ? -1 : pid;
    int st = -1;
    while (pid > 0 && (got = waitpid(which, &st, 0)) > 0 && got != pid)
        ; /* an orphan: waited for */
    if (got != pid) {
        printf("FAIL %s: cannot run it in a child\n", t->name);
        return 0;
    }
    if (WIFSIGNALED(st))
        printf("FAIL %s: killed by signal %d\n", t->name, WTERMSIG(st));
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
#else
#include "sys.h"

static uint64_t uptime_ms(void)
{
    return sys_uptime();
}
static void flush(void)
{
    log_flush();
}
static _Noreturn void exit_process(int code)
{
    log_flush();
    sys_exit(code);
}
static const char *error_name(int64_t got)
{
    return strerror_s((int)got);
}
static const char *check_note(void)
{
    return "";
}
void test_exit_qemu(int failed)
{
    log_flush();
    sys_ioport(IO_OUT8, 0x501, failed ? 1 : 0); /* QEMU exits: status 1 or 3 */
}
#endif

static const struct test_suite *suite;
static const char *current = "?";
static int failed_now; /* the running test has failed a check */

void test_enter(const struct test_suite *s, const char *name)
{
    suite = s;
    current = name;
    failed_now = 0;
}

const char *test_current(void)
{
    return current;
}

static void fail_done(void)
{
    failed_now = 1;
    if (!suite)
        return;
    if (suite->on_fail)
        suite->on_fail();
    if (suite->fail_exits)
        exit_process(1);
}

void test_failed(const char *file, int line, const char *what)
{
    printf("FAIL %s%s: %s:%d: %s%s\n", suite ? suite->prefix : "", current, file, line, what,
           check_note());
    fail_done();
}

void test_failed_value(const char *file, int line, const char *what, int64_t got, int64_t want)
{
    printf("FAIL %s%s: %s:%d: %s is %ld (%s), expected %ld\n", suite ? suite->prefix : "", current,
           file, line, what, (long)got, error_name(got), (long)want);
    fail_done();
}

/* The suite's tables, ended by 0: its one table, or its groups. */
static const struct test *const *tables(const struct test_suite *s, const struct test *one[2])
{
    one[0] = s->tests;
    one[1] = 0;
    return s->tests ? one : s->groups;
}

const struct test *test_find(const struct test_suite *s, const char *name)
{
    const struct test *one[2];
    for (const struct test *const *g = tables(s, one); *g; g++)
        for (const struct test *t = *g; t->name; t++)
            if (!strcmp(t->name, name))
                return t;
    return 0;
}

int test_child(const struct test_suite *s, const char *name)
{
    const struct test *t = test_find(s, name);
    if (!t) {
        printf("%s: no test named %s\n", s->program, name);
        return 2;
    }
    test_enter(s, t->name);
    t->fn();
    return failed_now;
}

/* One test here or apart: 1 if it passed. */
static int run_one(const struct test_suite *s, const struct test *t)
{
    test_enter(s, t->name);
    if (s->run_apart)
        return s->run_apart(t) && !failed_now;
    t->fn();
    return !failed_now;
}

static int finish(const struct test_suite *s, int passed, int failed, int exit_qemu)
{
    printf("%s: %d passed, %d failed\n", s->program, passed, failed);
    flush();
    if (exit_qemu)
        test_exit_qemu(failed);
    return failed;
}

int test_abort(const struct test_suite *s, const char *why)
{
    printf("FAIL %ssetup: %s\n", s->prefix, why);
    printf("TEST %ssetup FAIL\n", s->prefix);
    return finish(s, 0, 1, !s->exit_only_if_asked);
}

int test_main(const struct test_suite *s, const char *args)
{
    char only[64] = "";
    int exit_qemu = !s->exit_only_if_asked;
    for (const char *w = args ? args : ""; *w;) { /* words: "exit", "only=NAME" or NAME */
        const char *end = w;
        while (*end && *end != ' ')
            end++;
        size_t len = (size_t)(end - w);
        if (len == 4 && !strncmp(w, "exit", 4))
            exit_qemu = 1;
        else if (len) {
            if (len > 5 && !strncmp(w, "only=", 5))
                w += 5, len -= 5;
            if (len >= sizeof(only))
                len = sizeof(only) - 1;
            memcpy(only, w, len);
            only[len] = '\0';
        }
        w = *end ? end + 1 : end;
    }
    int passed = 0, failed = 0;
    const struct test *one[2];
    for (const struct test *const *g = tables(s, one); *g; g++)
        for (const struct test *t = *g; t->name; t++) {
            if (only[0] && strcmp(only, t->name))
                continue;
            uint64_t start = uptime_ms();
            int ok = run_one(s, t);
            if (s->after_each)
                s->after_each();
            printf("TEST %s%s %s (%lu ms)\n", s->prefix, t->name, ok ? "PASS" : "FAIL",
                   (unsigned long)(uptime_ms() - start));
            ok ? passed++ : failed++;
        }
    if (only[0] && !passed && !failed)
        return test_abort(s, "no test of that name");
    return finish(s, passed, failed, exit_qemu);
}
