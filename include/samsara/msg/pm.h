/*
 * Message bodies of the PM protocol: pm's requests from system servers (samsara/pm.h).
 * One struct per request and per reply that carries more than a result;
 * each is a member of union msg_pm, reached as m.u.pm.NAME. Every reply has
 * type PM_REPLY and starts with the result (a Linux errno when negative).
 */
#ifndef SAMSARA_MSG_PM_H
#define SAMSARA_MSG_PM_H

#include <stdint.h>
#include <samsara/msg/reply.h>

/* PM_RUN: run a program (rs's policy scripts); reply: msg_reply, result = its pid. */
struct pm_run {
    int64_t argv_grant; /* grant (read) of argv, NUL-separated strings */
    uint64_t argv_len;  /* their length in bytes, at most 1 KiB */
};

/* PM_RESULTS' reply: one finished PM_RUN program, oldest first. */
struct pm_results_reply {
    int64_t result;  /* its pid; 0: none left */
    uint64_t status; /* its wait status */
};

union msg_pm {
    struct msg_reply reply;
    struct pm_run run;
    struct pm_results_reply results;
};
MSG_BODY_FITS(union msg_pm);

#endif
