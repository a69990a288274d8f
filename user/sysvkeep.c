/*
 * sysvkeep: do the System V objects survive the ipc server's death?
 * (docs/IPC-SYSV.md, "Restarts"; tools/suite_rs.py runs it.)
 *
 *   sysvkeep kill        a queue with three messages, a semaphore set (one
 *                        value set, one raised with SEM_UNDO) and an
 *                        attached segment with a pattern; a child blocked
 *                        in msgrcv; `service kill ipc`; then everything is
 *                        read back: the same messages, values, ids, modes
 *                        and times, the child got EINTR, and the segment
 *                        still attached is the same memory as a new
 *                        attachment of it.
 *   sysvkeep loop SECS   for SECS seconds (under `service chaos ipc ...`):
 *                        send, receive, semop and a counter in a segment,
 *                        each checked; a call answered EINTR (ipc died) is
 *                        looked up in the objects: it either took effect
 *                        or not, never half, and nothing is lost; every
 *                        64th round a child reads the semaphore (pm told
 *                        ipc of it, maybe across a restart).
 *   sysvkeep bench N     N rounds of msgsnd + msgrcv, semop, semctl GETVAL:
 *                        nanoseconds a round (guest instructions a round
 *                        under QEMU's -icount shift=0): the cost of the
 *                        undo log (docs/IPC-SYSV.md, section 8).
 * Prints one line per failed check and a summary "sysvkeep: N passed, M
 * failed" (and for loop, the EINTRs and which of them had taken effect).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (c)                                                                                     \
            passed++;                                                                              \
        else {                                                                                     \
            failed++;                                                                              \
            printf("sysvkeep: FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno);                \
        }                                                                                          \
    } while (0)

struct msg {
    long type;
    char text[64];
};

static int summary(void)
{
    printf("sysvkeep: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static int kill_test(void)
{
    int q = msgget(IPC_PRIVATE, 0640), s = semget(IPC_PRIVATE, 2, 0600),
        m = shmget(IPC_PRIVATE, 8192, 0600);
    CHECK(q >= 0 && s >= 0 && m >= 0);
    struct msg one;
    for (int i = 1; i <= 3; i++) {
        one.type = i;
        snprintf(one.text, sizeof(one.text), "message %d", i);
        CHECK(msgsnd(q, &one, strlen(one.text) + 1, 0) == 0);
    }
    CHECK(semctl(s, 0, SETVAL, 7) == 0);
    struct sembuf up = {1, 3, SEM_UNDO};
    CHECK(semop(s, &up, 1) == 0);
    unsigned char *seg = shmat(m, 0, 0);
    CHECK(seg != (void *)-1);
    for (int i = 0; i < 8192; i++)
        seg[i] = (unsigned char)(i * 7 + 1);
    struct msqid_ds qs0, qs1;
    struct semid_ds ss0, ss1;
    struct shmid_ds ms0, ms1;
    CHECK(msgctl(q, IPC_STAT, &qs0) == 0 && semctl(s, 0, IPC_STAT, &ss0) == 0 &&
          shmctl(m, IPC_STAT, &ms0) == 0);
    pid_t child = fork();
    if (child == 0) { /* waits in ipc for a message that never comes */
        struct msg none;
        ssize_t r = msgrcv(q, &none, sizeof(none.text), 99, 0);
        _exit(r < 0 && errno == EINTR ? 0 : 1);
    }
    usleep(300000);
    CHECK(system("service kill ipc > /dev/null") == 0);
    usleep(300000);
    int st = -1;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 1; i <= 3; i++) {
        char want[64];
        snprintf(want, sizeof(want), "message %d", i);
        memset(&one, 0, sizeof(one));
        CHECK(msgrcv(q, &one, sizeof(one.text), 0, IPC_NOWAIT) == (ssize_t)strlen(want) + 1 &&
              one.type == i && !strcmp(one.text, want));
    }
    CHECK(msgrcv(q, &one, sizeof(one.text), 0, IPC_NOWAIT) < 0 && errno == ENOMSG);
    CHECK(semctl(s, 0, GETVAL) == 7 && semctl(s, 1, GETVAL) == 3);
    CHECK(msgctl(q, IPC_STAT, &qs1) == 0 && semctl(s, 0, IPC_STAT, &ss1) == 0 &&
          shmctl(m, IPC_STAT, &ms1) == 0);
    CHECK(qs1.msg_perm.mode == qs0.msg_perm.mode && qs1.msg_ctime == qs0.msg_ctime &&
          qs1.msg_perm.__key == qs0.msg_perm.__key);
    CHECK(ss1.sem_ctime == ss0.sem_ctime && ss1.sem_nsems == 2 && ss1.sem_perm.mode == 0600);
    CHECK(ms1.shm_segsz == 8192 && ms1.shm_nattch == 1 && ms1.shm_ctime == ms0.shm_ctime &&
          ms1.shm_cpid == getpid());
    int same = 1;
    for (int i = 0; i < 8192; i++)
        same &= seg[i] == (unsigned char)(i * 7 + 1);
    CHECK(same);
    unsigned char *again = shmat(m, 0, 0);
    CHECK(again != (void *)-1 && again != seg);
    if (again != (void *)-1) { /* the new instance shares the same frames again */
        seg[100] = 0xa5;
        again[200] = 0x5a;
        CHECK(again[100] == 0xa5 && seg[200] == 0x5a);
        CHECK(shmdt(again) == 0);
    }
    /* the new instance serves: a message round trip, and the undo is applied at exit */
    one.type = 5;
    strcpy(one.text, "after");
    CHECK(msgsnd(q, &one, 6, 0) == 0 && msgrcv(q, &one, sizeof(one.text), 5, 0) == 6 &&
          !strcmp(one.text, "after"));
    child = fork();
    if (child == 0) {
        struct sembuf up2 = {1, 2, SEM_UNDO};
        _exit(semop(s, &up2, 1) == 0 && semctl(s, 1, GETVAL) == 5 ? 0 : 1);
    }
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(semctl(s, 1, GETVAL) == 3); /* the child's +2 undone at its exit */
    CHECK(shmdt(seg) == 0 && shmctl(m, IPC_RMID, 0) == 0);
    CHECK(msgctl(q, IPC_RMID, 0) == 0 && semctl(s, 0, IPC_RMID) == 0);
    return summary();
}

/* Calls that change nothing, tried again when ipc's death interrupts them. */
static int qstat(int q, struct msqid_ds *ds)
{
    int r;
    while ((r = msgctl(q, IPC_STAT, ds)) < 0 && errno == EINTR)
        ;
    return r;
}

static int getval(int s)
{
    int r;
    while ((r = semctl(s, 0, GETVAL)) < 0 && errno == EINTR)
        ;
    return r;
}

/* The loop under chaos: every call that met ipc's death is checked against the objects. */
static int loop_test(int secs)
{
    int q, s, m; /* the campaign may have begun: a death answers EINTR (an object may leak) */
    while ((q = msgget(IPC_PRIVATE, 0600)) < 0 && errno == EINTR)
        ;
    while ((s = semget(IPC_PRIVATE, 1, 0600)) < 0 && errno == EINTR)
        ;
    while ((m = shmget(IPC_PRIVATE, 4096, 0600)) < 0 && errno == EINTR)
        ;
    CHECK(q >= 0 && s >= 0 && m >= 0);
    volatile long *count;
    while ((count = shmat(m, 0, 0)) == (void *)-1 && errno == EINTR)
        ;
    CHECK(count != (void *)-1);
    if (failed)
        return summary();
    long sent = 0, got = 0, sem = 0, intr = 0, intr_done = 0, rounds = 0, children = 0;
    time_t end = time(0) + secs;
    while (time(0) < end && !failed) {
        struct msg out = {1, ""}, in;
        snprintf(out.text, sizeof(out.text), "seq %ld sum %ld", sent, sent * 31 + 7);
        size_t len = strlen(out.text) + 1;
        struct msqid_ds ds;
        if (msgsnd(q, &out, len, 0) == 0) {
            sent++;
        } else {
            CHECK(errno == EINTR);
            intr++;
            CHECK(qstat(q, &ds) == 0 && ds.msg_qnum <= 1);
            if (ds.msg_qnum == 1) /* it went before the death; only its answer was lost */
                sent++, intr_done++;
            else
                continue;
        }
        for (;;) {
            memset(&in, 0, sizeof(in));
            ssize_t r = msgrcv(q, &in, sizeof(in.text), 0, 0);
            if (r >= 0) {
                char want[64];
                snprintf(want, sizeof(want), "seq %ld sum %ld", got, got * 31 + 7);
                CHECK(r == (ssize_t)strlen(want) + 1 && !strcmp(in.text, want));
                got++;
                break;
            }
            CHECK(errno == EINTR);
            intr++;
            CHECK(qstat(q, &ds) == 0 && ds.msg_qnum <= 1);
            if (ds.msg_qnum == 0) { /* taken before the death: its text is lost with the answer */
                got++, intr_done++;
                break;
            }
        }
        struct sembuf up = {0, 1, 0};
        if (semop(s, &up, 1) == 0) {
            sem++;
        } else {
            CHECK(errno == EINTR);
            intr++;
            int v = getval(s);
            CHECK(v == sem || v == sem + 1);
            if (v == sem + 1)
                sem++, intr_done++;
        }
        CHECK(getval(s) == sem);
        *count = *count + 1;
        CHECK(*count == ++rounds);
        if (rounds % 64 == 0) { /* pm tells ipc of a birth and a death, maybe across a restart */
            pid_t child = fork();
            if (child == 0)
                _exit(getval(s) == sem ? 0 : 1); /* a process ipc does not know gets ENOSYS */
            int st = -1;
            CHECK(child > 0 && waitpid(child, &st, 0) == child && WIFEXITED(st) &&
                  WEXITSTATUS(st) == 0);
            children++;
        }
        if (sem > 30000) { /* SEMVMX */
            while (semctl(s, 0, SETVAL, 0) < 0 && errno == EINTR)
                ;
            sem = 0;
        }
    }
    CHECK(sent == got && rounds > 0);
    struct shmid_ds ms;
    int r;
    while ((r = shmctl(m, IPC_STAT, &ms)) < 0 && errno == EINTR)
        ;
    CHECK(r == 0 && ms.shm_nattch == 1);
    printf("sysvkeep: %ld rounds, %ld messages, %ld children, %ld EINTR (%ld had taken effect)\n",
           rounds, sent, children, intr, intr_done);
    shmdt((void *)count);
    shmctl(m, IPC_RMID, 0);
    msgctl(q, IPC_RMID, 0);
    semctl(s, 0, IPC_RMID);
    return summary();
}

static int bench(long n)
{
    int q = msgget(IPC_PRIVATE, 0600), s = semget(IPC_PRIVATE, 1, 0600);
    CHECK(q >= 0 && s >= 0);
    struct msg one = {1, "sixteen bytes.."};
    struct sembuf up = {0, 1, 0}, down = {0, -1, 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n && !failed; i++) {
        CHECK(msgsnd(q, &one, 16, 0) == 0 && msgrcv(q, &one, 16, 0, 0) == 16);
        CHECK(semop(s, i & 1 ? &down : &up, 1) == 0 && semctl(s, 0, GETVAL) == !(i & 1));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
    printf("sysvkeep: bench %ld rounds, %ld ns a round (msgsnd+msgrcv+semop+GETVAL)\n", n,
           n ? ns / n : 0);
    msgctl(q, IPC_RMID, 0);
    semctl(s, 0, IPC_RMID);
    return summary();
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "kill"))
        return kill_test();
    if (argc == 3 && !strcmp(argv[1], "loop") && atoi(argv[2]) > 0)
        return loop_test(atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "bench") && atol(argv[2]) > 0)
        return bench(atol(argv[2]));
    fprintf(stderr, "usage: sysvkeep kill | sysvkeep loop SECONDS | sysvkeep bench ROUNDS\n");
    return 2;
}
