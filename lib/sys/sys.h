/*
 * The system library for Samsara's own programs (servers, drivers, tests):
 * IPC and kernel-call wrappers, formatted output to the kernel log, and
 * small string helpers. Applications will use musl instead.
 */
#ifndef SYS_H
#define SYS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <samsara/errno.h>
#include <samsara/grant.h>
#include <samsara/ipc.h>
#include <samsara/kcall.h>
#include <samsara/priv.h>
#include <samsara/proc.h>

/* A reply held by reply_hold for the next receive goes before any other kernel call (reply.c). */
extern endpoint_t reply_held_to;
void reply_flush(void);

static inline int64_t kcall6(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                             uint64_t a4, uint64_t a5)
{
    int64_t r;
    if (reply_held_to && n != KC_REPLY_RECEIVE)
        reply_flush();
    register uint64_t r10 __asm__("r10") = a3;
    register uint64_t r8 __asm__("r8") = a4;
    register uint64_t r9 __asm__("r9") = a5;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(KCALL_BASE + n), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
static inline int64_t kcall0(uint64_t n)
{
    return kcall6(n, 0, 0, 0, 0, 0, 0);
}
static inline int64_t kcall1(uint64_t n, uint64_t a)
{
    return kcall6(n, a, 0, 0, 0, 0, 0);
}
static inline int64_t kcall2(uint64_t n, uint64_t a, uint64_t b)
{
    return kcall6(n, a, b, 0, 0, 0, 0);
}
static inline int64_t kcall3(uint64_t n, uint64_t a, uint64_t b, uint64_t c)
{
    return kcall6(n, a, b, c, 0, 0, 0);
}

/*
 * The IPC and kernel-call wrappers, one per line of the list (KCALLS in
 * samsara/kcall.h): X(NAME, name, ipc|sys, RET, (TYPE, arg)...) becomes
 *     static inline RET ipc_name|sys_name(TYPE arg, ...)
 * calling kcall6(KC_NAME, ...) with each argument as a 64-bit word and 0 for
 * the registers past them. A line marked own has its wrapper written by hand
 * (below), checked here to have the type the list gives it.
 */
#define KC_PARAM(type, arg) type arg
#define KC_WORD(type, arg) (uint64_t)(arg)
#define KC_PARAMS_0() void
#define KC_PARAMS_1(a) KC_PARAM a
#define KC_PARAMS_2(a, b) KC_PARAM a, KC_PARAM b
#define KC_PARAMS_3(a, b, c) KC_PARAM a, KC_PARAM b, KC_PARAM c
#define KC_PARAMS_4(a, b, c, d) KC_PARAM a, KC_PARAM b, KC_PARAM c, KC_PARAM d
#define KC_PARAMS_5(a, b, c, d, e) KC_PARAM a, KC_PARAM b, KC_PARAM c, KC_PARAM d, KC_PARAM e
#define KC_PARAMS_6(a, b, c, d, e, f) KC_PARAMS_5(a, b, c, d, e), KC_PARAM f
#define KC_WORDS_0() 0, 0, 0, 0, 0, 0
#define KC_WORDS_1(a) KC_WORD a, 0, 0, 0, 0, 0
#define KC_WORDS_2(a, b) KC_WORD a, KC_WORD b, 0, 0, 0, 0
#define KC_WORDS_3(a, b, c) KC_WORD a, KC_WORD b, KC_WORD c, 0, 0, 0
#define KC_WORDS_4(a, b, c, d) KC_WORD a, KC_WORD b, KC_WORD c, KC_WORD d, 0, 0
#define KC_WORDS_5(a, b, c, d, e) KC_WORD a, KC_WORD b, KC_WORD c, KC_WORD d, KC_WORD e, 0
#define KC_WORDS_6(a, b, c, d, e, f)                                                               \
    KC_WORD a, KC_WORD b, KC_WORD c, KC_WORD d, KC_WORD e, KC_WORD f
#define KC_COUNT(...) KC_COUNT_(_, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define KC_COUNT_(_, a, b, c, d, e, f, n, ...) n
#define KC_GLUE(a, b) KC_GLUE_(a, b)
#define KC_GLUE_(a, b) a##b
#define KC_PARAMS(...) KC_GLUE(KC_PARAMS_, KC_COUNT(__VA_ARGS__))(__VA_ARGS__)
#define KC_WORDS(...) KC_GLUE(KC_WORDS_, KC_COUNT(__VA_ARGS__))(__VA_ARGS__)

#define KC_DEFINE(function, NAME, RET, ...)                                                        \
    static inline RET function(KC_PARAMS(__VA_ARGS__))                                             \
    {                                                                                              \
        return (RET)kcall6(KC_##NAME, KC_WORDS(__VA_ARGS__));                                      \
    }
#define KC_WRAPPER_ipc(NAME, name, RET, ...) KC_DEFINE(ipc_##name, NAME, RET, __VA_ARGS__)
#define KC_WRAPPER_sys(NAME, name, RET, ...) KC_DEFINE(sys_##name, NAME, RET, __VA_ARGS__)
#define KC_WRAPPER_own(NAME, name, RET, ...)                                                       \
    _Static_assert(                                                                                \
        __builtin_types_compatible_p(__typeof__(sys_##name), RET(KC_PARAMS(__VA_ARGS__))),         \
        "sys_" #name " has the type KCALLS gives it");
#define KC_WRAPPER(NAME, name, wrapper, RET, ...) KC_WRAPPER_##wrapper(NAME, name, RET, __VA_ARGS__)

struct user_regs;
/* By hand: it flushes the log first and never returns (lib/sys/start.c). */
_Noreturn void sys_exit(int code);
KCALLS(KC_WRAPPER)

/*
 * By hand: forms the list cannot give, with an argument its line leaves at 0.
 */
/* receive only if a sender is waiting (else E_AGAIN) */
static inline int ipc_receive_nb(endpoint_t src, message_t *m)
{
    return (int)kcall3(KC_RECEIVE, (uint64_t)src, (uint64_t)m, RECV_NONBLOCK);
}
/* sendrec that gives up after ticks (ms) with E_TIMEDOUT: for peers that may never answer */
static inline int ipc_sendrec_bounded(endpoint_t dst, message_t *m, uint64_t ticks)
{
    return (int)kcall3(KC_SENDREC, (uint64_t)dst, (uint64_t)m, ticks);
}
/* Map zeroed pages in ep and fill their start with srclen bytes from src. */
static inline int sys_mem_map_fill(endpoint_t ep, uint64_t va, uint64_t len, int prot,
                                   const void *src, uint64_t srclen)
{
    return (int)kcall6(KC_MEM_MAP, (uint64_t)ep, va, len, (uint64_t)prot, (uint64_t)src, srclen);
}

/* Grants (grant.c): a free entry for grantee, GRANT_READ and/or GRANT_WRITE. The table has
 * GRANT_TABLE_DEFAULT entries; a program that needs more writes GRANT_TABLE(n) once, at file
 * scope (n <= GRANT_MAX_ENTRIES): its definitions replace lib/sys's weak ones. */
#define GRANT_TABLE_DEFAULT 64
#define GRANT_TABLE(n)                                                                             \
    struct grant grant_table[n];                                                                   \
    uint32_t grant_table_size = (n);                                                               \
    _Static_assert((n) > 0 && (n) <= GRANT_MAX_ENTRIES, "a grant table the kernel takes")
extern struct grant grant_table[];
extern uint32_t grant_table_size;
grant_id_t grant_alloc(endpoint_t grantee, const void *addr, uint64_t len, uint32_t access);
grant_id_t grant_alloc_indirect(endpoint_t grantee, endpoint_t granter, grant_id_t id, uint64_t off,
                                uint64_t len, uint32_t access);
void grant_free(grant_id_t id);
void *grant_memory(grant_id_t id, uint64_t *len);

/* The service framework (service.c). */
struct service_callbacks {
    int (*init_fresh)(void);                /* first start: 0 or an error */
    int (*init_restart)(uint64_t restarts); /* after a failure: read state back (from ds) */
    int (*healthy)(void);                   /* at each heartbeat: 0 = answer; otherwise stay */
                                            /* silent, so rs replaces the service */
    void (*save_state)(void);               /* before a planned stop: write state to ds */
};
extern uint64_t service_restarts;
/* label: the service's manifest label (for its log lines); returns the restart count */
uint64_t service_startup(const char *label, const struct service_callbacks *cb);
/* Receive from ANY; rs's heartbeat pings and save requests are answered here, and
 * only the service's own messages come back: 0, or the receive's error. */
int service_receive(message_t *m);
/* Answer a client waiting in sendrec: held, and sent by the next reply_and_receive with the wait
 * (one kernel entry), or before any other kernel call; lost, as sendnb's, if it gave up. */
void reply_hold(endpoint_t to, const message_t *m);
/* Send the held reply, if any, and receive from ANY into m (reply.c). */
int reply_and_receive(message_t *m);
int service_handle(const message_t *m); /* 1 if m was rs's heartbeat ping or save request (done) */
/* Answer a client waiting in sendrec without waiting ourselves: r as a reply of type (its
 * protocol's REPLY type; msg/reply.h); a client that gave up loses it. The second form sends
 * only a result. */
void service_reply(endpoint_t to, int32_t type, message_t *r);
void service_reply_result(endpoint_t to, int32_t type, int64_t result);
extern uint64_t service_refusals; /* requests this server refused for their sender */
/* Count a request refused for its sender and log it (the first 16, then the 32nd, 64th, ...);
 * the count. The caller answers the sender. */
uint64_t service_refuse(const char *server, const message_t *m, const char *why);

/* The driver libraries' shared parts (driver.c). driver_receive: the next message of a driver's
 * loop (service_receive); a failed receive is logged, HARDWARE notifications go to interrupt(irqs)
 * and SYSTEM alarms to alarm(now) (either may be 0). 1: m is a process's message for the library;
 * 0: nothing more to do with m. */
int driver_receive(const char *name, message_t *m, void (*interrupt)(uint32_t irqs),
                   void (*alarm)(uint64_t now));
/* Publish NAME SUFFIX = our endpoint in ds (only this service may write its label's keys); a
 * refusal is tried again at the next alarm (the caller calls again from its alarm, with the same
 * *tries, 0 at first), a bounded number of times, then logged. */
void driver_announce(const char *name, const char *suffix, int *tries);

/* The interrupt handled: its line unmasked (IRQ_ACK). If the kernel refuses, the line stays masked
 * and the driver would go on answering heartbeats and requests while its device is never heard
 * again (a silent stall no detector sees): it says so and exits, and rs starts a fresh instance. */
void driver_irq_ack(const char *name, int irq);

/* A driver's main(): its library's loop (task: blockdriver_task...) with its callback table. */
#define DRIVER_MAIN(task, table)                                                                   \
    int main(uint64_t arg)                                                                         \
    {                                                                                              \
        (void)arg;                                                                                 \
        task(&(table));                                                                            \
    }

/* A server's clients by label (clients.c): labels 0-terminated, at most CLIENT_SET_MAX. */
#define CLIENT_SET_MAX 8
struct client_set {
    const char *const *labels;
    endpoint_t ep[CLIENT_SET_MAX]; /* root's answer for each label; 0: not known */
};
int client_set_has(struct client_set *s, endpoint_t who); /* 1 if who runs under one of them */

/* Output through KC_LOG, line-buffered. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
void log_flush(void);

/* Strings */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy_s(char *d, const char *s, size_t n); /* always terminates */

/* This process's endpoint and its parent's, as the kernel started it. */
extern endpoint_t self_ep, parent_ep;

/* A small xorshift generator for tests and the fuzzer. */
uint64_t rand64(uint64_t *state);
/* Sort n numbers in place, smallest first (insertion sort: for the few samples of a measurement).
 */
void sort_u64(uint64_t *v, int n);

const char *strerror_s(int err);

#endif
