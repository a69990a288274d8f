/*
 * init: the first Linux process on Samsara (pid 1), started by pm.
 * It runs a login-less shell on the console in its own session and
 * foreground process group, reaps every orphan that is handed to it, and
 * starts the shell again when it exits. Usage: init [program [args...]]
 * (default: /bin/sh); pm passes no arguments. BusyBox's halt, poweroff and
 * reboot signal it (SIGUSR1, SIGUSR2, SIGTERM, as BusyBox's own init takes
 * them): it syncs and calls reboot(2), which unmounts every file system
 * before the machine stops (docs/FILESYSTEMS.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal; /* the halt, poweroff or reboot request, if any */

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* Sync, then stop the machine as the signal asks; reboot(2) returns only if that failed. */
static void stop_machine(int sig)
{
    fprintf(stderr, "init: %s\n", sig == SIGTERM ? "restarting" : "powering off");
    sync();
    reboot(sig == SIGTERM ? RB_AUTOBOOT : RB_POWER_OFF);
    fprintf(stderr, "init: reboot failed: errno %d\n", errno);
}

static pid_t start_shell(char **argv)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setsid();
    ioctl(0, TIOCSCTTY, 0);
    tcsetpgrp(0, getpid());
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGTSTP, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[0], argv);
    fprintf(stderr, "init: cannot run %s: errno %d\n", argv[0], errno);
    _exit(127);
}

int main(int argc, char **argv)
{
    static char *shell[] = {"/bin/sh", 0};
    char **cmd = argc > 1 ? argv + 1 : shell;
    setenv("PATH", "/bin:/sbin:/usr/bin", 0);
    setenv("HOME", "/root", 0);
    setenv("SHELL", "/bin/sh", 0);
    setenv("TERM", "vt100", 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    struct sigaction stop = {.sa_handler = on_stop}; /* no SA_RESTART: wait() returns */
    sigaction(SIGUSR1, &stop, 0);
    sigaction(SIGUSR2, &stop, 0);
    sigaction(SIGTERM, &stop, 0);
    for (;;) {
        pid_t pid = start_shell(cmd);
        if (pid < 0) {
            fprintf(stderr, "init: fork failed: errno %d\n", errno);
            sleep(1);
            continue;
        }
        int status;
        pid_t done;
        while ((done = wait(&status)) != pid) {
            if (stop_signal) {
                stop_machine(stop_signal);
                stop_signal = 0;
            }
            if (done < 0 && errno == ECHILD)
                break; /* orphans are reaped here too */
        }
        fprintf(stderr, "init: %s exited (status 0x%x); starting it again\n", cmd[0], status);
        sleep(1);
    }
}
