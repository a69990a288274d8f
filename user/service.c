/*
 * service: the administrator's tool for rs, the reincarnation server.
 *   service list                 every service: endpoint, state, restarts,
 *                                last failure, last and mean recovery time
 *   service log                  rs's event log, with times
 *   service restart|kill|down|up LABEL
 *   service update LABEL PROGRAM  run PROGRAM (a Samsara service's ELF file) in
 *                                place of LABEL's program; it keeps its state in ds
 * It writes the command to /dev/service and prints rs's answer; the exit
 * status is 1 when rs answers with an error.
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

static int update(int fd, const char *label, const char *path)
{
    char cmd[128], buf[4096];
    struct stat st;
    int prog = open(path, O_RDONLY);
    if (prog < 0 || fstat(prog, &st) < 0) {
        perror(path);
        return 2;
    }
    snprintf(cmd, sizeof(cmd), "update %s %ld", label, (long)st.st_size);
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

int main(int argc, char **argv)
{
    char cmd[128] = "";
    if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[1], "update"))) {
        fprintf(stderr, "usage: service list | log | restart|kill|down|up LABEL | update LABEL PROGRAM\n");
        return 2;
    }
    snprintf(cmd, sizeof(cmd), "%s%s%s", argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
    int fd = open("/dev/service", O_RDWR);
    if (fd < 0) {
        perror("service: /dev/service");
        return 2;
    }
    if (argc == 4)
        return update(fd, argv[2], argv[3]);
    if (write(fd, cmd, strlen(cmd)) < 0) {
        perror("service: write");
        return 2;
    }
    return answer_of(fd);
}
