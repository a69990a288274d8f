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
 *
 * A requester that lent a mailbox (CDEV_MAILBOX) gets its items written
 * there as soon as they are queued, oldest first, as long as the box has
 * room (samsara/fs.h); what does not fit stays queued until the requester
 * notifies that it took some. A copy that fails (the requester withdrew the
 * grant or died) drops the mailbox; the items stay queued for CDEV_STATUS.
 */
#include <stddef.h>
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

#define MAILBOX_MAX 4
static struct {
    endpoint_t who; /* 0: free */
    grant_id_t grant;
    uint64_t head; /* items written: ours; the box's tail is the requester's */
} boxes[MAILBOX_MAX];

static int box_of(endpoint_t who)
{
    for (int i = 0; i < MAILBOX_MAX; i++)
        if (who > 0 && boxes[i].who == who)
            return i;
    return -1;
}

static void flush(endpoint_t who);

/* 1 if who, a client that lent a mailbox, is dead (rs restarted vfs): its box can be reused. */
static int gone(endpoint_t who, grant_id_t grant)
{
    uint64_t tail;
    int r = sys_safecopy_from(who, grant, offsetof(struct cdev_mailbox, tail), &tail, 8);
    return r == -E_DEADEP || r == -E_SRCH;
}

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
    flush(dest);
    ipc_notify(dest); /* notifications merge: one is enough for many items */
}

/* Write who's queued items into its mailbox while it has room. */
static void flush(endpoint_t who)
{
    int b = box_of(who);
    if (b < 0)
        return;
    const uint64_t tail_at = offsetof(struct cdev_mailbox, tail);
    for (int i = 0; i < queued;) {
        if (queue[i].dest != who) {
            i++;
            continue;
        }
        uint64_t tail;
        if (sys_safecopy_from(who, boxes[b].grant, tail_at, &tail, 8) < 0)
            goto drop;
        if (tail > boxes[b].head || boxes[b].head - tail >= CDEV_MAILBOX_ITEMS)
            return; /* full (or a tail we never wrote up to: wait for a sane one) */
        struct cdev_status_item item = {(uint64_t)queue[i].kind, queue[i].w1, queue[i].w2};
        uint64_t at = offsetof(struct cdev_mailbox, item) +
                      (boxes[b].head % CDEV_MAILBOX_ITEMS) * sizeof(item);
        uint64_t head = boxes[b].head + 1;
        if (sys_safecopy_to(who, boxes[b].grant, at, &item, sizeof(item)) < 0 ||
            sys_safecopy_to(who, boxes[b].grant, 0, &head, 8) < 0)
            goto drop;
        boxes[b].head = head;
        remove_at(i);
    }
    return;
drop:
    printf("chardriver: the status mailbox of endpoint %d is gone\n", who);
    boxes[b].who = 0;
    if (gone(who, boxes[b].grant))
        chardriver_forget(who); /* it died: its suspended requests too */
}

/*
 * CDEV_MAILBOX from a client: from now on its items go to the struct
 * cdev_mailbox its grant covers (size 0: back to CDEV_STATUS). Writing
 * starts at the box's tail; the client also becomes the signals' receiver.
 */
int chardriver_set_mailbox(endpoint_t who, grant_id_t grant, uint64_t size)
{
    int b = box_of(who);
    if (b >= 0)
        boxes[b].who = 0;
    if (!size)
        return 0;
    if (size < sizeof(struct cdev_mailbox) || grant < 0)
        return -LX_EINVAL;
    uint64_t tail;
    for (b = 0; b < MAILBOX_MAX; b++) /* a box whose client died (vfs restarted): free */
        if (boxes[b].who && gone(boxes[b].who, boxes[b].grant)) {
            chardriver_forget(boxes[b].who);
            boxes[b].who = 0;
        }
    for (b = 0; b < MAILBOX_MAX && boxes[b].who; b++)
        ;
    if (b == MAILBOX_MAX)
        return -LX_ENOSPC;
    if (sys_safecopy_from(who, grant, offsetof(struct cdev_mailbox, tail), &tail, 8) < 0 ||
        sys_safecopy_to(who, grant, 0, &tail, 8) < 0)
        return -LX_EFAULT; /* the grant must let us read and write the box */
    boxes[b].who = who;
    boxes[b].grant = grant;
    boxes[b].head = tail;
    owner = who;
    flush(who);
    return 0;
}

void chardriver_mailbox_room(endpoint_t who)
{
    flush(who);
}

int chardriver_done_queued(void)
{
    return done_queued;
}

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
    message_t r = {.type = CDEV_REPLY, .u.cdev.status.result = CDEV_ST_NONE};
    for (int i = 0; i < queued; i++)
        if (queue[i].dest == asker) {
            r.u.cdev.status = (struct msg_cdev_status){queue[i].kind, queue[i].w1, queue[i].w2};
            remove_at(i);
            break;
        }
    ipc_sendnb(asker, &r);
}

void chardriver_signal(int32_t pgrp, int sig)
{
    push(owner, CDEV_ST_SIGNAL, (uint64_t)pgrp, (uint64_t)sig);
}

void chardriver_set_owner(endpoint_t who)
{
    owner = who;
}

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
