/*
 * libnetdriver's status side: the items waiting to go into the client's
 * mailbox (struct net_mailbox, samsara/net.h), and the writing of them.
 *
 * Items are queued here first and written at flush time, after each
 * message the loop handles: every item that fits goes in one vector copy
 * (the items, at most two runs around the ring's end, then head), and the
 * client gets one notification for the lot. The queue is never full when
 * an item comes: netdriver.c accepts a request only while the requests in
 * flight plus the items queued stay within NETDRIVER_SEND_MAX and
 * NETDRIVER_RECV_MAX, and a link item replaces an earlier one.
 *
 * tail is the client's: it is read only when the box looks full, and a tail
 * beyond head or more than a box behind it counts as "full" (we wait for a
 * sane one). A copy that fails (the client withdrew the grant or died)
 * drops the client: netdriver.c then ignores requests until a new NET_INIT.
 */
#include <stddef.h>
#include "internal.h"

#define QUEUE_MAX (NETDRIVER_SEND_MAX + NETDRIVER_RECV_MAX + 1)

static struct net_status_item queue[QUEUE_MAX]; /* oldest first */
static int queued;
static int queued_of[NET_ST_LINK + 1]; /* per kind */

static struct {
    endpoint_t who; /* 0: none */
    grant_id_t grant;
    uint64_t head, tail; /* ours; the last tail we read */
} box;

int netdriver_status_queued(int kind)
{
    return queued_of[kind];
}

void netdriver_status_push(int kind, uint64_t id, int64_t value)
{
    if (kind == NET_ST_LINK)
        for (int i = 0; i < queued; i++)
            if (queue[i].kind == NET_ST_LINK) {
                queue[i].value = value; /* only the last state matters */
                return;
            }
    if (queued == QUEUE_MAX) {
        printf("netdriver: status queue full (a bug): item %d for id %lu lost\n", kind, id);
        return;
    }
    queue[queued++] = (struct net_status_item){(uint64_t)kind, id, value};
    queued_of[kind]++;
}

void netdriver_status_forget(void)
{
    queued = 0;
    for (int k = 0; k <= NET_ST_LINK; k++)
        queued_of[k] = 0;
}

int netdriver_status_open(endpoint_t who, grant_id_t grant, uint64_t size)
{
    uint64_t tail;
    box.who = 0;
    netdriver_status_forget();
    if (size < sizeof(struct net_mailbox) || grant < 0)
        return -E_INVAL;
    /* The grant must let us read and write the box: start writing at its tail. */
    if (sys_safecopy_from(who, grant, offsetof(struct net_mailbox, tail), &tail, 8) < 0 ||
        sys_safecopy_to(who, grant, offsetof(struct net_mailbox, head), &tail, 8) < 0)
        return -E_FAULT;
    box.who = who;
    box.grant = grant;
    box.head = box.tail = tail;
    return 0;
}

endpoint_t netdriver_status_client(void)
{
    return box.who;
}

/* Room in the box for n items? Reads the client's tail only when it looks full. */
static uint64_t room(void)
{
    if (box.head - box.tail < NET_MAILBOX_ITEMS)
        return NET_MAILBOX_ITEMS - (box.head - box.tail);
    uint64_t tail;
    if (sys_safecopy_from(box.who, box.grant, offsetof(struct net_mailbox, tail), &tail, 8) < 0)
        return ~0ull; /* the copy of the items will fail too, and drop the client */
    if (tail > box.head || box.head - tail > NET_MAILBOX_ITEMS)
        return 0;
    box.tail = tail;
    return NET_MAILBOX_ITEMS - (box.head - box.tail);
}

void netdriver_status_flush(void)
{
    if (!box.who || !queued)
        return;
    uint64_t n = room();
    if (n > (uint64_t)queued)
        n = (uint64_t)queued;
    if (!n)
        return; /* the client notifies us when it has made room */
    struct safecopy_piece v[3];
    int pieces = 0;
    uint64_t first = box.head % NET_MAILBOX_ITEMS, done = 0;
    while (done < n) { /* one run up to the ring's end, then one from its start */
        uint64_t at = (first + done) % NET_MAILBOX_ITEMS;
        uint64_t run = NET_MAILBOX_ITEMS - at < n - done ? NET_MAILBOX_ITEMS - at : n - done;
        v[pieces++] = (struct safecopy_piece){box.who, box.grant,
                                              offsetof(struct net_mailbox, item) +
                                                  at * sizeof(struct net_status_item),
                                              (uint64_t)&queue[done], run * sizeof(queue[0])};
        done += run;
    }
    uint64_t head = box.head + n;
    v[pieces++] = (struct safecopy_piece){box.who, box.grant, offsetof(struct net_mailbox, head),
                                          (uint64_t)&head, 8};
    if (sys_safecopy_vec(GRANT_WRITE, v, (uint64_t)pieces) < 0) {
        printf("netdriver: the status mailbox of endpoint %d is gone\n", box.who);
        box.who = 0;
        netdriver_status_forget();
        return;
    }
    box.head = head;
    for (uint64_t i = 0; i < n; i++)
        queued_of[queue[i].kind]--;
    for (int i = (int)n; i < queued; i++)
        queue[i - (int)n] = queue[i];
    queued -= (int)n;
    ipc_notify(box.who); /* notifications merge: one for the lot */
}
