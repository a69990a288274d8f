/*
 * Message bodies of the ROOT protocol: root and rs (samsara/root.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_root, reached as m.u.root.NAME. Every
 * reply has type ROOT_REPLY and starts with the result (samsara/errno.h
 * values when negative); a request that carries nothing (ROOT_SAVE,
 * ROOT_SAVED) has no struct.
 */
#ifndef SAMSARA_MSG_ROOT_H
#define SAMSARA_MSG_ROOT_H

#include <stdint.h>
#include <samsara/msg/reply.h>

#define ROOT_LABEL_MAX 16       /* a label with its NUL, as the requests carry it */
#define ROOT_MODULE_NAME_MAX 32 /* a module name with its NUL (ROOT_MODULE) */

/* ROOT_LOOKUP, ROOT_COMPLAIN: a service's label. Reply: msg_reply (lookup: the endpoint). */
struct root_label {
    char label[ROOT_LABEL_MAX]; /* NUL-terminated */
};

/* ROOT_MODULE: borrow a boot data module. */
struct root_module {
    char name[ROOT_MODULE_NAME_MAX]; /* NUL-terminated, e.g. "initramfs.cpio" */
};
struct root_module_reply {
    int64_t result; /* a grant id (read access for the caller), or an error */
    uint64_t size;  /* the module's size in bytes */
};

/* ROOT_READY: a service's readiness, or first only a question. */
struct root_ready {
    uint64_t query; /* 1: not yet ready, only asking for restarts; 0: ready now */
};
struct root_ready_reply {
    int64_t result;    /* 0, or E_SRCH: not a running service */
    uint64_t restarts; /* how often rs restarted it (0: a fresh start): read the state back */
};

/* ROOT_STATE_GROW: the caller's state region to reach len bytes. Reply: msg_reply (its length). */
struct root_state_grow {
    uint64_t len;
};

/* ROOT_SERVICE: an administrator's request (a manager's). */
struct root_service {
    uint64_t op;                /* SVC_*, with SVC_FORCE for kill, restart, down */
    uint64_t line;              /* SVC_LOG, SVC_LIST: the line number */
    char label[ROOT_LABEL_MAX]; /* the others: the service, NUL-terminated */
};
/* Its reply to SVC_STATS; the other ops reply msg_reply or root_line_reply. */
struct root_stats_reply {
    int64_t result;
    uint64_t restarts;
    uint64_t last_us; /* recovery time (failure to ROOT_READY) of the last restart */
    uint64_t mean_us; /* of all recoveries */
    uint64_t max_us;
    uint64_t state;             /* SVC_STATE_* */
    uint64_t slowest_answer_ms; /* the longest it took to answer a heartbeat */
};
#define ROOT_LINE_MAX 48
struct root_line_reply {
    int64_t result;           /* the line's length (no NUL), 0: no more lines */
    char text[ROOT_LINE_MAX]; /* the line, cut to fit */
};

/* ROOT_SPAWN: a manager starts a helper. Reply: msg_reply, result = the helper's endpoint. */
struct root_spawn {
    char module[12];   /* boot module image, e.g. "ktest" */
    char manifest[12]; /* the label of the manifest it runs with, e.g. "unpriv" */
    char arg[32];      /* string handed to the child's main */
};

union msg_root {
    struct msg_reply reply;
    struct root_label label;
    struct root_module module;
    struct root_module_reply module_reply;
    struct root_ready ready;
    struct root_ready_reply ready_reply;
    struct root_state_grow state_grow;
    struct root_service service;
    struct root_stats_reply stats;
    struct root_line_reply line;
    struct root_spawn spawn;
};
MSG_BODY_FITS(union msg_root);

#endif
