/*
 * ubench: costs of the Linux system-call interface on Samsara, for
 * `make bench`. Each figure is the median of 11 runs, in microseconds per
 * operation from CLOCK_MONOTONIC (1 ms resolution, so each run repeats the
 * operation enough times to last tens of milliseconds), and in TSC ticks per
 * operation: under -icount shift=0 a tick is one guest instruction, so that
 * column counts every instruction the operation costs, the kernel's and the
 * servers' included, and repeats exactly from run to run.
 */
#include <fcntl.h>
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

static void stop(int run, int ops)
{
    ticks[run] = (double)(rdtsc() - t_tsc) / ops;
    v[run] = (now_us() - t_us) / ops;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* UBENCH name us-median us-min us-max tsc-median */
static void report(const char *name)
{
    qsort(v, RUNS, sizeof(double), cmp);
    qsort(ticks, RUNS, sizeof(double), cmp);
    printf("UBENCH %s %.1f %.1f %.1f %.0f\n", name, v[RUNS / 2], v[0], v[RUNS - 1],
           ticks[RUNS / 2]);
}

/*
 * The data rows' 64 KiB buffer, mapped when they run and unmapped after: a static one would make
 * the program larger (and, before copy-on-write, fork slower in the rows before them).
 */
static char *buffer(void)
{
    char *b = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return b == MAP_FAILED ? 0 : b;
}

/* A file in ramfs read and written in 4 KiB and 64 KiB pieces (vfs -> ramfs data path). */
static void file_rw(void)
{
    char *buf = buffer();
    int fd = open("/tmp/ubench.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || !buf) {
        printf("ubench: cannot create /tmp/ubench.dat\n");
        return;
    }
    write(fd, buf, 65536); /* 64 KiB of data to read back */
    const struct {
        const char *name;
        int write;
        unsigned size, reps;
    } op[] = {
        {"file_write_4k", 1, 4096, 4000},
        {"file_read_4k", 0, 4096, 4000},
        {"file_write_64k", 1, 65536, 800},
        {"file_read_64k", 0, 65536, 800},
    };
    for (unsigned k = 0; k < sizeof(op) / sizeof(op[0]); k++) {
        for (int r = 0; r < RUNS; r++) {
            start();
            for (unsigned i = 0; i < op[k].reps; i++)
                if ((op[k].write ? pwrite(fd, buf, op[k].size, 0)
                                 : pread(fd, buf, op[k].size, 0)) != (ssize_t)op[k].size)
                    printf("ubench: %s came short\n", op[k].name);
            stop(r, (int)op[k].reps);
        }
        report(op[k].name);
    }
    close(fd);
    unlink("/tmp/ubench.dat");
    munmap(buf, 65536);
}

/*
 * /dev/demo written 4 KiB and 64 KiB at a time (vfs -> character driver data path). Each buffer
 * starts with demo's "lie 0", a command that changes nothing, and every byte of it is taken; a
 * write that comes short is followed by more until the size is written, as a program must (from
 * the buffer's start again: demo reads each write as a command).
 */
static void demo_rw(void)
{
    char *buf = buffer();
    int fd = open("/dev/demo", O_WRONLY);
    if (fd < 0 || !buf) {
        printf("ubench: no /dev/demo\n");
        return;
    }
    memcpy(buf, "lie 0", 6);
    const struct {
        const char *name;
        unsigned size, reps;
    } op[] = {{"demo_write_4k", 4096, 2000}, {"demo_write_64k", 65536, 400}};
    for (unsigned k = 0; k < sizeof(op) / sizeof(op[0]); k++) {
        for (int r = 0; r < RUNS; r++) {
            start();
            for (unsigned i = 0; i < op[k].reps; i++)
                for (unsigned done = 0; done < op[k].size;) {
                    ssize_t n = write(fd, buf, op[k].size - done);
                    if (n <= 0) {
                        printf("ubench: %s failed\n", op[k].name);
                        break;
                    }
                    done += (unsigned)n;
                }
            stop(r, (int)op[k].reps);
        }
        report(op[k].name);
    }
    close(fd);
    munmap(buf, 65536);
}

/* n forks, each child exiting at once or exec'ing /bin/true, each waited for. */
static void time_forks(const char *name, int n, int exec)
{
    for (int r = 0; r < RUNS; r++) {
        start();
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p < 0) {
                printf("ubench: fork failed\n");
                exit(1);
            }
            if (p == 0) {
                if (exec)
                    execl("/bin/true", "true", (char *)0);
                _exit(exec ? 127 : 0);
            }
            waitpid(p, 0, 0);
        }
        stop(r, n);
    }
    report(name);
}

/*
 * `ubench fork MIB...` (tools/bench_fork.py, on Samsara and on Linux): fork+exit+wait and
 * fork+exec+wait as the process grows, with MIB MiB of private memory mapped and touched.
 */
static int fork_sizes(int n, char **mib)
{
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)strtoul(mib[i], 0, 10) << 20;
        char *p =
            len ? mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : 0;
        if (p == MAP_FAILED) {
            printf("ubench: cannot map %s MiB\n", mib[i]);
            return 1;
        }
        memset(p, 1, len);
        char name[64];
        snprintf(name, sizeof(name), "fork_exit_wait_%sMiB", mib[i]);
        time_forks(name, 20, 0);
        snprintf(name, sizeof(name), "fork_exec_true_wait_%sMiB", mib[i]);
        time_forks(name, 20, 1);
        if (len)
            munmap(p, len);
    }
    printf("ubench: done\n");
    return 0;
}

/* Path lookups (the vfs name cache): stat of a 4-deep path, and open+close of it. */
static void paths(void)
{
    static const char *dirs[] = {"/tmp/ubp", "/tmp/ubp/a", "/tmp/ubp/a/b"},
                      *leaf = "/tmp/ubp/a/b/f";
    struct stat st;
    for (int i = 0; i < 3; i++)
        mkdir(dirs[i], 0755);
    close(open(leaf, O_WRONLY | O_CREAT, 0644));
    for (int r = 0; r < RUNS; r++) {
        start();
        for (int i = 0; i < 500; i++)
            stat(leaf, &st);
        stop(r, 500);
    }
    report("stat");
    for (int r = 0; r < RUNS; r++) {
        start();
        for (int i = 0; i < 500; i++)
            close(open(leaf, O_RDONLY));
        stop(r, 500);
    }
    report("open_close_4deep");
}

/* `ubench run PROGRAM ARGS...`: one run of a program, waited for (guest instructions). */
static int run_one(char **argv)
{
    start();
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("UBENCH run %.0f us, %llu ticks, status %d\n", now_us() - t_us,
           (unsigned long long)(rdtsc() - t_tsc), status);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "fork"))
        return fork_sizes(argc - 2, argv + 2);
    if (argc > 2 && !strcmp(argv[1], "run"))
        return run_one(argv + 2);
    if (argc > 1 && !strcmp(argv[1], "paths")) {
        paths();
        printf("ubench: done\n");
        return 0;
    }
    int null = open("/dev/null", O_WRONLY), fds[2], back[2];
    char c = 'x';
    for (int r = 0; r < RUNS; r++) { /* pm round trip */
        start();
        for (int i = 0; i < 2000; i++)
            syscall(SYS_getppid);
        stop(r, 2000);
    }
    report("getppid");
    for (int r = 0; r < RUNS; r++) { /* vfs round trip */
        start();
        for (int i = 0; i < 2000; i++)
            write(null, &c, 1);
        stop(r, 2000);
    }
    report("write_dev_null");
    pipe(fds);
    pipe(back);
    pid_t echo = fork();
    if (echo == 0) {
        close(fds[1]); /* or it would never see end of file */
        close(back[0]);
        while (read(fds[0], &c, 1) == 1)
            write(back[1], &c, 1);
        _exit(0);
    }
    for (int r = 0; r < RUNS; r++) { /* two processes, two pipes */
        start();
        for (int i = 0; i < 500; i++) {
            write(fds[1], &c, 1);
            read(back[0], &c, 1);
        }
        stop(r, 500);
    }
    report("pipe_pingpong");
    close(fds[1]);
    waitpid(echo, 0, 0);
    time_forks("fork_exit_wait", 50, 0);
    time_forks("fork_exec_true_wait", 20, 1);
    file_rw();
    demo_rw();
    paths();
    printf("ubench: done\n");
    return 0;
}
