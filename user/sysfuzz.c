/*
 * sysfuzz: random Linux system calls with random arguments, to show that
 * bad input gets errors and never takes down a server or the kernel.
 * Usage: sysfuzz [CALLS] (default 100000). The calls are made by a series
 * of child processes, 2,000 each, with stdin/stdout/stderr on /dev/null,
 * a 20 ms interval timer whose (non-restarting) handler ends any call that
 * would wait, and memory calls confined to a scratch window. Calls that
 * would end the experiment instead of testing it are not made: exit,
 * exec, fork/clone, kill, and changes to signal handling and timers.
 * Paths are those of a scratch directory, /tmp/fzd, which is the children's
 * working directory (root may remove anything, /dev/null included, so the
 * fuzzer keeps away from the rest of the tree).
 * A child that dies of a signal (it may unmap its own stack) is counted;
 * the parent starts another until the total is reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define PER_CHILD 2000
#define REPORT_FD 63
#define SCRATCH_WINDOW 0x600000000000ull

static uint64_t rng;
static uint8_t scratch[65536];
/* Paths inside the scratch directory (the children's cwd), and read-only ones. */
static const char *const paths[] = {"/tmp/fzd/a",
                                    "/tmp/fzd/b",
                                    "/tmp/fzd/sub",
                                    "/tmp/fzd/sub/x",
                                    "a",
                                    "b",
                                    "sub",
                                    "sub/../a",
                                    ".",
                                    "..",
                                    "",
                                    "/proc",
                                    "/proc/self/stat",
                                    "/nonexistent/a/b"};

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int excluded(long nr)
{
    switch (nr) {
    case SYS_exit:
    case SYS_exit_group:
    case SYS_execve:
    case SYS_fork:
    case SYS_vfork:
    case SYS_clone:
    case SYS_kill:
    case SYS_tkill:
    case SYS_tgkill:
    case SYS_rt_sigreturn:
    case SYS_rt_sigaction:
    case SYS_rt_sigprocmask:
    case SYS_setitimer:
    case SYS_alarm:
    case SYS_rt_sigsuspend:
    case SYS_execveat:
    case SYS_clone3:
        return 1;
    default:
        return 0;
    }
}

static int memory_call(long nr)
{
    return nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_madvise ||
           nr == SYS_mmap;
}

static uint64_t arg(void)
{
    uint64_t r = next();
    switch (r % 12) {
    case 0:
        return next(); /* anything */
    case 1:
        return (r >> 8) % 64; /* small: fds, flags */
    case 2:
        return (uint64_t)scratch + (r >> 8) % sizeof(scratch); /* a valid buffer */
    case 3:
        return (uint64_t)scratch + sizeof(scratch) - (r >> 8) % 64; /* runs off its end */
    case 4:
        return 0;
    case 5:
        return 0xffffffff80000000ull + ((r >> 8) & 0xffff); /* the kernel */
    case 6:
        return 0x0000800000000000ull + (r >> 8); /* non-canonical */
    case 7:
        return (uint64_t)paths[(r >> 8) % (sizeof(paths) / sizeof(paths[0]))];
    case 8:
        return (uint64_t)-1;
    case 9:
        return (uint64_t)-100; /* AT_FDCWD */
    case 10:
        return (r >> 8) % 70000; /* sizes */
    default:
        return (1ull << ((r >> 8) % 64)) + (r >> 16) % 3 - 1; /* 2^k and its neighbours */
    }
}

static void on_alarm(int s)
{
    (void)s;
}

static void child(uint64_t seed)
{
    rng = seed | 1;
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || chdir("/tmp/fzd") < 0)
        _exit(3); /* never fuzz with the console as stdout */
    for (int fd = 0; fd < 3; fd++)
        dup2(null, fd);
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: waits end with EINTR */
    sigaction(SIGALRM, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, 0);
    long counts[4] = {0}; /* ok, EFAULT, other errors, ENOSYS */
    for (int i = 1; i <= PER_CHILD; i++) {
        long nr = (long)(next() % 340);
        if (excluded(nr))
            nr = SYS_getpid;
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = arg();
        if (memory_call(nr)) /* only inside the scratch window */
            a[0] = SCRATCH_WINDOW + (a[0] % (1ull << 30) & ~4095ull);
        long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        counts[r >= 0 ? 0 : errno == EFAULT ? 1 : errno == ENOSYS ? 3 : 2]++;
        if (i % 500 == 0) {
            char line[96];
            int n = snprintf(line, sizeof(line), "%d %ld %ld %ld %ld\n", 500, counts[0], counts[1],
                             counts[2], counts[3]);
            write(REPORT_FD, line, (size_t)n);
            memset(counts, 0, sizeof(counts));
        }
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    long want = argc > 1 ? atol(argv[1]) : 100000, done = 0, children = 0, killed = 0;
    long total[4] = {0};
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    mkdir("/tmp/fzd", 0755);
    while (done < want) {
        int fds[2];
        if (pipe(fds) < 0)
            return 2;
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], REPORT_FD);
            close(fds[0]);
            close(fds[1]);
            child(seed + (uint64_t)children * 7919);
        }
        close(fds[1]);
        FILE *in = fdopen(fds[0], "r");
        long n, c0, c1, c2, c3;
        while (in && fscanf(in, "%ld %ld %ld %ld %ld", &n, &c0, &c1, &c2, &c3) == 5) {
            done += n;
            total[0] += c0, total[1] += c1, total[2] += c2, total[3] += c3;
        }
        if (in)
            fclose(in);
        int st;
        waitpid(pid, &st, 0);
        children++;
        killed += WIFSIGNALED(st);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
            printf("sysfuzz: a child could not set up (/dev/null or /tmp/fzd missing)\n");
            return 1;
        }
    }
    /* still alive and sane: a process, a file, a pipe */
    int fds[2];
    char buf[4];
    pid_t pid = fork();
    if (pid == 0)
        _exit(9);
    int st;
    int sane = pid > 0 && waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 9 && pipe(fds) == 0 &&
               write(fds[1], "ok", 2) == 2 && read(fds[0], buf, 4) == 2;
    printf("sysfuzz: %ld calls in %ld processes (%ld died of signals): %ld succeeded, %ld EFAULT, "
           "%ld other errors, %ld ENOSYS; system %s\n",
           done, children, killed, total[0], total[1], total[2], total[3],
           sane ? "sane" : "BROKEN");
    return sane ? 0 : 1;
}
