/*
 * utest: the in-OS test suite of the Linux system-call interface, built
 * with Debian's musl-gcc -static like any user program. A table of tests,
 * each run in its own child process (xv6 usertests style); each prints
 * "TEST u.NAME PASS|FAIL" and the run ends with "utest: N passed, M
 * failed". Usage: utest [NAME]; utest --child MODE is used by the tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *current;
static char self_path[] = "/bin/utest";

#define CHECK(c)                                                                        \
    do {                                                                                \
        if (!(c)) {                                                                     \
            printf("FAIL u.%s: %s:%d: %s (errno %d)\n", current, __FILE__, __LINE__, #c, errno); \
            fflush(stdout);                                                             \
            _exit(1);                                                                   \
        }                                                                               \
    } while (0)
#define ERR(call, e) CHECK((call) == -1 && errno == (e))

/* Run f in a child; its wait status. */
static int in_child(void (*f)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        f();
        _exit(0);
    }
    int st;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    return st;
}

/* ---- processes */
static void t_fork_wait(void)
{
    pid_t me = getpid(), pid = fork();
    if (pid == 0) {
        CHECK(getppid() == me && getpid() != me && syscall(SYS_gettid) == getpid());
        _exit(42);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 42);
    ERR(waitpid(-1, &st, 0), ECHILD);
    ERR(waitpid(pid, &st, WNOHANG), ECHILD);
}

static void t_wait_nohang(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(fds[0], &c, 1); /* until the parent writes */
        _exit(3);
    }
    int st;
    CHECK(waitpid(-1, &st, WNOHANG) == 0);
    CHECK(write(fds[1], "x", 1) == 1);
    CHECK(wait(&st) == pid && WEXITSTATUS(st) == 3);
}

static void t_exec(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {self_path, "--child", "args", "two words", 0};
        char *envp[] = {"SAMSARA=yes", 0};
        execve(self_path, argv, envp);
        _exit(99);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    char *none[] = {"x", 0};
    ERR(execve("/no/such/program", none, none), ENOENT);
    ERR(execve("/tmp", none, none), EACCES);
    int fd = open("/tmp/notelf", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    CHECK(fd >= 0 && write(fd, "just text\n", 10) == 10 && close(fd) == 0);
    ERR(execve("/tmp/notelf", none, none), ENOEXEC);
    ERR(syscall(SYS_execve, (char *)1, none, none), EFAULT);
    unlink("/tmp/notelf");
}

static void t_exec_cloexec(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), keep = open("/dev/null", O_RDONLY);
    CHECK(fd >= 0 && keep >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        char a[16], b[16];
        snprintf(a, sizeof(a), "%d", fd);
        snprintf(b, sizeof(b), "%d", keep);
        char *argv[] = {self_path, "--child", "fds", a, b, 0};
        execv(self_path, argv);
        _exit(99);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 0);
}

static void t_ids(void)
{
    CHECK(getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0);
    CHECK(setuid(0) == 0);
    CHECK(getpgid(0) == getpgrp() && getsid(0) > 0);
    CHECK(setpgid(0, 0) == 0 && getpgrp() == getpid());
    ERR(setsid(), EPERM); /* a group leader */
    ERR(kill(99999, 0), ESRCH);
    ERR(kill(getpid(), 65), EINVAL);
    CHECK(kill(getpid(), 0) == 0);
}

static void t_sigchld_ignored_reaps(void)
{
    /* SIGCHLD ignored (or SA_NOCLDWAIT): children leave no zombie, wait ends in ECHILD */
    struct sigaction sa = {.sa_handler = SIG_IGN};
    CHECK(sigaction(SIGCHLD, &sa, 0) == 0);
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    CHECK(c > 0);
    ERR(waitpid(-1, 0, 0), ECHILD); /* blocks until the child is gone */
    ERR(kill(c, 0), ESRCH);
    sa = (struct sigaction){.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
    CHECK(sigaction(SIGCHLD, &sa, 0) == 0);
    c = fork();
    if (c == 0)
        _exit(7);
    ERR(waitpid(c, 0, 0), ECHILD);
}

static void t_munmap_brk_frees(void)
{
    /* brk pages given back with munmap count as given back: 150 MiB of them, then
       120 MiB of mmap fit under the 256 MiB limit */
    uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0), top = (cur + 4095) & ~(uintptr_t)4095;
    size_t big = 150u << 20, more = 120u << 20;
    CHECK((uintptr_t)syscall(SYS_brk, top + big) == top + big);
    ((volatile char *)top)[big - 1] = 1;
    CHECK(munmap((void *)top, big) == 0);
    char *p = mmap(0, more, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    p[more - 1] = 1;
    CHECK(munmap(p, more) == 0);
    CHECK((uintptr_t)syscall(SYS_brk, top) == top);
}

static void t_fork_bomb(void)
{
    /* forks until EAGAIN; the children wait on a pipe, then all exit */
    int fds[2], n = 0;
    CHECK(pipe(fds) == 0);
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(fds[1]);
            read(fds[0], &c, 1);
            _exit(0);
        }
        if (pid < 0) {
            CHECK(errno == EAGAIN || errno == ENOMEM);
            break;
        }
        CHECK(++n < 1000);
    }
    close(fds[1]); /* EOF wakes them all */
    for (int i = 0; i < n; i++)
        CHECK(wait(0) > 0);
    printf("u.fork_bomb: %d children before EAGAIN\n", n);
    CHECK(n > 10);
}

/* ---- memory */
static void t_malloc(void)
{
    char *small = malloc(100), *big = malloc(10 << 20);
    CHECK(small && big);
    memset(big, 0x5a, 10 << 20);
    CHECK(big[(10 << 20) - 1] == 0x5a);
    free(big);
    free(small);
    char *b0 = (char *)syscall(SYS_brk, 0); /* musl's brk() refuses on purpose: the raw call */
    CHECK((char *)syscall(SYS_brk, b0 + 65536) == b0 + 65536);
    b0[65535] = 1;
    CHECK((char *)syscall(SYS_brk, b0) == b0);
}

static void t_mmap(void)
{
    char *p = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED && p[0] == 0 && p[3 * 4096 - 1] == 0);
    p[4096] = 7;
    CHECK(munmap(p, 4096) == 0 && p[4096] == 7);
    char *r = mmap(0, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED && mprotect(r, 8192, PROT_READ | PROT_WRITE) == 0);
    r[8191] = 1;
    CHECK(mmap(0, 4096, PROT_READ, MAP_PRIVATE, 0, 0) == MAP_FAILED && errno == ENODEV);
    CHECK(mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
    ERR(munmap((void *)1, 4096), EINVAL);
}

static void touch_protected(void)
{
    char *r = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED && mprotect(r, 4096, PROT_NONE) == 0);
    r[0] = 1; /* must not survive */
    _exit(5);
}

static void t_segv(void)
{
    int st = in_child(touch_protected);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

static void exhaust(void)
{
    size_t total = 0;
    for (;;) {
        char *p = malloc(1 << 20);
        if (!p)
            break;
        memset(p, 1, 1 << 20);
        total += 1 << 20;
    }
    printf("u.out_of_memory: malloc failed cleanly after %zu MiB\n", total >> 20);
    _exit(total > (16u << 20) ? 0 : 1);
}

static void t_out_of_memory(void)
{
    int st = in_child(exhaust);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- signals */
static volatile int got;
static void on_signal(int s) { got = s; }

static void t_signal_handler(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    CHECK(sigaction(SIGUSR1, &sa, 0) == 0);
    got = 0;
    CHECK(kill(getpid(), SIGUSR1) == 0 && got == SIGUSR1);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
    got = 0;
    CHECK(kill(getpid(), SIGUSR1) == 0 && got == 0);
    sigset_t pend;
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1));
    CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0 && got == SIGUSR1);
    ERR(sigaction(SIGKILL, &sa, 0), EINVAL);
}

static void t_alarm_pause(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    CHECK(sigaction(SIGALRM, &sa, 0) == 0);
    got = 0;
    alarm(1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ERR(pause(), EINTR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(got == SIGALRM && t1.tv_sec - t0.tv_sec >= 0 && (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 900);
    struct itimerval it = {.it_value = {0, 50000}, .it_interval = {0, 50000}}, cur;
    CHECK(setitimer(ITIMER_REAL, &it, 0) == 0 && getitimer(ITIMER_REAL, &cur) == 0);
    got = 0;
    while (!got)
        pause();
    it = (struct itimerval){0};
    CHECK(setitimer(ITIMER_REAL, &it, 0) == 0);
}

static void t_signal_interrupts_read(void)
{
    int fds[2];
    struct sigaction sa = {.sa_handler = on_signal};
    CHECK(pipe(fds) == 0 && sigaction(SIGALRM, &sa, 0) == 0);
    alarm(1);
    char c;
    ERR(read(fds[0], &c, 1), EINTR); /* blocked in vfs, interrupted by pm */
}

static volatile double handler_sink;
static void fpu_handler(int s)
{
    double x = s; /* a handler that uses SSE registers freely */
    for (int i = 0; i < 2000; i++)
        x = x * 1.0001 + 0.5;
    handler_sink = x;
    got++;
}

static double fpu_work(volatile int n) /* volatile: each call really computes */
{
    double a = 1.0, b = 0.5, c = 0.25; /* bounded: never inf or NaN */
    for (int i = 0; i < n; i++) {
        a = a * 0.999999 + 1.5 / (i + 1.0);
        b = b * 0.5 + a * 1e-3;
        c = c * 0.9 + b * 0.1;
    }
    return a + b + c;
}

static void t_signal_keeps_fpu(void)
{
    double expected = fpu_work(3000000);
    struct sigaction sa = {.sa_handler = fpu_handler, .sa_flags = SA_RESTART};
    CHECK(sigaction(SIGALRM, &sa, 0) == 0);
    struct itimerval it = {.it_value = {0, 1000}, .it_interval = {0, 1000}};
    got = 0;
    CHECK(setitimer(ITIMER_REAL, &it, 0) == 0);
    double with_signals = fpu_work(3000000); /* interrupted by many handlers */
    it = (struct itimerval){0};
    setitimer(ITIMER_REAL, &it, 0);
    printf("u.signal_keeps_fpu: %d handlers ran during the computation\n", got);
    CHECK(got > 5 && with_signals == expected && expected == expected); /* not NaN */
}

static void t_default_actions(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    int st;
    CHECK(kill(pid, SIGTERM) == 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

static void t_sigchld(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    CHECK(sigaction(SIGCHLD, &sa, 0) == 0);
    got = 0;
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(fds[0], &c, 1);
        _exit(0);
    }
    /* without SA_RESTART the handler ends the wait with EINTR ... */
    alarm(1);
    struct sigaction al = {.sa_handler = on_signal};
    CHECK(sigaction(SIGALRM, &al, 0) == 0);
    ERR(waitpid(pid, 0, 0), EINTR);
    /* ... with SA_RESTART the wait goes on after the handler */
    sa.sa_flags = SA_RESTART;
    al.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGCHLD, &sa, 0) == 0 && sigaction(SIGALRM, &al, 0) == 0);
    alarm(1);
    pid_t writer = fork();
    if (writer == 0) {
        struct timespec t = {1, 500000000};
        nanosleep(&t, 0); /* after the alarm: the wait below is interrupted, then restarted */
        write(fds[1], "x", 1);
        _exit(0);
    }
    got = 0;
    CHECK(waitpid(pid, 0, 0) == pid);
    CHECK(got == SIGCHLD || got == SIGALRM);
    CHECK(waitpid(writer, 0, 0) == writer);
}

static void t_sigpipe(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0 && close(fds[0]) == 0);
    signal(SIGPIPE, SIG_IGN);
    ERR(write(fds[1], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    pid_t pid = fork();
    if (pid == 0) {
        write(fds[1], "x", 1);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
}

/* ---- time and system */
static void t_time(void)
{
    struct timespec a, b, req = {0, 200 * 1000 * 1000};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0 && nanosleep(&req, 0) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CHECK(ms >= 200 && ms < 2000);
    struct timeval tv;
    CHECK(gettimeofday(&tv, 0) == 0 && tv.tv_sec > 1600000000 && time(0) >= tv.tv_sec);
    CHECK(syscall(SYS_clock_gettime, 0, &a) == 0); /* no vDSO: the real call */
    ERR(clock_gettime(99, &a), EINVAL);
    req.tv_nsec = 2000000000;
    ERR(nanosleep(&req, 0), EINVAL);
    /* a signal ends a sleep with EINTR and the time left in rem */
    struct sigaction al = {.sa_handler = on_signal};
    CHECK(sigaction(SIGALRM, &al, 0) == 0);
    struct itimerval it = {.it_value = {0, 100000}};
    CHECK(setitimer(ITIMER_REAL, &it, 0) == 0);
    struct timespec rem = {-1, -1};
    req = (struct timespec){2, 0};
    ERR(nanosleep(&req, &rem), EINTR);
    ms = rem.tv_sec * 1000 + rem.tv_nsec / 1000000;
    CHECK(rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000 && ms > 1000 && ms <= 1950);
}

static void t_system_info(void)
{
    struct utsname u;
    struct sysinfo si;
    CHECK(uname(&u) == 0 && !strcmp(u.sysname, "Samsara") && !strcmp(u.machine, "x86_64"));
    CHECK(sysinfo(&si) == 0 && si.totalram > si.freeram && si.freeram > 0 && si.procs >= 2);
    CHECK(getauxval(AT_PAGESZ) == 4096 && getauxval(AT_RANDOM) != 0 && getauxval(AT_ENTRY) != 0);
    ERR(syscall(999), ENOSYS);
    ERR(uname((struct utsname *)16), EFAULT);
}

/* ---- files */
static void t_files(void)
{
    char buf[64];
    int fd = open("/tmp/u1", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "hello world", 11) == 11);
    CHECK(lseek(fd, 6, SEEK_SET) == 6 && read(fd, buf, 64) == 5 && !memcmp(buf, "world", 5));
    CHECK(pwrite(fd, "W", 1, 6) == 1 && pread(fd, buf, 5, 6) == 5 && !memcmp(buf, "World", 5));
    CHECK(lseek(fd, 0, SEEK_END) == 11 && lseek(fd, 100, SEEK_SET) == 100 && write(fd, "!", 1) == 1);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 101 && S_ISREG(st.st_mode));
    CHECK(pread(fd, buf, 3, 50) == 3 && buf[0] == 0); /* a hole reads as zeros */
    CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
    ERR(lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK(close(fd) == 0);
    ERR(close(fd), EBADF);
    ERR(open("/tmp/u1", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
    ERR(open("/tmp/none/x", O_RDONLY), ENOENT);
    ERR(open("/tmp/u1/x", O_RDONLY), ENOTDIR);
    ERR(open("/tmp", O_WRONLY), EISDIR);
    ERR(read(999, buf, 1), EBADF);
    ERR(syscall(SYS_read, 0 + open("/tmp/u1", O_RDONLY), (void *)8, 4), EFAULT);
    ERR(syscall(SYS_open, (void *)8, O_RDONLY), EFAULT);
    char longname[300];
    memset(longname, 'a', 299);
    longname[299] = 0;
    ERR(open(longname, O_RDONLY), ENAMETOOLONG);
    CHECK(stat("/tmp/u1", &st) == 0 && st.st_size == 5 && unlink("/tmp/u1") == 0);
    ERR(stat("/tmp/u1", &st), ENOENT);
}

static void t_dirs(void)
{
    char buf[256];
    CHECK(mkdir("/tmp/ud", 0755) == 0 && mkdir("/tmp/ud/sub", 0755) == 0);
    ERR(mkdir("/tmp/ud", 0755), EEXIST);
    ERR(rmdir("/tmp/ud"), ENOTEMPTY);
    CHECK(chdir("/tmp/ud/sub") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/ud/sub"));
    ERR(getcwd(buf, 3) ? 0 : -1, ERANGE);
    CHECK(chdir("..") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/ud"));
    char want[32]; /* across the /proc mount */
    snprintf(want, sizeof(want), "/proc/%d", (int)getpid());
    CHECK(chdir("/proc/self") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, want));
    CHECK(chdir("/proc") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/proc"));
    CHECK(chdir("/tmp/ud") == 0);
    int fd = open("f", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0 && close(fd) == 0);
    CHECK(symlink("f", "link") == 0 && readlink("link", buf, sizeof(buf)) == 1 && buf[0] == 'f');
    CHECK(link("f", "hard") == 0);
    struct stat st;
    CHECK(stat("hard", &st) == 0 && st.st_nlink == 2 && lstat("link", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(rename("hard", "moved") == 0 && access("moved", F_OK) == 0);
    ERR(access("hard", F_OK), ENOENT);
    DIR *d = opendir(".");
    int n = 0;
    struct dirent *e;
    CHECK(d);
    while ((e = readdir(d)))
        n++;
    closedir(d);
    CHECK(n == 6); /* . .. sub f link moved */
    CHECK(unlink("f") == 0 && unlink("link") == 0 && unlink("moved") == 0 && rmdir("sub") == 0);
    CHECK(chdir("/") == 0 && rmdir("/tmp/ud") == 0);
    ERR(rmdir("/tmp/ud"), ENOENT);
}

static void t_dup_fcntl(void)
{
    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0);
    int d = dup(fd), d2 = dup2(fd, 20), d3 = fcntl(fd, F_DUPFD_CLOEXEC, 30);
    CHECK(d > fd && d2 == 20 && d3 >= 30);
    CHECK(fcntl(d3, F_GETFD) == FD_CLOEXEC && fcntl(d, F_GETFD) == 0);
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(d, F_GETFL) & O_NONBLOCK)); /* shared */
    CHECK(dup3(fd, 21, O_CLOEXEC) == 21 && fcntl(21, F_GETFD) == FD_CLOEXEC);
    ERR(dup3(fd, fd, 0), EINVAL);
    ERR(dup2(99, 5), EBADF);
    ERR(fcntl(fd, 9999), EINVAL);
}

static void t_pipes(void)
{
    int fds[2];
    char buf[8];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec t = {0, 100000000};
        nanosleep(&t, 0);
        write(fds[1], "late", 4); /* the parent is blocked in read */
        _exit(0);
    }
    CHECK(read(fds[0], buf, 8) == 4 && !memcmp(buf, "late", 4));
    CHECK(waitpid(pid, 0, 0) == pid);
    CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
    ERR(read(fds[0], buf, 8), EAGAIN);
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLOUT, 0}};
    CHECK(poll(p, 2, 0) == 1 && p[1].revents == POLLOUT);
    CHECK(write(fds[1], "ab", 2) == 2 && poll(p, 1, 100) == 1 && (p[0].revents & POLLIN));
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    struct timeval tv = {0, 0};
    CHECK(select(fds[0] + 1, &rd, 0, 0, &tv) == 1 && FD_ISSET(fds[0], &rd));
    CHECK(close(fds[1]) == 0 && read(fds[0], buf, 8) == 2 && read(fds[0], buf, 8) == 0);
    p[0].revents = 0;
    CHECK(poll(p, 1, 0) == 1 && (p[0].revents & POLLHUP));
    int t0 = (int)time(0);
    int pf[2];
    CHECK(pipe2(pf, O_CLOEXEC) == 0 && poll((struct pollfd[]){{pf[0], POLLIN, 0}}, 1, 300) == 0);
    CHECK((int)time(0) - t0 < 3);
}

static void t_devices(void)
{
    char buf[16] = "xxxxxxxxxxxxxxx";
    int z = open("/dev/zero", O_RDONLY), n = open("/dev/null", O_RDWR);
    CHECK(z >= 0 && n >= 0 && read(z, buf, 16) == 16 && buf[15] == 0);
    CHECK(write(n, buf, 16) == 16 && read(n, buf, 16) == 0);
    CHECK(isatty(0) && !isatty(n) && errno == ENOTTY);
    struct winsize ws;
    CHECK(ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0);
}

static void t_proc(void)
{
    char buf[256], path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", getpid());
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    int len = (int)read(fd, buf, sizeof(buf) - 1);
    CHECK(len > 0);
    buf[len] = 0;
    int pid;
    char comm[32];
    CHECK(sscanf(buf, "%d (%31[^)])", &pid, comm) == 2 && pid == getpid() && !strcmp(comm, "utest"));
    CHECK(readlink("/proc/self/exe", buf, sizeof(buf)) > 0);
    fd = open("/proc/mounts", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) > 0);
}

/* ---- users and permissions: pm keeps the ids, vfs checks them */
#define USER 1000

/* Become uid and gid 1000 with no other groups, as su does. */
static void become_user(void)
{
    CHECK(setgroups(0, 0) == 0 && setgid(USER) == 0 && setuid(USER) == 0);
    CHECK(getuid() == USER && geteuid() == USER && getgid() == USER && getegid() == USER);
}

/* Run f in a child that has become the user; it must pass. */
static void as_user(void (*f)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        become_user();
        f();
        _exit(0);
    }
    int st;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A root-owned file with the given mode holding "root\n". */
static void root_file(const char *path, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "root\n", 5) == 5 && fchmod(fd, mode) == 0 && close(fd) == 0);
}

static void t_users_id_rules(void)
{
    uid_t r, e, s;
    gid_t groups[4] = {7, USER, 5, 0};
    CHECK(setgroups(3, groups) == 0 && getgroups(0, 0) == 3);
    ERR(getgroups(2, groups), EINVAL);
    CHECK(getgroups(4, groups) == 3 && groups[0] == 5 && groups[1] == 7 && groups[2] == USER);
    CHECK(syscall(SYS_setresgid, USER, USER, USER) == 0 && getgid() == USER && getegid() == USER);
    CHECK(syscall(SYS_setresuid, USER, 2000, 0) == 0 && getuid() == USER && geteuid() == 2000);
    CHECK(syscall(SYS_getresuid, &r, &e, &s) == 0 && r == USER && e == 2000 && s == 0);
    ERR(setuid(3000), EPERM); /* not root now: only among its own ids */
    ERR(setgroups(0, 0), EPERM);
    ERR(syscall(SYS_setresgid, 0, -1, -1), EPERM);
    CHECK(setuid(0) == 0 && geteuid() == 0 && getuid() == USER); /* 0 is its saved uid */
    CHECK(setreuid(-1, 2000) == 0 && syscall(SYS_getresuid, &r, &e, &s) == 0 && s == 2000);
    CHECK(seteuid(0) == -1 && syscall(SYS_setresuid, -1, USER, -1) == 0); /* 0 is gone from all three */
    CHECK(syscall(SYS_getresuid, &r, &e, &s) == 0 && r == USER && e == USER && s == 2000);
    CHECK(setuid(2000) == 0 && getuid() == USER); /* unprivileged: the effective uid only */
    ERR(setuid(0), EPERM);
    ERR(setreuid(-1, 0), EPERM);
    ERR(setuid(-1), EINVAL);
    CHECK(setfsuid(0) == 2000 && setfsuid(-1) == 2000); /* refused; the old one is reported */
    ERR(kill(1, 0), EPERM);                             /* init is root's */
    CHECK(kill(getpid(), 0) == 0);
}

static void t_users_devices(void)
{
    struct stat st;
    CHECK(stat("/dev/service", &st) == 0 && st.st_mode == (S_IFCHR | 0600) && st.st_uid == 0);
    CHECK(stat("/dev/null", &st) == 0 && st.st_mode == (S_IFCHR | 0666));
    CHECK(stat("/dev/console", &st) == 0 && st.st_mode == (S_IFCHR | 0620) && st.st_gid == 5);
    become_user();
    ERR(open("/dev/service", O_RDWR), EACCES);
    ERR(open("/dev/service", O_RDONLY), EACCES);
    ERR(chmod("/dev/service", 0666), EPERM);
    ERR(setuid(0), EPERM);
    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0);
}

static void user_files(void)
{
    struct stat st;
    int fd = open("/tmp/u_root", O_RDONLY);
    CHECK(fd >= 0 && close(fd) == 0); /* others may read it */
    ERR(open("/tmp/u_root", O_WRONLY), EACCES);
    ERR(open("/tmp/u_root", O_RDONLY | O_TRUNC), EACCES);
    ERR(truncate("/tmp/u_root", 0), EACCES);
    ERR(access("/tmp/u_root", W_OK), EACCES);
    CHECK(access("/tmp/u_root", R_OK) == 0);
    ERR(chmod("/tmp/u_root", 0666), EPERM);
    ERR(chown("/tmp/u_root", USER, USER), EPERM);
    ERR(unlink("/tmp/u_root"), EPERM); /* /tmp is sticky: only owners remove */
    ERR(rename("/tmp/u_root", "/tmp/u_moved"), EPERM);
    ERR(link("/tmp/u_root", "/tmp/u_link"), EPERM); /* protected_hardlinks */
    ERR(utimensat(AT_FDCWD, "/tmp/u_root", 0, 0), EACCES);
    ERR(mkdir("/u_dir", 0755), EACCES);
    ERR(mkdir("/tmp", 0755), EEXIST);
    ERR(open("/etc/u_new", O_CREAT | O_WRONLY, 0644), EACCES);
    ERR(open("/etc/shadow", O_RDONLY), EACCES);
    fd = open("/tmp/u_mine", O_CREAT | O_WRONLY | O_EXCL, 0666);
    CHECK(fd >= 0 && write(fd, "mine\n", 5) == 5 && fstat(fd, &st) == 0 && close(fd) == 0);
    CHECK(st.st_uid == USER && st.st_gid == USER && st.st_mode == (S_IFREG | 0644)); /* umask 022 */
    CHECK(chmod("/tmp/u_mine", 0400) == 0 && utimensat(AT_FDCWD, "/tmp/u_mine", 0, 0) == 0);
    ERR(open("/tmp/u_mine", O_WRONLY), EACCES); /* its owner's bits say r-- */
    ERR(chown("/tmp/u_mine", 0, -1), EPERM);    /* giving files away is root's */
    ERR(chown("/tmp/u_mine", -1, 0), EPERM);    /* not one of its groups */
    CHECK(chown("/tmp/u_mine", -1, USER) == 0 && rename("/tmp/u_mine", "/tmp/u_mine2") == 0);
    fd = open("/tmp/u_ro", O_CREAT | O_WRONLY | O_EXCL, 0444); /* a new file opens as asked */
    CHECK(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0);
    CHECK(unlink("/tmp/u_ro") == 0 && unlink("/tmp/u_mine2") == 0);
}

static void t_users_files(void)
{
    unlink("/tmp/u_mine");
    unlink("/tmp/u_mine2");
    unlink("/tmp/u_ro");
    root_file("/tmp/u_root", 0644);
    umask(022);
    as_user(user_files);
    struct stat st;
    CHECK(stat("/tmp/u_root", &st) == 0 && st.st_size == 5 && unlink("/tmp/u_root") == 0);
}

static void user_sees_sgid_dir(void)
{
    struct stat st;
    int fd = creat("/tmp/u_sgid/f", 0644);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && close(fd) == 0);
    CHECK(st.st_uid == USER && st.st_gid == 50); /* the directory's group */
    CHECK(mkdir("/tmp/u_sgid/d", 0755) == 0 && stat("/tmp/u_sgid/d", &st) == 0);
    CHECK(st.st_gid == 50 && (st.st_mode & S_ISGID)); /* inherited */
    int fds[2];
    CHECK(pipe(fds) == 0 && fstat(fds[0], &st) == 0 && st.st_uid == USER);
}

static void t_users_new_file_owner(void)
{
    struct stat st;
    unlink("/tmp/u_new");
    umask(027);
    int fd = open("/tmp/u_new", O_CREAT | O_WRONLY | O_EXCL, 0666);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && close(fd) == 0 && unlink("/tmp/u_new") == 0);
    CHECK(st.st_uid == 0 && st.st_gid == 0 && st.st_mode == (S_IFREG | 0640));
    unlink("/tmp/u_sgid/f");
    rmdir("/tmp/u_sgid/d");
    rmdir("/tmp/u_sgid");
    CHECK(mkdir("/tmp/u_sgid", 0777) == 0 && chown("/tmp/u_sgid", 0, 50) == 0);
    CHECK(chmod("/tmp/u_sgid", 02777) == 0);
    as_user(user_sees_sgid_dir);
    CHECK(unlink("/tmp/u_sgid/f") == 0 && rmdir("/tmp/u_sgid/d") == 0 && rmdir("/tmp/u_sgid") == 0);
}

static int dir_mode; /* t_users_dir_search: the mode /tmp/u_dir has now */

static void user_searches(void)
{
    struct stat st;
    int search = dir_mode & 1, read = dir_mode & 4;
    CHECK(search ? stat("/tmp/u_dir/f", &st) == 0 : stat("/tmp/u_dir/f", &st) == -1 && errno == EACCES);
    int fd = open("/tmp/u_dir", O_RDONLY | O_DIRECTORY);
    CHECK(read ? fd >= 0 : fd == -1 && errno == EACCES);
    CHECK(search ? chdir("/tmp/u_dir") == 0 : chdir("/tmp/u_dir") == -1 && errno == EACCES);
    ERR(open("/tmp/u_dir/new", O_CREAT | O_WRONLY, 0644), EACCES); /* never writable */
}

static void t_users_dir_search(void)
{
    unlink("/tmp/u_dir/f");
    rmdir("/tmp/u_dir");
    CHECK(mkdir("/tmp/u_dir", 0700) == 0);
    int fd = creat("/tmp/u_dir/f", 0644);
    CHECK(fd >= 0 && close(fd) == 0);
    static const int modes[] = {0700, 0701, 0704, 0705};
    for (int i = 0; i < 4; i++) {
        dir_mode = modes[i];
        CHECK(chmod("/tmp/u_dir", (mode_t)dir_mode) == 0);
        as_user(user_searches);
    }
    CHECK(unlink("/tmp/u_dir/f") == 0 && rmdir("/tmp/u_dir") == 0);
}

static void t_users_access_real_ids(void)
{
    ERR(access("/etc/passwd", X_OK), EACCES); /* root executes only what has an x bit */
    CHECK(access("/etc/passwd", W_OK) == 0 && access("/tmp", X_OK) == 0);
    CHECK(syscall(SYS_setresuid, USER, 0, 0) == 0);
    ERR(access("/etc/shadow", R_OK), EACCES); /* access asks with the real uid */
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "/etc/shadow", R_OK, AT_EACCESS) == 0);
    ERR(syscall(SYS_faccessat2, AT_FDCWD, "/etc/shadow", 8, 0), EINVAL);
    int fd = open("/etc/shadow", O_RDONLY); /* the effective uid opens it */
    CHECK(fd >= 0 && close(fd) == 0);
}

static void t_users_setuid_exec(void)
{
    static char buf[65536];
    unlink("/tmp/u_suid");
    int in = open(self_path, O_RDONLY), out = open("/tmp/u_suid", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    CHECK(in >= 0 && out >= 0);
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        CHECK(write(out, buf, (size_t)n) == n);
    CHECK(n == 0 && close(in) == 0 && close(out) == 0);
    CHECK(chown("/tmp/u_suid", USER, USER) == 0 && chmod("/tmp/u_suid", 06755) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        CHECK(setgroups(0, 0) == 0 && setgid(2000) == 0 && setuid(2000) == 0);
        execl("/tmp/u_suid", "u_suid", "--child", "setuid", (char *)0);
        _exit(99);
    }
    int st;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct stat s;
    CHECK(stat("/tmp/u_suid", &s) == 0 && (s.st_mode & 07000) == 06000);
    CHECK(chown("/tmp/u_suid", USER, USER) == 0 && stat("/tmp/u_suid", &s) == 0 && !(s.st_mode & 07000));
    CHECK(unlink("/tmp/u_suid") == 0);
}

/* The exec'd side of t_users_setuid_exec: runs as 2000 with the program owner's ids, 1000. */
static int setuid_child(void)
{
    uid_t r, e, s;
    CHECK(syscall(SYS_getresuid, &r, &e, &s) == 0 && r == 2000 && e == USER && s == USER);
    CHECK(getgid() == 2000 && getegid() == USER && getauxval(AT_SECURE) == 1);
    CHECK(setuid(2000) == 0 && setuid(USER) == 0); /* back and forth among its own */
    ERR(open("/dev/service", O_RDWR), EACCES);
    return 0;
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"fork_wait", t_fork_wait},
    {"wait_nohang", t_wait_nohang},
    {"exec", t_exec},
    {"exec_cloexec", t_exec_cloexec},
    {"ids_and_groups", t_ids},
    {"fork_bomb", t_fork_bomb},
    {"munmap_brk_frees", t_munmap_brk_frees},
    {"malloc_brk", t_malloc},
    {"mmap", t_mmap},
    {"segv_kills", t_segv},
    {"out_of_memory", t_out_of_memory},
    {"signal_handler", t_signal_handler},
    {"alarm_pause_itimer", t_alarm_pause},
    {"signal_interrupts_read", t_signal_interrupts_read},
    {"default_actions", t_default_actions},
    {"signal_keeps_fpu", t_signal_keeps_fpu},
    {"sigchld_ignored_reaps", t_sigchld_ignored_reaps},
    {"sigchld", t_sigchld},
    {"sigpipe", t_sigpipe},
    {"time", t_time},
    {"system_info", t_system_info},
    {"files", t_files},
    {"dirs", t_dirs},
    {"dup_fcntl", t_dup_fcntl},
    {"pipes", t_pipes},
    {"devices", t_devices},
    {"proc", t_proc},
    {"users_id_rules", t_users_id_rules},
    {"users_devices", t_users_devices},
    {"users_files", t_users_files},
    {"users_new_file_owner", t_users_new_file_owner},
    {"users_dir_search", t_users_dir_search},
    {"users_access_real_ids", t_users_access_real_ids},
    {"users_setuid_exec", t_users_setuid_exec},
};

/* The exec'd side of some tests. */
static int child_mode(int argc, char **argv)
{
    current = argv[2];
    if (!strcmp(argv[2], "args")) {
        CHECK(argc == 4 && !strcmp(argv[3], "two words"));
        CHECK(getenv("SAMSARA") && !strcmp(getenv("SAMSARA"), "yes"));
        return 7;
    }
    if (!strcmp(argv[2], "setuid"))
        return setuid_child();
    if (!strcmp(argv[2], "fds")) {
        char c;
        ERR(read(atoi(argv[3]), &c, 1), EBADF); /* closed on exec */
        CHECK(read(atoi(argv[4]), &c, 1) == 0); /* kept */
        return 0;
    }
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--child"))
        return child_mode(argc, argv);
    int passed = 0, failed = 0;
    setvbuf(stdout, 0, _IONBF, 0);
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name))
            continue;
        current = tests[i].name;
        pid_t pid = fork();
        if (pid == 0) {
            tests[i].fn();
            _exit(0);
        }
        int st = -1;
        waitpid(pid, &st, 0);
        int ok = pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (pid > 0 && WIFSIGNALED(st))
            printf("FAIL u.%s: killed by signal %d\n", tests[i].name, WTERMSIG(st));
        printf("TEST u.%s %s\n", tests[i].name, ok ? "PASS" : "FAIL");
        ok ? passed++ : failed++;
    }
    printf("utest: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
