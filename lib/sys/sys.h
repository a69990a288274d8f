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

static inline int64_t kcall6(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                             uint64_t a4, uint64_t a5)
{
    int64_t r;
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

/* IPC */
static inline int ipc_send(endpoint_t dst, message_t *m)
{
    return (int)kcall2(KC_SEND, (uint64_t)dst, (uint64_t)m);
}
static inline int ipc_sendnb(endpoint_t dst, message_t *m)
{
    return (int)kcall2(KC_SENDNB, (uint64_t)dst, (uint64_t)m);
}
static inline int ipc_receive(endpoint_t src, message_t *m)
{
    return (int)kcall3(KC_RECEIVE, (uint64_t)src, (uint64_t)m, 0);
}
static inline int ipc_receive_nb(endpoint_t src, message_t *m)
{
    return (int)kcall3(KC_RECEIVE, (uint64_t)src, (uint64_t)m, RECV_NONBLOCK);
}
static inline int ipc_sendrec(endpoint_t dst, message_t *m)
{
    return (int)kcall2(KC_SENDREC, (uint64_t)dst, (uint64_t)m);
}
/* sendrec that gives up after ticks (ms) with E_TIMEDOUT: for peers that may never answer */
static inline int ipc_sendrec_bounded(endpoint_t dst, message_t *m, uint64_t ticks)
{
    return (int)kcall3(KC_SENDREC, (uint64_t)dst, (uint64_t)m, ticks);
}
static inline int ipc_notify(endpoint_t dst)
{
    return (int)kcall1(KC_NOTIFY, (uint64_t)dst);
}

/* Kernel calls */
static inline uint64_t sys_uptime(void)
{
    return (uint64_t)kcall0(KC_UPTIME);
}
static inline uint64_t sys_tsc(void)
{
    return (uint64_t)kcall0(KC_TSC);
}
static inline int sys_alarm(uint64_t ticks)
{
    return (int)kcall1(KC_ALARM, ticks);
}
static inline int64_t sys_ioport(int op, uint16_t port, uint32_t v)
{
    return kcall3(KC_IOPORT, (uint64_t)op, port, v);
}
static inline int sys_irqctl(int op, int irq)
{
    return (int)kcall2(KC_IRQCTL, (uint64_t)op, (uint64_t)irq);
}
static inline int sys_setgrant(struct grant *t, uint64_t n)
{
    return (int)kcall2(KC_SETGRANT, (uint64_t)t, n);
}
static inline int sys_safecopy_from(endpoint_t g, grant_id_t id, uint64_t off, void *addr,
                                    uint64_t len)
{
    return (int)kcall6(KC_SAFECOPY_FROM, (uint64_t)g, (uint64_t)id, off, (uint64_t)addr, len, 0);
}
static inline int sys_safecopy_to(endpoint_t g, grant_id_t id, uint64_t off, const void *addr,
                                  uint64_t len)
{
    return (int)kcall6(KC_SAFECOPY_TO, (uint64_t)g, (uint64_t)id, off, (uint64_t)addr, len, 0);
}
/* dir GRANT_READ: granters -> caller; GRANT_WRITE: caller -> granters. Total length, or an error.
 */
static inline int64_t sys_safecopy_vec(uint32_t dir, const struct safecopy_piece *v, uint64_t n)
{
    return kcall3(KC_SAFECOPY_VEC, dir, (uint64_t)v, n);
}
static inline endpoint_t sys_proc_create(endpoint_t parent, const char *name)
{
    return (endpoint_t)kcall2(KC_PROC_CREATE, (uint64_t)parent, (uint64_t)name);
}
static inline int sys_proc_start(endpoint_t ep, uint64_t rip, uint64_t rsp, uint64_t arg, int prio)
{
    return (int)kcall6(KC_PROC_START, (uint64_t)ep, rip, rsp, arg, (uint64_t)prio, 0);
}
static inline int sys_proc_kill(endpoint_t ep)
{
    return (int)kcall1(KC_PROC_KILL, (uint64_t)ep);
}
static inline int sys_proc_info(endpoint_t ep, struct proc_info *i)
{
    return (int)kcall2(KC_PROC_INFO, (uint64_t)ep, (uint64_t)i);
}
static inline endpoint_t sys_proc_reap(struct death_info *d)
{
    return (endpoint_t)kcall1(KC_PROC_REAP, (uint64_t)d);
}
static inline int sys_mem_map(endpoint_t ep, uint64_t va, uint64_t len, int prot)
{
    return (int)kcall6(KC_MEM_MAP, (uint64_t)ep, va, len, (uint64_t)prot, 0, 0);
}
/* Map zeroed pages in ep and fill their start with srclen bytes from src. */
static inline int sys_mem_map_fill(endpoint_t ep, uint64_t va, uint64_t len, int prot,
                                   const void *src, uint64_t srclen)
{
    return (int)kcall6(KC_MEM_MAP, (uint64_t)ep, va, len, (uint64_t)prot, (uint64_t)src, srclen);
}
static inline int sys_mem_unmap(endpoint_t ep, uint64_t va, uint64_t len)
{
    return (int)kcall3(KC_MEM_UNMAP, (uint64_t)ep, va, len);
}
static inline int sys_vcopy(endpoint_t se, uint64_t s, endpoint_t de, uint64_t d, uint64_t len)
{
    return (int)kcall6(KC_VCOPY, (uint64_t)se, s, (uint64_t)de, d, len, 0);
}
static inline int sys_priv_set(endpoint_t ep, const struct priv *p)
{
    return (int)kcall2(KC_PRIV_SET, (uint64_t)ep, (uint64_t)p);
}
static inline int sys_priv_ipc(endpoint_t ep, endpoint_t target, int on)
{
    return (int)kcall3(KC_PRIV_IPC, (uint64_t)ep, (uint64_t)target, (uint64_t)on);
}
static inline int64_t sys_trace_read(uint64_t first, struct trace_entry *buf, uint64_t max)
{
    return kcall3(KC_TRACE_READ, first, (uint64_t)buf, max);
}
static inline int sys_sysinfo(struct sysinfo *s)
{
    return (int)kcall1(KC_SYSINFO, (uint64_t)s);
}
static inline int sys_selfcheck(void)
{
    return (int)kcall0(KC_SELFCHECK);
}
static inline int sys_mapphys(uint64_t pa, uint64_t len, uint64_t va)
{
    return (int)kcall3(KC_MAPPHYS, pa, len, va);
}
static inline int sys_dmaalloc(uint64_t len, uint64_t va, uint64_t *pa)
{
    return (int)kcall3(KC_DMAALLOC, len, va, (uint64_t)pa);
}
static inline int sys_priv_device(endpoint_t ep, int op, uint64_t base, uint64_t len)
{
    return (int)kcall6(KC_PRIV_DEVICE, (uint64_t)ep, (uint64_t)op, base, len, 0, 0);
}
static inline int64_t sys_dma_release(endpoint_t ep)
{
    return kcall1(KC_DMA_RELEASE, (uint64_t)ep);
}
_Noreturn void sys_exit(int code);

/* Grants (grant.c): a free entry for grantee, GRANT_READ and/or GRANT_WRITE. */
grant_id_t grant_alloc(endpoint_t grantee, const void *addr, uint64_t len, uint32_t access);
grant_id_t grant_alloc_indirect(endpoint_t grantee, endpoint_t granter, grant_id_t id, uint64_t off,
                                uint64_t len, uint32_t access);
void grant_free(grant_id_t id);
void *grant_memory(grant_id_t id, uint64_t *len);

static inline int sys_proc_fork(endpoint_t ep)
{
    return (int)kcall1(KC_PROC_FORK, (uint64_t)ep);
}
struct user_regs;
static inline int sys_proc_regs(endpoint_t ep, int op, struct user_regs *r)
{
    return (int)kcall3(KC_PROC_REGS, (uint64_t)ep, (uint64_t)op, (uint64_t)r);
}
static inline int sys_proc_name(endpoint_t ep, const char *name)
{
    return (int)kcall2(KC_PROC_NAME, (uint64_t)ep, (uint64_t)name);
}
static inline int sys_mem_protect(endpoint_t ep, uint64_t va, uint64_t len, int prot)
{
    return (int)kcall6(KC_MEM_PROTECT, (uint64_t)ep, va, len, (uint64_t)prot, 0, 0);
}
static inline int sys_linux_servers(endpoint_t pm, endpoint_t vfs)
{
    return (int)kcall2(KC_LINUX_SERVERS, (uint64_t)pm, (uint64_t)vfs);
}

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
int service_handle(const message_t *m); /* 1 if m was rs's heartbeat ping or save request (done) */
extern uint64_t service_refusals;       /* requests this server refused for their sender */
/* Count a request refused for its sender and log it (the first 16, then the 32nd, 64th, ...);
 * the count. The caller answers the sender. */
uint64_t service_refuse(const char *server, const message_t *m, const char *why);

/* A server's clients by label (clients.c): labels 0-terminated, at most CLIENT_SET_MAX. */
#define CLIENT_SET_MAX 4
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
