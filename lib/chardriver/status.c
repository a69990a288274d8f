/*
 * libchardriver's status side: the queue of CDEV_ST_* items waiting for
 * their requester to pull them with CDEV_STATUS, the select watches, and the
 * endpoint that receives signals.
 *
 * The queue is bounded (CHARDRIVER_STATUS_MAX). A DONE item is never dropped:
 * chardriver.c suspends a request only while suspended requests plus queued
 * DONE items stay within the bound, so when a DONE item arrives and the queue
 * is full, at least one SELECT or SIGNAL item is there to evict. Eviction
 * takes the oldest SELECT item first, then the oldest SIGNAL item; a SELECT
 * or SIGNAL arriving at a queue full of DONE items is dropped. SELECT items
 * for the same requester and minor merge into one.
 */
#include "internal.h"

struct status_item {
    endpoint_t dest;
    int kind; /* CDEV_ST_* */
    uint64_t w1, w2;
};

static struct status_item queue[CHARDRIVER_STATUS_MAX];
static int queued;
static int done_queued;

static struct {
    endpoint_t who; /* 0: free */
    int minor;
    unsigned ops; /* still wanted */
} watches[CHARDRIVER_WATCH_MAX];

static endpoint_t owner; /* who gets CDEV_ST_SIGNAL: the last opener */

static void remove_at(int i)
{
    if (queue[i].kind == CDEV_ST_DONE)
        done_queued--;
    for (int j = i; j + 1 < queued; j++)
        queue[j] = queue[j + 1];
    queued--;
}

/* Make room by evicting the oldest item of this kind; 1 if one went. */
static int evict(int kind)
{
    for (int i = 0; i < queued; i++)
        if (queue[i].kind == kind) {
            remove_at(i);
            return 1;
        }
    return 0;
}

static void push(endpoint_t dest, int kind, uint64_t w1, uint64_t w2)
{
    if (dest <= 0)
        return;
    if (queued == CHARDRIVER_STATUS_MAX && !evict(CDEV_ST_SELECT) && !evict(CDEV_ST_SIGNAL)) {
        if (kind != CDEV_ST_DONE)
            return; /* full of DONE items: this one is lost */
        printf("chardriver: status queue full of DONE items (a bug)\n");
        return;
    }
    queue[queued++] = (struct status_item){dest, kind, w1, w2};
    if (kind == CDEV_ST_DONE)
        done_queued++;
    ipc_notify(dest); /* notifications merge: one is enough for many items */
}

int chardriver_done_queued(void) { return done_queued; }

void chardriver_queue_done(endpoint_t dest, uint64_t id, int64_t result)
{
    push(dest, CDEV_ST_DONE, id, (uint64_t)result);
}

/* Take back a DONE item that was not pulled yet (a cancel raced with it). */
int chardriver_take_done(endpoint_t dest, uint64_t id, int64_t *result)
{
    for (int i = 0; i < queued; i++)
        if (queue[i].kind == CDEV_ST_DONE && queue[i].dest == dest && queue[i].w1 == id) {
            *result = (int64_t)queue[i].w2;
            remove_at(i);
            return 1;
        }
    return 0;
}

/* CDEV_STATUS: the oldest item for the asker, or CDEV_ST_NONE. */
void chardriver_status_reply(endpoint_t asker)
{
    message_t r = {.type = CDEV_REPLY, .u.w = {CDEV_ST_NONE}};
    for (int i = 0; i < queued; i++)
        if (queue[i].dest == asker) {
            r.u.w[0] = (uint64_t)queue[i].kind;
            r.u.w[1] = queue[i].w1;
            r.u.w[2] = queue[i].w2;
            remove_at(i);
            break;
        }
    ipc_sendnb(asker, &r);
}

void chardriver_signal(int32_t pgrp, int sig) { push(owner, CDEV_ST_SIGNAL, (uint64_t)pgrp, (uint64_t)sig); }

void chardriver_set_owner(endpoint_t who) { owner = who; }

/*
 * Remember that `who` wants to hear when ops become ready on minor (the
 * ops accumulate until reported). 0 if recorded; if the table is full the
 * ops are answered as ready now, so a poller retries rather than hangs.
 */
unsigned chardriver_watch(endpoint_t who, int minor, unsigned ops)
{
    int free_slot = -1;
    for (int i = 0; i < CHARDRIVER_WATCH_MAX; i++) {
        if (watches[i].who == who && watches[i].minor == minor) {
            watches[i].ops |= ops;
            return 0;
        }
        if (!watches[i].who && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return ops;
    watches[free_slot].who = who;
    watches[free_slot].minor = minor;
    watches[free_slot].ops = ops;
    return 0;
}

void chardriver_select_ready(int minor, unsigned ops)
{
    for (int i = 0; i < CHARDRIVER_WATCH_MAX; i++) {
        if (!watches[i].who || watches[i].minor != minor || !(watches[i].ops & ops))
            continue;
        unsigned now = watches[i].ops & ops;
        endpoint_t who = watches[i].who;
        watches[i].ops &= ~now;
        if (!watches[i].ops)
            watches[i].who = 0;
        int merged = 0;
        for (int j = 0; j < queued && !merged; j++)
            if (queue[j].kind == CDEV_ST_SELECT && queue[j].dest == who &&
                queue[j].w1 == (uint64_t)minor) {
                queue[j].w2 |= now;
                merged = 1;
            }
        if (merged)
            ipc_notify(who);
        else
            push(who, CDEV_ST_SELECT, (uint64_t)minor, now);
    }
}
