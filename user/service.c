/*
 * service: the administrator's tool for rs, the reincarnation server.
 *   service list                 every service: endpoint, state, restarts,
 *                                last failure, last and mean recovery time,
 *                                heartbeat answers, restart policy, and what
 *                                its data becomes when it stops (fresh, lost)
 *   service log                  rs's event log, with times
 *   service restart|kill|down [-f] LABEL
 *   service up LABEL
 *   service scramble LABEL       a test hook: kill LABEL, rs garbling its state
 *                                region's header first (SVC_SCRAMBLE): it starts fresh
 *   service chaos LABEL COUNT MIN_MS MAX_MS [start]  rs kills LABEL COUNT times,
 *                                each MIN_MS..MAX_MS after the last kill, from its
 *                                own alarm: at random instants, in the middle of
 *                                requests (COUNT 0 stops a campaign); with start,
 *                                in its start-up too (before ROOT_READY)
 *   service chaos                the last campaign: kills, kills before ROOT_READY,
 *                                recoveries (median and max)
 *   service inject LABEL KIND [COUNT [SEED]]  fault injection into LABEL (only when
 *                                booted with inject=1): KIND code, nop, reg, pointer, loop,
 *                                garbage, deny (servers/root/inject.c, docs/FAULTS.md)
 *   service update [-f] LABEL PROGRAM  run PROGRAM (a Samsara service's ELF file)
 *                                in place of LABEL's program; it keeps its state in ds
 * -f forces stopping a service that would not come back (restart never: pm,
 * vfs, ramfs, ds, ipc); without it rs refuses and says what would be lost. It writes the command to
 * /dev/service and prints rs's answer; the exit status is 1 when rs answers
 * with an error, 2 for a usage or I/O error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Print rs's answer; 1 if it is an error. */
static int answer_of(int fd)
{
    char answer[4096];
    int error = 0, first = 1;
    ssize_t n;
    while ((n = read(fd, answer, sizeof(answer))) > 0) {
        if (first && !strncmp(answer, "error:", 6))
            error = 1;
        first = 0;
        fwrite(answer, 1, (size_t)n, stdout);
    }
    return error;
}

static int update(int fd, const char *force, const char *label, const char *path)
{
    char cmd[128], buf[4096];
    struct stat st;
    int prog = open(path, O_RDONLY);
    if (prog < 0 || fstat(prog, &st) < 0) {
        perror(path);
        return 2;
    }
    snprintf(cmd, sizeof(cmd), "update %s%s %ld", force, label, (long)st.st_size);
    if (write(fd, cmd, strlen(cmd)) < 0 || answer_of(fd))
        return 1;
    ssize_t n;
    while ((n = read(prog, buf, sizeof(buf))) > 0)
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w <= 0) {
                perror("service: write");
                return 2;
            }
            done += w;
        }
    return answer_of(fd);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: service list | log | restart|kill|down|scramble [-f] LABEL | up LABEL | "
            "update [-f] LABEL PROGRAM | chaos [LABEL COUNT MIN_MS MAX_MS [start]] | "
            "inject LABEL KIND [COUNT [SEED]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    char cmd[128] = "";
    if (argc < 2)
        return usage();
    int force = argc > 2 && !strcmp(argv[2], "-f"), words = argc - 1 - force; /* with the verb */
    int update_cmd = !strcmp(argv[1], "update");
    int inject_cmd = !strcmp(argv[1], "inject");   /* inject LABEL KIND [COUNT [SEED]] */
    if (!strcmp(argv[1], "chaos") || inject_cmd) { /* chaos [LABEL COUNT MIN_MS MAX_MS [start]] */
        if (inject_cmd ? argc < 4 || argc > 6 : argc != 2 && argc != 6 && argc != 7)
            return usage();
        for (int i = 1; i < argc; i++)
            snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i > 1 ? " " : "",
                     argv[i]);
        words = 0;
    }
    if (words > (update_cmd ? 3 : 2) || (update_cmd && words != 3))
        return usage();
    if (words)
        snprintf(cmd, sizeof(cmd), "%s%s%s", argv[1], force ? " -f" : "", words > 1 ? " " : "");
    if (words > 1 && !update_cmd)
        strncat(cmd, argv[argc - 1], sizeof(cmd) - strlen(cmd) - 1);
    int fd = open("/dev/service", O_RDWR);
    if (fd < 0) {
        perror("service: /dev/service");
        return 2;
    }
    if (update_cmd)
        return update(fd, force ? "-f " : "", argv[argc - 2], argv[argc - 1]);
    if (write(fd, cmd, strlen(cmd)) < 0) {
        perror("service: write");
        return 2;
    }
    return answer_of(fd);
}
