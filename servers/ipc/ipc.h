/*
 * ipc: the System V IPC server (docs/IPC-SYSV.md). Message queues (msg.c),
 * semaphore sets (sem.c) and shared-memory segments (shm.c) for Linux
 * processes, whose calls the kernel routes here (samsara/linux_sysv.h).
 * pm tells it (samsara/sysv.h) of every process's birth, pid and
 * credentials, exec, exit and signals; a caller's identity is the endpoint
 * the kernel stamped on its message, and its rights come from pm, never
 * from the message. A call that must wait is suspended (the caller stays
 * blocked in its system call) and answered later: the server itself never
 * blocks on anyone.
 */
#ifndef IPC_H
#define IPC_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/manifest.h>
#include "arena/arena.h"
#include "sys.h"

#define NR_SPROCS 128 /* callers at once: one per kernel slot */
#define IPCMNI 32768  /* id = seq * IPCMNI + index, as Linux builds them */
#define IPC_PRIVATE 0
#define IPC_CREAT 01000
#define IPC_EXCL 02000
#define IPC_NOWAIT 04000
#define IPC_RMID 0
#define IPC_SET 1
#define IPC_STAT 2
#define S_IRUGO 0444
#define S_IWUGO 0222

/* Linux's struct ipc64_perm (x86-64), as IPC_STAT copies it out. */
struct lx_ipc_perm {
    int32_t key;
    uint32_t uid, gid, cuid, cgid, mode;
    uint16_t seq, pad;
    uint64_t unused[2];
};
_Static_assert(sizeof(struct lx_ipc_perm) == 48, "struct ipc64_perm is 48 bytes");

/* What every object starts with. */
struct ipc_obj {
    int used;
    struct lx_ipc_perm perm;
};

/* One kind of object: its table, for the code all three share (main.c). */
struct ipc_kind {
    void *table;
    uint32_t stride, count;
    uint16_t seq; /* the next object's */
};

/*
 * The state region (`state 128M grow` in ipc.conf; docs/IPC-SYSV.md,
 * "Restarts"): everything the objects are, at fixed addresses, so that a new
 * instance finds them where the last one left them. state.c keeps the
 * header and the undo log; each file its own part of the tables.
 */
#define ST_BASE MANIFEST_STATE_VADDR
#define ST_MAIN (ST_BASE + 0x1000) /* main.c: struct main_state */
#define ST_MSG (ST_BASE + 0x80000) /* msg.c's queues */
#define ST_SEM (ST_BASE + 0x90000) /* sem.c's sets and undo entries */
#define ST_SHM (ST_BASE + 0xa0000) /* shm.c's segments and attachments */
#define ST_TABLES_END (ST_BASE + 0xc0000)
#define ST_ARENA (ST_BASE + 0x100000) /* messages, semaphore arrays, undo lists */
#define ST_ARENA_SIZE (2ull << 20)
#define ST_LOG (ST_BASE + 0x300000) /* the undo log of the request in progress */
#define ST_LOG_SIZE (8ull << 20)
#define ST_SEGS (ST_LOG + ST_LOG_SIZE) /* shared-memory segments' pages, to the end */
#define ST_SIZE (128ull << 20)         /* MANIFEST_STATE_MAX */
#define ST_SEGS_SIZE (ST_BASE + ST_SIZE - ST_SEGS)

/* A Linux process as pm described it (kept), and its suspended call (not kept: callers that
 * waited get EINTR from the kernel when ipc dies). */
struct sproc;
struct main_state {
    endpoint_t pm_ep;
    uint64_t wait_order;
    struct arena arena;
};

enum swait { S_NONE, S_MSGSND, S_MSGRCV, S_SEMOP };

#define SEMOPM 500 /* operations per semop (Linux's default) */
struct lx_sembuf {
    uint16_t num;
    int16_t op, flg;
};

/* A Linux process as pm described it, and its suspended call. */
struct sproc {
    endpoint_t ep; /* 0: free */
    int pid;
    struct cred cred;
    enum swait wait;
    int obj;           /* the index of the object it waits on */
    uint64_t order;    /* when it began to wait: waiters are served first come */
    uint64_t a[6];     /* the call's arguments */
    uint64_t deadline; /* S_SEMOP with a timeout: the tick; 0: none */
    uint32_t nsops;
    uint32_t blocking; /* S_SEMOP: the operation it waits on (GETNCNT, GETZCNT) */
    struct lx_sembuf sops[SEMOPM];
};

#define SUSPEND (-0x7fff0000ll) /* a handler's answer: the caller waits */

/* main.c */
uint64_t now_seconds(void);
void answer(struct sproc *p, int64_t result);
void suspend(struct sproc *p, enum swait w, int obj, const uint64_t *a);
int wake_waiters(enum swait w, int obj, int64_t (*retry)(struct sproc *p));
void fail_waiters(enum swait w, int obj, int64_t err);
int64_t ipc_get(struct ipc_kind *k, const struct sproc *p, int32_t key, int flg,
                int64_t (*check)(void *obj), int64_t (*create)(void *obj));
void *ipc_lookup(struct ipc_kind *k, int64_t id);
int ipc_index(const struct ipc_kind *k, const void *obj);
int64_t ipc_perms(const struct sproc *p, const struct ipc_obj *o, int want);
int64_t ipc_owner(const struct sproc *p, const struct ipc_obj *o);
void ipc_set_perm(struct ipc_obj *o, const struct lx_ipc_perm *n);
int64_t copy_in(const struct sproc *p, uint64_t src, void *dst, uint64_t len);
int64_t copy_out(const struct sproc *p, uint64_t dst, const void *src, uint64_t len);
void alarm_rearm(void);

/* main.c: memory for message texts, semaphore arrays and undo lists (lib/arena, 2 MiB) */
#define MAIN ((struct main_state *)ST_MAIN)
#define ipc_arena (MAIN->arena)
#define sprocs ((struct sproc *)(ST_MAIN + 0x1000))
void ipc_start(int kept);

/* state.c: the region's header and undo log */
int state_start(void);                     /* 1: the objects were kept; 0: fresh */
void state_old(const void *p, uint64_t n); /* before a change to [p, p + n) in the region */
void state_commit(void);                   /* the request's changes stay */
int64_t state_grow(uint64_t end);          /* the region mapped up to end (an address) */
uint64_t state_mapped(void);               /* its length mapped now */

/* msg.c */
int msg_start(int kept); /* the tables' constants; how many objects are kept */
int64_t do_msgget(struct sproc *p, const uint64_t *a);
int64_t do_msgsnd(struct sproc *p, const uint64_t *a);
int64_t do_msgrcv(struct sproc *p, const uint64_t *a);
int64_t do_msgctl(struct sproc *p, const uint64_t *a);

/* sem.c */
int sem_start(int kept);
int64_t do_semget(struct sproc *p, const uint64_t *a);
int64_t do_semop(struct sproc *p, const uint64_t *a);
int64_t do_semtimedop(struct sproc *p, const uint64_t *a);
int64_t do_semctl(struct sproc *p, const uint64_t *a);
void sem_exit(struct sproc *p);

/* shm.c */
int shm_start(int kept);
int64_t do_shmget(struct sproc *p, const uint64_t *a);
int64_t do_shmat(struct sproc *p, const uint64_t *a);
int64_t do_shmdt(struct sproc *p, const uint64_t *a);
int64_t do_shmctl(struct sproc *p, const uint64_t *a);
int shm_fork(const struct sproc *parent, const struct sproc *child);
void shm_detach_all(struct sproc *p);

#endif
