/*
 * Who a server's clients are, by label (the labels root knows services by):
 * a driver library checks every request's sender against its client list.
 * Known endpoints are kept; on a miss, root is asked again for every label
 * (a client may have started, or been restarted, since), so only the first
 * request of a new client costs the lookups. Endpoints carry a generation:
 * a reused slot never matches.
 */
#include <samsara/root.h>
#include "sys.h"

int client_set_has(struct client_set *s, endpoint_t who)
{
    if (who <= 0)
        return 0;
    for (int i = 0; i < CLIENT_SET_MAX && s->labels[i]; i++)
        if (s->ep[i] == who)
            return 1;
    for (int i = 0; i < CLIENT_SET_MAX && s->labels[i]; i++) {
        endpoint_t ep = root_lookup(s->labels[i]);
        if (ep > 0)
            s->ep[i] = ep;
        if (s->ep[i] == who)
            return 1;
    }
    return 0;
}
