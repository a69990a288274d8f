/*
 * service: the administrator's tool for rs, the reincarnation server.
 *   service list                 every service: endpoint, state, restarts,
 *                                last failure, last and mean recovery time
 *   service log                  rs's event log, with times
 *   service restart|kill|down|up LABEL
 * It writes the command to /dev/service and prints rs's answer; the exit
 * status is 1 when rs answers with an error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char cmd[128] = "", answer[4096];
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: service list | log | restart|kill|down|up LABEL\n");
        return 2;
    }
    snprintf(cmd, sizeof(cmd), "%s%s%s", argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
    int fd = open("/dev/service", O_RDWR);
    if (fd < 0) {
        perror("service: /dev/service");
        return 2;
    }
    if (write(fd, cmd, strlen(cmd)) < 0) {
        perror("service: write");
        return 2;
    }
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
