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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
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
    ERR(setuid(1000), EPERM);
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

/* ---- vfs: data never lost, edge values (issue 7); one block, kept together */
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <termios.h>

#define SF_SIZE 13893 /* the size of `seq 1 3000`: more than three device buffers */

/* A file of n bytes, byte i = pattern(i), open for reading at 0. */
static unsigned char pattern(long i) { return (unsigned char)('a' + (i * 7 + i / 251) % 26); }
static int pattern_file(const char *path, long n)
{
    static unsigned char buf[65536];
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    for (long at = 0; at < n;) {
        long k = n - at < (long)sizeof(buf) ? n - at : (long)sizeof(buf);
        for (long i = 0; i < k; i++)
            buf[i] = (at + i) % 79 == 78 ? '\n' : pattern(at + i);
        CHECK(write(fd, buf, (size_t)k) == k);
        at += k;
    }
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    return fd;
}

/* sendfile to the console: the terminal takes 4 KiB at a time and, its
 * output stopped (TCOOFF) for a moment, makes the call wait; the offset must
 * move by exactly what it took. */
static void sendfile_console_child(int out, int fd)
{
    off_t off = 0;
    long total = 0;
    while (total < SF_SIZE) { /* with an offset pointer: the file position stays */
        ssize_t n = sendfile(out, fd, &off, SF_SIZE - total);
        CHECK(n > 0 && off == total + n);
        total += n;
    }
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    for (total = 0; total < SF_SIZE;) { /* without: the file position moves */
        ssize_t n = sendfile(out, fd, 0, SF_SIZE);
        CHECK(n > 0 && lseek(fd, 0, SEEK_CUR) == total + n);
        total += n;
    }
    CHECK(sendfile(out, fd, 0, SF_SIZE) == 0);
}

static void t_sendfile_console(void)
{
    int fd = pattern_file("/tmp/sf_console", SF_SIZE), out = open("/dev/tty", O_WRONLY);
    CHECK(out >= 0 && tcflow(out, TCOOFF) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        sendfile_console_child(out, fd);
        _exit(0);
    }
    usleep(300000); /* the child waits in its first sendfile */
    CHECK(tcflow(out, TCOON) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(write(out, "\n", 1) == 1 && unlink("/tmp/sf_console") == 0);
}

/* sendfile into a pipe whose reader is slow: every byte arrives once, in order. */
static void t_sendfile_pipe(void)
{
    const long size = 3 * 16384 + 1234;
    int fd = pattern_file("/tmp/sf_pipe", size), p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        unsigned char buf[1000];
        long got = 0;
        ssize_t n;
        while ((n = read(p[0], buf, sizeof(buf))) > 0) {
            for (ssize_t i = 0; i < n; i++, got++)
                CHECK(buf[i] == (got % 79 == 78 ? '\n' : pattern(got)));
            usleep(2000);
        }
        CHECK(n == 0 && got == size);
        _exit(0);
    }
    close(p[0]);
    for (long total = 0; total < size;) {
        ssize_t n = sendfile(p[1], fd, 0, (size_t)(size - total));
        CHECK(n > 0 && lseek(fd, 0, SEEK_CUR) == total + n);
        total += n;
    }
    close(p[1]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(unlink("/tmp/sf_pipe") == 0);
}

static void t_sendfile_args(void)
{
    int fd = pattern_file("/tmp/sf_args", 100), null = open("/dev/null", O_WRONLY);
    int wr = open("/tmp/sf_args", O_WRONLY), rd = open("/tmp/sf_args", O_RDONLY);
    off_t off = -1;
    CHECK(null >= 0 && wr >= 0 && rd >= 0);
    ERR(sendfile(null, fd, &off, 10), EINVAL);
    off = (off_t)(1ull << 63 >> 1);
    CHECK(sendfile(null, fd, &off, 10) == 0 && off == (off_t)(1ull << 62)); /* past the end */
    off = 0x7fffffffffffffffll;
    ERR(sendfile(null, fd, &off, 10), EINVAL); /* the end would not fit */
    ERR(sendfile(null, wr, 0, 10), EBADF);      /* in not readable */
    ERR(sendfile(rd, fd, 0, 10), EBADF);        /* out not writable */
    off = 0;
    CHECK(sendfile(null, fd, &off, 0) == 0 && off == 0);
    CHECK(unlink("/tmp/sf_args") == 0);
}

/* Byte counts and offsets past what a signed 64-bit result can hold. */
static void t_io_edge_values(void)
{
    char buf[16];
    int fd = open("/tmp/io_edge", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    struct iovec big[3] = {{buf, 1ull << 62}, {buf, 1ull << 62}, {buf, 1ull << 62}};
    ERR(writev(fd, big, 3), EINVAL);
    ERR(readv(fd, big, 3), EINVAL);
    struct iovec neg[1] = {{buf, 1ull << 63}};
    ERR(writev(fd, neg, 1), EINVAL);
    ERR(syscall(SYS_read, fd, buf, ~0ull), EINVAL);
    ERR(syscall(SYS_write, fd, buf, 1ull << 63), EINVAL);
    ERR(pwrite(fd, buf, 2, 0x7fffffffffffffffll), EINVAL);
    ERR(pread(fd, buf, 2, -1), EINVAL);
    ERR(syscall(SYS_pread64, fd, buf, 1ull << 63, 0), EINVAL);
    struct iovec ok[2] = {{buf, 3}, {buf + 3, 0}};
    memcpy(buf, "abc", 3);
    CHECK(writev(fd, ok, 2) == 3);
    CHECK(close(fd) == 0 && unlink("/tmp/io_edge") == 0);
}

/* A call that must go on sleeping: it is still running after 300 ms. */
static void still_sleeping(void (*sleeper)(int fd))
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        sleeper(p[0]);
        _exit(3); /* returned: wrong */
    }
    usleep(300000);
    int st;
    CHECK(waitpid(pid, &st, WNOHANG) == 0);
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    close(p[0]);
    close(p[1]);
}

static void ppoll_huge(int fd)
{
    struct pollfd pf = {fd, POLLIN, 0};
    struct timespec ts = {1ll << 62, 0};
    syscall(SYS_ppoll, &pf, 1, &ts, 0, 8);
}
static void ppoll_max(int fd)
{
    struct pollfd pf = {fd, POLLIN, 0};
    struct timespec ts = {0x7fffffffffffffffll, 999999999};
    syscall(SYS_ppoll, &pf, 1, &ts, 0, 8);
}
static void pselect_huge(int fd)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timespec ts = {1ll << 62, 0};
    syscall(SYS_pselect6, fd + 1, &rd, 0, 0, &ts, 0);
}
static void select_huge(int fd)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = {1ll << 62, 0};
    syscall(SYS_select, fd + 1, &rd, 0, 0, &tv);
}
static void select_huge_usec(int fd)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = {0, 1ll << 62}; /* microseconds for 146,000 years */
    syscall(SYS_select, fd + 1, &rd, 0, 0, &tv);
}

static void t_poll_timeout_edges(void)
{
    still_sleeping(ppoll_huge);
    still_sleeping(ppoll_max);
    still_sleeping(pselect_huge);
    still_sleeping(select_huge);
    still_sleeping(select_huge_usec);
    struct pollfd pf = {0, 0, 0};
    struct timespec bad = {0, 1000000000};
    ERR(syscall(SYS_ppoll, &pf, 1, &bad, 0, 8), EINVAL);
    struct timespec neg = {-1, 0};
    ERR(syscall(SYS_ppoll, &pf, 1, &neg, 0, 8), EINVAL);
    struct timespec zero = {0, 0};
    CHECK(syscall(SYS_ppoll, &pf, 1, &zero, 0, 8) == 0);
}

/* A mount point (and the root) can be neither renamed, replaced nor removed. */
static void t_mount_point_busy(void)
{
    struct stat st;
    CHECK(mkdir("/tmp/mp_empty", 0755) == 0);
    int moved = rename("/proc", "/tmp/proc_moved"), e = errno;
    if (moved == 0)
        rename("/tmp/proc_moved", "/proc"); /* put it back for the other tests */
    CHECK(moved == -1 && e == EBUSY);
    moved = rename("/tmp/mp_empty", "/proc"), e = errno;
    CHECK(moved == -1 && e == EBUSY);
    ERR(rmdir("/proc"), EBUSY);
    ERR(rename("/", "/tmp/root_moved"), EBUSY);
    ERR(rename("/tmp/.", "/tmp/dot"), EBUSY);
    ERR(rename("/tmp/mp_empty", "/tmp/."), EBUSY);
    CHECK(stat("/proc/self/stat", &st) == 0 && rmdir("/tmp/mp_empty") == 0);
}

/*
 * Every call vfs serves, each argument in turn set to an edge value (0, 1,
 * -1, 2^31, 2^32, 2^47, 2^63, 2^64-1 ...) with the others sensible, then
 * random mixes, with the structures they point to (iovecs, timeouts, offsets)
 * filled with edge values too: each result is an error in [-4095, -1] or a plausible value
 * (below 2^31; lseek excepted), and vfs still works afterwards. A 20 ms
 * timer ends calls that wait.
 */
static void edge_alarm(int s) { (void)s; }
static int makes_fds(long nr)
{
    return nr == SYS_close || nr == SYS_dup || nr == SYS_dup2 || nr == SYS_dup3 ||
           nr == SYS_fcntl || nr == SYS_pipe || nr == SYS_pipe2 || nr == SYS_open ||
           nr == SYS_openat || nr == SYS_creat;
}

static void t_vfs_edge_values(void)
{
    static const long calls[] = {
        SYS_read, SYS_write, SYS_open, SYS_close, SYS_stat, SYS_fstat, SYS_lstat, SYS_poll,
        SYS_lseek, SYS_ioctl, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_access,
        SYS_pipe, SYS_select, SYS_dup, SYS_dup2, SYS_sendfile, SYS_fcntl, SYS_fsync,
        SYS_truncate, SYS_ftruncate, SYS_getcwd, SYS_chdir, SYS_fchdir, SYS_rename, SYS_mkdir,
        SYS_rmdir, SYS_creat, SYS_link, SYS_unlink, SYS_symlink, SYS_readlink, SYS_chmod,
        SYS_fchmod, SYS_chown, SYS_fchown, SYS_lchown, SYS_umask, SYS_statfs, SYS_fstatfs,
        SYS_sync, SYS_getdents64, SYS_openat, SYS_mkdirat, SYS_newfstatat, SYS_unlinkat,
        SYS_renameat, SYS_linkat, SYS_symlinkat, SYS_readlinkat, SYS_fchmodat, SYS_faccessat,
        SYS_pselect6, SYS_ppoll, SYS_utimensat, SYS_dup3, SYS_pipe2, SYS_renameat2,
        SYS_fchownat, SYS_faccessat2};
    static const unsigned long edges[] = {
        0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 1ul << 47, (1ul << 47) - 1,
        1ul << 62, 0x7ffffffffffff000, 1ul << 63, 0x7fffffffffffffff, ~0ul, ~0ul - 99, ~0ul << 31};
    static char scratch[8192] __attribute__((aligned(4096)));
    const int nedges = sizeof(edges) / sizeof(edges[0]);
    CHECK(mkdir("/tmp/edge", 0755) == 0 && chdir("/tmp/edge") == 0);
    int fd = open("f", O_CREAT | O_RDWR, 0644), devnull = open("/dev/null", O_RDWR);
    CHECK(fd == 3 && devnull == 4 && write(fd, "0123456789", 10) == 10 && dup2(1, 5) == 5);
    for (int i = 0; i < 3; i++)
        CHECK(dup2(devnull, i) == i); /* no console reads or writes; reports go to 5 */
    struct sigaction sa = {0};
    sa.sa_handler = edge_alarm; /* no SA_RESTART: a waiting call ends with EINTR */
    CHECK(sigaction(SIGALRM, &sa, 0) == 0);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    CHECK(setitimer(ITIMER_REAL, &it, 0) == 0);
    const unsigned long profile[3][6] = {
        {3, (unsigned long)scratch, 16, 0, 0, 0},
        {(unsigned long)"f", (unsigned long)"g", 16, 0, 0, 0},
        {(unsigned long)AT_FDCWD, (unsigned long)"f", (unsigned long)AT_FDCWD, (unsigned long)"g", 0, 0}};
    unsigned long seed = 0x9e3779b97f4a7c15ul, bad = 0, made = 0;
    for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
        for (int round = 0; round < 3 * 6 * nedges + 150; round++) {
            unsigned long a[6];
            int prof = round < 3 * 6 * nedges ? round / (6 * nedges) : round % 3;
            memcpy(a, profile[prof], sizeof(a));
            if (round < 3 * 6 * nedges) {
                a[round / nedges % 6] = edges[round % nedges];
            } else {
                for (int k = 0; k < 6; k++) {
                    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                    if (seed & 1)
                        a[k] = edges[(seed >> 8) % nedges];
                }
            }
            memset(scratch, 0, sizeof(scratch));
            for (int k = 0; round >= 3 * 6 * nedges && k < 32; k++) { /* structs of edges */
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                memcpy(scratch + 8 * k, &edges[seed % nedges], 8);
            }
            long r = syscall(calls[c], a[0], a[1], a[2], a[3], a[4], a[5]);
            long res = r == -1 ? -errno : r;
            made++;
            if (res < -4095 || (res > 0x7fffffffl && calls[c] != SYS_lseek)) {
                if (bad++ < 8)
                    dprintf(5, "vfs_edge_values: call %ld (%lx, %lx, %lx, %lx, %lx, %lx) -> %ld\n",
                            calls[c], a[0], a[1], a[2], a[3], a[4], a[5], res);
            }
            if (makes_fds(calls[c])) {
                for (int k = 6; k < 64; k++) /* what pipe, dup, open made */
                    close(k);
                for (int k = 0; k < 3; k++)
                    dup2(4, k);
                if (fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0 || fcntl(5, F_GETFD) < 0)
                    break; /* closed our own descriptors: next call */
            }
            ftruncate(3, 10); /* reads stay small: scratch is 8 KiB */
            if (prof && access("f", F_OK) != 0)
                close(open("f", O_CREAT | O_RDWR, 0644));
        }
        if (fcntl(3, F_GETFD) < 0) {
            close(3);
            CHECK(open("/tmp/edge/f", O_CREAT | O_RDWR, 0644) == 3);
        }
        if (fcntl(4, F_GETFD) < 0) {
            close(4);
            CHECK(open("/dev/null", O_RDWR) == 4);
        }
        if (fcntl(5, F_GETFD) < 0)
            CHECK(open("/dev/console", O_WRONLY) == 5);
        CHECK(chdir("/tmp/edge") == 0 || (mkdir("/tmp/edge", 0755) == 0 && chdir("/tmp/edge") == 0));
    }
    it = (struct itimerval){{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, 0);
    dprintf(5, "vfs_edge_values: %lu calls, %lu implausible results\n", made, bad);
    CHECK(bad == 0 && made > 10000);
    char buf[4];
    int t = open("/tmp/edge_after", O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(t >= 0 && write(t, "ok", 2) == 2 && pread(t, buf, 2, 0) == 2 && !memcmp(buf, "ok", 2));
    CHECK(unlink("/tmp/edge_after") == 0);
}

/* vfs's count of refused requests of one kind (/proc/refusals: "KIND COUNT" lines); -1 if none. */
static long refusals(const char *kind)
{
    char line[64], name[32];
    long n, found = -1;
    FILE *f = fopen("/proc/refusals", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%31s %ld", name, &n) == 2 && !strcmp(name, kind))
            found = n;
    fclose(f);
    return found;
}

/* A driver that is not this terminal's asks for signals: refused and counted, nobody dies. */
static void t_driver_signal_refused(void)
{
    long before = refusals("signal");
    char cmd[32];
    CHECK(before >= 0 && setpgid(0, 0) == 0);
    int fd = open("/dev/demo", O_WRONLY), n = snprintf(cmd, sizeof(cmd), "signal %d 15", getpgrp());
    CHECK(fd >= 0 && write(fd, cmd, (size_t)n) == n); /* SIGTERM for this test's own group */
    CHECK(write(fd, "signal 1 9", 10) == 10);          /* SIGKILL for init's */
    usleep(200000);
    CHECK(refusals("signal") == before + 2);
}

/* vfsprobe (started last in this boot) notified vfs, then never answered anything;
 * its requests with no right to them were refused. vfs counted each. */
static void t_stranger_refusals_counted(void)
{
    CHECK(refusals("notify") >= 1 && refusals("pm_request") >= 2 && refusals("linux_call") >= 1 &&
          refusals("message") >= 2);
    int fd = open("/tmp/after_probe", O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0 && unlink("/tmp/after_probe") == 0);
}

/* Descriptor numbers are ints: the high half of the register is not part of them (as Linux). */
static void t_fd_number_truncation(void)
{
    char buf[4];
    int fd = open("/tmp/fd_trunc", O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "abc", 3) == 3);
    CHECK(syscall(SYS_dup2, (1ul << 32) | (unsigned)fd, fd) == fd); /* the same descriptor */
    ERR(syscall(SYS_dup3, (1ul << 32) | (unsigned)fd, fd, 0), EINVAL);
    CHECK(syscall(SYS_fcntl, (1ul << 32) | (unsigned)fd, F_SETFD, FD_CLOEXEC) == 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC && syscall(SYS_fcntl, (1ul << 32) | (unsigned)fd, F_GETFD) == FD_CLOEXEC);
    CHECK(syscall(SYS_lseek, fd, 0, (1ul << 32) | SEEK_SET) == 0); /* whence is an int too */
    CHECK(read(fd, buf, 3) == 3 && !memcmp(buf, "abc", 3));
    int other = open("/dev/null", O_RDONLY); /* the file of fd was not freed under it */
    CHECK(other >= 0 && pread(fd, buf, 3, 0) == 3 && !memcmp(buf, "abc", 3));
    CHECK(close(fd) == 0 && unlink("/tmp/fd_trunc") == 0);
}

/* A driver that answers a read with more bytes than asked: refused, and nothing past the buffer changes. */
static void t_driver_reply_bounded(void)
{
    static unsigned char area[3 * 4096];
    long before = refusals("status");
    int fd = open("/dev/demo", O_RDWR);
    CHECK(fd >= 0 && before >= 0);
    memset(area, 0x5a, sizeof(area));
    CHECK(write(fd, "lie 9000", 8) == 8); /* its next read answers 9000 */
    ERR(read(fd, area, 8), EIO);
    for (size_t i = 0; i < sizeof(area); i++)
        CHECK(area[i] == 0x5a);
    CHECK(refusals("status") == before + 1);
    CHECK(read(fd, area, 8) > 0); /* and then it tells the truth */
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
    /* vfs (issue 7) */
    {"sendfile_console", t_sendfile_console},
    {"sendfile_pipe", t_sendfile_pipe},
    {"sendfile_args", t_sendfile_args},
    {"io_edge_values", t_io_edge_values},
    {"poll_timeout_edges", t_poll_timeout_edges},
    {"mount_point_busy", t_mount_point_busy},
    {"vfs_edge_values", t_vfs_edge_values},
    {"driver_signal_refused", t_driver_signal_refused},
    {"stranger_refusals_counted", t_stranger_refusals_counted},
    {"fd_number_truncation", t_fd_number_truncation},
    {"driver_reply_bounded", t_driver_reply_bounded},
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
