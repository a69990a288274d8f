/*
 * Replies held for the next receive: reply_hold keeps a server's answer to a
 * client waiting in sendrec, and reply_and_receive sends it and waits for the
 * next message in one kernel entry (KC_REPLY_RECEIVE). Order is kept: any
 * other kernel call first sends the held reply (kcall6 in sys.h calls
 * reply_flush), and a second reply sends the first. A reply, like
 * sendnb's, is lost if its client no longer waits for it.
 */
#include "sys.h"

endpoint_t reply_held_to; /* the client the held reply is for; 0: none */
static message_t held;

void reply_flush(void)
{
    endpoint_t to = reply_held_to;
    reply_held_to = 0;
    ipc_sendnb(to, &held);
}

void reply_hold(endpoint_t to, const message_t *m)
{
    if (reply_held_to)
        reply_flush();
    held = *m;
    if (to <= 0) /* not a client: its error is sendnb's */
        ipc_sendnb(to, &held);
    else
        reply_held_to = to;
}

int reply_and_receive(message_t *m)
{
    int r = -E_AGAIN;
    endpoint_t to = reply_held_to;
    if (to) {
        reply_held_to = 0;
        *m = held;
        r = ipc_reply_receive(to, m);
        if (r < 0 && r != -E_AGAIN) /* not sent (a bad buffer): send it alone */
            ipc_sendnb(to, &held);
    }
    return r < 0 ? ipc_receive(ANY, m) : r;
}
