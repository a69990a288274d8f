/*
 * ubench: the costs of the Linux system-call interface, for `make bench` (tools/bench.py), which
 * runs this same static program on Samsara and on Debian's Linux in the same QEMU
 * (docs/PERFORMANCE.md). Modes:
 *
 *   ubench [syscalls]          the system-call rows, then "ubench: done"
 *   ubench fork MIB...         fork+exit+wait and fork+exec+wait with MIB MiB touched
 *                              (tools/bench_fork.py)
 *   ubench tree DIR FILES      FILES small files in 20 directories under DIR (the bulk rows' tree)
 *   ubench gen FILE MIB        MIB MiB of generated text (the same bytes on every system)
 *   ubench time NAME CMD ARG.. CMD run with its output on /dev/null and waited for, timed from
 *                              the TSC: "UBULK NAME ticks exit-status"
 *   ubench tsc                 "UTSC ticks": the host times two of these lines to find the TSC's
 *                              frequency
 *   ubench calls               cheap calls served by pm or vfs alone (getppid, write to /dev/null,
 *                              pread of 64 bytes, fstat, dup+close)
 *   ubench loop CALL           one of those for ever, for tools/profile.py
 *   ubench loop fork_exec      fork+exec(/bin/true)+wait for ever (tools/profile.py --fork-exec)
 *   ubench loop pread_4k       that syscalls row for ever (also pread_64k, pwrite_4k, pwrite_64k;
 *                              tools/profile_system.py)
 *
 * A row is "UBENCH name us-median us-min us-max tsc-median": 11 runs of the operation repeated
 * enough times, per operation the microseconds from CLOCK_MONOTONIC (the TSC's, through the vDSO)
 * and the TSC ticks. Under
 * -icount shift=0 a tick is one guest instruction, so that column counts every instruction the
 * operation costs, the kernel's and the servers' included, and repeats exactly from run to run;
 * without icount QEMU's TSC runs at the host's TSC rate. Row names are stable (the harness and
 * docs/PERFORMANCE.md key on them).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 11
#define DEEP_DIR "/tmp/ubench/a/b" /* open_close and stat: a four-component path */
#define DEEP_FILE DEEP_DIR "/file"
#define DATA_FILE "/tmp/ubench/data"

static double v[RUNS], ticks[RUNS]; /* per run: microseconds and TSC ticks per operation */
static double t_us;
static uint64_t t_tsc;

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void start(void)
{
    t_us = now_us();
    t_tsc = rdtsc();
}

static void stop(int run, unsigned ops)
{
    ticks[run] = (double)(rdtsc() - t_tsc) / ops;
    v[run] = (now_us() - t_us) / ops;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name)
{
    qsort(v, RUNS, sizeof(double), cmp);
    qsort(ticks, RUNS, sizeof(double), cmp);
    printf("UBENCH %s %.1f %.1f %.1f %.0f\n", name, v[RUNS / 2], v[0], v[RUNS - 1],
           ticks[RUNS / 2]);
}

static void fail(const char *what)
{
    printf("ubench: %s failed\n", what);
    exit(1);
}

/* RUNS runs of reps calls of op, reported as row name. */
static void measure(const char *name, void (*op)(void), unsigned reps)
{
    for (int r = 0; r < RUNS; r++) {
        start();
        for (unsigned i = 0; i < reps; i++)
            op();
        stop(r, reps);
    }
    report(name);
}

static char *map(size_t len)
{
    char *b = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        fail("mmap");
    return b;
}

/*
 * The operations' shared state: descriptors and a 64 KiB buffer, mapped while the rows run (a
 * static one would make the program larger, and fork slower).
 */
static int null_fd, data_fd, to_child, from_child;
static char *buf;

static void op_getppid(void)
{
    syscall(SYS_getppid);
}

static void op_clock_gettime(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
}

/* The same clock as a system call (on Samsara: the kernel and pm; the vDSO's row is above). */
static void op_clock_gettime_syscall(void)
{
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
}

static void op_write_dev_null(void)
{
    if (write(null_fd, buf, 1) != 1)
        fail("write to /dev/null");
}

static void op_open_close(void)
{
    int fd = open(DEEP_FILE, O_RDONLY);
    if (fd < 0)
        fail("open " DEEP_FILE);
    close(fd);
}

static void op_stat(void)
{
    struct stat st;
    if (stat(DEEP_FILE, &st) != 0)
        fail("stat " DEEP_FILE);
}

static void transfer(int write_it, size_t size)
{
    if ((write_it ? pwrite(data_fd, buf, size, 0) : pread(data_fd, buf, size, 0)) != (ssize_t)size)
        fail(write_it ? "pwrite" : "pread");
}

static void op_pread_4k(void)
{
    transfer(0, 4096);
}

static void op_pread_64k(void)
{
    transfer(0, 65536);
}

static void op_pwrite_4k(void)
{
    transfer(1, 4096);
}

static void op_pwrite_64k(void)
{
    transfer(1, 65536);
}

static void full(int fd, char *p, size_t len, int write_it)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = write_it ? write(fd, p + done, len - done) : read(fd, p + done, len - done);
        if (n <= 0)
            fail(write_it ? "write" : "read");
        done += (size_t)n;
    }
}

/* One byte to the child and one back. */
static void op_pipe_pingpong(void)
{
    full(to_child, buf, 1, 1);
    full(from_child, buf, 1, 0);
}

/* 1 MiB to the child in 64 KiB writes; the child answers one byte when it has read it all. */
static void op_pipe_1mib(void)
{
    for (int i = 0; i < 16; i++)
        full(to_child, buf, 65536, 1);
    full(from_child, buf, 1, 0);
}

/*
 * A child on two pipes that reads `chunk` bytes at a time and answers one byte per `answer_after`
 * bytes read, until end of file.
 */
static pid_t pipe_child(size_t chunk, size_t answer_after)
{
    int down[2], up[2];
    if (pipe(down) || pipe(up))
        fail("pipe");
    fflush(stdout);
    pid_t p = fork();
    if (p < 0)
        fail("fork");
    if (p == 0) {
        close(down[1]); /* or it would never see end of file */
        close(up[0]);
        size_t got = 0;
        for (;;) {
            ssize_t n = read(down[0], buf, chunk);
            if (n <= 0)
                _exit(0);
            got += (size_t)n;
            for (; got >= answer_after; got -= answer_after)
                full(up[1], buf, 1, 1);
        }
    }
    close(down[0]);
    close(up[1]);
    to_child = down[1];
    from_child = up[0];
    return p;
}

static void pipe_rows(void)
{
    pid_t p = pipe_child(1, 1);
    measure("pipe_pingpong", op_pipe_pingpong, 500);
    close(to_child);
    close(from_child);
    waitpid(p, 0, 0);
    p = pipe_child(65536, 1 << 20);
    measure("pipe_1mib", op_pipe_1mib, 8);
    close(to_child);
    close(from_child);
    waitpid(p, 0, 0);
}

static void op_mmap_touched(void)
{
    char *p = map(1 << 20);
    for (size_t off = 0; off < (1 << 20); off += 4096)
        p[off] = 1;
    munmap(p, 1 << 20);
}

static void op_mmap_untouched(void)
{
    munmap(map(1 << 20), 1 << 20);
}

/* One fork, its child exiting at once or exec'ing /bin/true, waited for. */
static void fork_wait(int exec)
{
    pid_t p = fork();
    if (p < 0)
        fail("fork");
    if (p == 0) {
        if (exec)
            execl("/bin/true", "true", (char *)0);
        _exit(exec ? 127 : 0);
    }
    waitpid(p, 0, 0);
}

/* n forks, each child exiting at once or exec'ing /bin/true, each waited for. */
static void time_forks(const char *name, unsigned n, int exec)
{
    fflush(stdout);
    for (int r = 0; r < RUNS; r++) {
        start();
        for (unsigned i = 0; i < n; i++)
            fork_wait(exec);
        stop(r, n);
    }
    report(name);
}

/* fork+exit+wait with mib MiB of private memory mapped and touched; with exec, fork+exec too. */
static void fork_size(unsigned mib, unsigned n, int exec, const char *exec_name)
{
    size_t len = (size_t)mib << 20;
    char *p = len ? map(len) : 0;
    if (len)
        memset(p, 1, len);
    char name[64];
    snprintf(name, sizeof(name), "fork_exit_wait_%uMiB", mib);
    time_forks(name, n, 0);
    if (exec)
        time_forks(exec_name, n, 1);
    if (len)
        munmap(p, len);
}

/*
 * `ubench fork MIB...` (tools/bench_fork.py, on Samsara and on Linux): fork+exit+wait and
 * fork+exec+wait as the process grows, with MIB MiB of private memory mapped and touched.
 */
static int fork_sizes(int n, char **mib)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "fork_exec_true_wait_%sMiB", mib[i]);
        fork_size((unsigned)strtoul(mib[i], 0, 10), 20, 1, name);
    }
    printf("ubench: done\n");
    return 0;
}

/*
 * /dev/demo written 4 KiB and 64 KiB at a time (vfs -> character driver data path; Samsara's test
 * driver, so no row where it is absent). Each buffer starts with demo's "lie 0", a command that
 * changes nothing; a write that comes short is followed by more until the size is written (from
 * the buffer's start again: demo reads each write as a command).
 */
static int demo_fd;
static size_t demo_size;

static void op_demo_write(void)
{
    for (size_t done = 0; done < demo_size;) {
        ssize_t n = write(demo_fd, buf, demo_size - done);
        if (n <= 0)
            fail("write to /dev/demo");
        done += (size_t)n;
    }
}

static void demo_rows(void)
{
    demo_fd = open("/dev/demo", O_WRONLY);
    if (demo_fd < 0)
        return;
    memcpy(buf, "lie 0", 6);
    demo_size = 4096;
    measure("demo_write_4k", op_demo_write, 1000);
    demo_size = 65536;
    measure("demo_write_64k", op_demo_write, 200);
    close(demo_fd);
}

/*
 * Two threads handing a turn to each other through a futex: Linux's nearest to a message round
 * trip between two processes (a wake and a wait each way, two switches). turn: whose it is.
 */
#define FUTEX_WAIT_PRIVATE                                                                         \
    128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG: musl's headers do not give it                          \
         */
#define FUTEX_WAKE_PRIVATE 129
enum { TURN_MAIN, TURN_PARTNER, TURN_STOP };
static int turn;

static void hand_over(int to, int wait_while)
{
    __atomic_store_n(&turn, to, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    while (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) == wait_while)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, wait_while, 0, 0, 0);
}

static void *futex_partner(void *unused)
{
    (void)unused;
    for (;;) {
        while (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) == TURN_MAIN)
            syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, TURN_MAIN, 0, 0, 0);
        if (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) == TURN_STOP)
            return 0;
        __atomic_store_n(&turn, TURN_MAIN, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    }
}

static void op_futex_pingpong(void)
{
    hand_over(TURN_PARTNER, TURN_PARTNER);
}

/* Last of the rows: once a thread has run, musl locks stdio and more for good. */
static void futex_rows(void)
{
    pthread_t t;
    turn = TURN_MAIN;
    if (pthread_create(&t, 0, futex_partner, 0) != 0) {
        printf("ubench: no threads: no futex_pingpong row\n");
        return;
    }
    measure("futex_pingpong", op_futex_pingpong, 500);
    __atomic_store_n(&turn, TURN_STOP, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    pthread_join(t, 0);
}

static void make_dirs(const char *path)
{
    char p[256];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1;; s++)
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && access(p, F_OK) != 0)
                fail("mkdir");
            if (!(*s = c))
                return;
        }
}

/* `ubench loop pread_4k|pread_64k|pwrite_4k|pwrite_64k`: one transfer row of syscall_rows for
 * ever (tools/profile_system.py); 0 if name is none of them. */
static int transfer_loop(const char *name)
{
    static const char *const names[] = {"pread_4k", "pread_64k", "pwrite_4k", "pwrite_64k"};
    for (int k = 0; k < 4; k++)
        if (!strcmp(name, names[k])) {
            buf = map(65536);
            memset(buf, 'u', 65536);
            make_dirs(DEEP_DIR);
            if ((data_fd = open(DATA_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
                fail("open " DATA_FILE);
            full(data_fd, buf, 65536, 1);
            printf("ubench: looping %s\n", name);
            for (;;)
                transfer(k >= 2, k % 2 ? 65536 : 4096);
        }
    return 0;
}

static int syscall_rows(void)
{
    buf = map(65536);
    make_dirs(DEEP_DIR);
    null_fd = open("/dev/null", O_WRONLY);
    data_fd = open(DATA_FILE, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int deep = open(DEEP_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (null_fd < 0 || data_fd < 0 || deep < 0)
        fail("setting up /tmp/ubench");
    close(deep);
    memset(buf, 'u', 65536);
    full(data_fd, buf, 65536, 1); /* 64 KiB to read back */

    measure("getppid", op_getppid, 2000);
    measure("clock_gettime", op_clock_gettime, 2000);
    measure("clock_gettime_syscall", op_clock_gettime_syscall, 2000);
    measure("write_dev_null", op_write_dev_null, 2000);
    measure("open_close", op_open_close, 200);
    measure("stat", op_stat, 400);
    measure("pread_4k", op_pread_4k, 1000);
    measure("pread_64k", op_pread_64k, 200);
    measure("pwrite_4k", op_pwrite_4k, 1000);
    measure("pwrite_64k", op_pwrite_64k, 200);
    pipe_rows();
    measure("mmap_touched_1mib", op_mmap_touched, 20);
    measure("mmap_untouched_1mib", op_mmap_untouched, 200);
    fork_size(0, 20, 1, "fork_exec_true_wait");
    fork_size(1, 20, 0, 0);
    fork_size(16, 4, 0, 0);
    fork_size(64, 2, 0, 0);
    demo_rows();
    futex_rows();

    close(data_fd);
    close(null_fd);
    unlink(DATA_FILE);
    unlink(DEEP_FILE);
    munmap(buf, 65536);
    printf("ubench: done\n");
    return 0;
}

/*
 * One mmap of MIB MiB, a byte written every STEP KiB (0: none), munmap: the instructions of each.
 * Read-only (ro), read instead: a mapping larger than free memory is admitted then.
 */
static int mmap_once(unsigned long mib, unsigned long step, int ro)
{
    size_t len = mib << 20;
    volatile char sum = 0;
    uint64_t t0 = rdtsc();
    char *p =
        mmap(0, len, ro ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t t1 = rdtsc();
    if (p == MAP_FAILED)
        fail("mmap");
    for (size_t off = 0; step && off < len; off += step << 10)
        if (ro)
            sum += p[off];
        else
            p[off] = 1;
    uint64_t t2 = rdtsc();
    if (munmap(p, len) != 0)
        fail("munmap");
    uint64_t t3 = rdtsc();
    printf("UMMAP %lu MiB step %lu KiB: mmap %llu touch %llu munmap %llu\n", mib, step,
           (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
           (unsigned long long)(t3 - t2));
    return 0;
}

/* FILES files of 64 bytes to 4 KiB in DIR/d00..d19, the same bytes on every system. */
static int tree(const char *dir, unsigned files)
{
    char path[256], data[4096];
    if (strlen(dir) > 200)
        fail("tree: a directory name that long");
    for (unsigned i = 0; i < files; i++) {
        snprintf(path, sizeof(path), "%s/d%02u", dir, i % 20);
        if (i < 20)
            make_dirs(path);
        snprintf(path, sizeof(path), "%s/d%02u/file%04u.txt", dir, i % 20, i);
        size_t len = 64 + (i * 997u) % 4033u;
        for (size_t k = 0; k < len; k++)
            data[k] = (char)('a' + (i + k * 7) % 26);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            fail(path);
        full(fd, data, len, 1);
        close(fd);
    }
    return 0;
}

/* MIB MiB of words chosen by a fixed linear congruential generator: text gzip has work with. */
static int gen(const char *file, unsigned mib)
{
    static const char *words[] = {"kernel", "message", "server", "reply ", "grant", "vfs",   "pm",
                                  "page",   "frame",   "switch", "driver", "ramfs", "inode", "the",
                                  "a",      "of",      "signal", "fork",   "exec",  "wait\n"};
    uint32_t x = 12345;
    size_t want = (size_t)mib << 20, have = 0;
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *out = map(65536);
    if (fd < 0)
        fail(file);
    while (have < want) {
        size_t n = 0;
        while (n < 65536 - 16) {
            x = x * 1103515245u + 12345u;
            const char *w = words[(x >> 16) % 20];
            size_t l = strlen(w);
            memcpy(out + n, w, l);
            n += l;
            out[n++] = ' ';
        }
        if (n > want - have)
            n = want - have;
        full(fd, out, n, 1);
        have += n;
    }
    close(fd);
    return 0;
}

/* Run argv with stdout on /dev/null, timed from the TSC across fork, exec, exit and wait. */
static int time_command(const char *name, char **argv)
{
    fflush(stdout);
    uint64_t t0 = rdtsc();
    pid_t p = fork();
    if (p < 0)
        fail("fork");
    if (p == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0 && fd != 1) {
            dup2(fd, 1);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(p, &status, 0) != p)
        fail("waitpid");
    uint64_t t = rdtsc() - t0;
    printf("UBULK %s %llu %d\n", name, (unsigned long long)t,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

/*
 * `ubench calls` (issue 12, servers' per-call costs): one row per cheap Linux call, each served
 * by pm or vfs alone: getppid, write of 1 byte to /dev/null, pread of 64 bytes of a small ramfs
 * file, fstat, and dup+close (two calls). `ubench loop NAME` repeats one of them for ever, for
 * tools/profile.py.
 */
static int calls_null = -1, calls_file = -1;

static void call_getppid(void)
{
    syscall(SYS_getppid);
}

static void call_write_null(void)
{
    char c = 'x';
    write(calls_null, &c, 1);
}

static void call_pread_small(void)
{
    char b[64];
    pread(calls_file, b, sizeof(b), 0);
}

static void call_fstat(void)
{
    struct stat st;
    fstat(calls_file, &st);
}

static void call_dup_close(void)
{
    close(dup(calls_file));
}

static const struct {
    const char *name;
    void (*run)(void);
} calls[] = {
    {"getppid", call_getppid},         {"write_dev_null", call_write_null},
    {"pread_small", call_pread_small}, {"fstat", call_fstat},
    {"dup_close", call_dup_close},
};

static int calls_rows(const char *loop)
{
    calls_null = open("/dev/null", O_WRONLY);
    calls_file = open("/tmp/ubench.small", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (calls_null < 0 || calls_file < 0 || write(calls_file, "0123456789abcdef", 16) != 16) {
        printf("ubench: cannot open /dev/null or create /tmp/ubench.small\n");
        return 1;
    }
    for (unsigned k = 0; k < sizeof(calls) / sizeof(calls[0]); k++) {
        if (loop) {
            if (strcmp(loop, calls[k].name))
                continue;
            printf("ubench: looping %s\n", loop);
            for (;;)
                calls[k].run();
        }
        for (int r = 0; r < RUNS; r++) {
            start();
            for (int i = 0; i < 2000; i++)
                calls[k].run();
            stop(r, 2000);
        }
        report(calls[k].name);
    }
    if (loop)
        printf("ubench: no call %s\n", loop);
    unlink("/tmp/ubench.small");
    printf("ubench: done\n");
    return loop != 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    if (argc == 1 || (argc == 2 && !strcmp(argv[1], "syscalls")))
        return syscall_rows();
    if (argc > 2 && !strcmp(argv[1], "fork"))
        return fork_sizes(argc - 2, argv + 2);
    if (argc == 2 && !strcmp(argv[1], "calls"))
        return calls_rows(0);
    if (argc == 3 && !strcmp(argv[1], "loop") && !strcmp(argv[2], "fork_exec")) {
        printf("ubench: looping fork_exec\n");
        for (;;)
            fork_wait(1);
    }
    if (argc == 3 && !strcmp(argv[1], "loop"))
        return transfer_loop(argv[2]) || calls_rows(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "tree"))
        return tree(argv[2], (unsigned)strtoul(argv[3], 0, 10));
    if (argc == 4 && !strcmp(argv[1], "gen"))
        return gen(argv[2], (unsigned)strtoul(argv[3], 0, 10));
    if (argc > 3 && !strcmp(argv[1], "time"))
        return time_command(argv[2], argv + 3);
    if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "ro"))) && !strcmp(argv[1], "mmap"))
        return mmap_once(strtoul(argv[2], 0, 10), strtoul(argv[3], 0, 10), argc == 5);
    if (argc == 2 && !strcmp(argv[1], "tsc")) {
        printf("UTSC %llu\n", (unsigned long long)rdtsc());
        return 0;
    }
    fprintf(stderr, "usage: ubench [syscalls] | fork MIB... | tree DIR FILES | gen FILE MIB | "
                    "time NAME CMD ARG... | tsc | calls | loop CALL | mmap MIB STEP_KIB [ro]\n");
    return 2;
}
