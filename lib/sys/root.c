/*
 * Client stubs for rs (root), so that no service builds rs's requests by
 * hand (samsara/root.h has the protocol). Each is one sendrec to ROOT_EP;
 * rs answers at once.
 */
#include <samsara/root.h>
#include "sys.h"

/* The endpoint of the running service `label`, or a negative error (E_SRCH: none such, or down). */
endpoint_t root_lookup(const char *label)
{
    message_t m = {.type = ROOT_LOOKUP};
    strncpy_s((char *)m.u.b, label, ROOT_LABEL_MAX);
    int r = ipc_sendrec(ROOT_EP, &m);
    if (r < 0)
        return r;
    return m.type > 0 ? m.type : (m.type < 0 ? m.type : -E_SRCH);
}

/* Complain that `label` misbehaves: 0 (rs treats it as failed), or E_PERM, E_SRCH. */
int root_complain(const char *label, uint64_t ticks)
{
    message_t m = {.type = ROOT_COMPLAIN};
    strncpy_s((char *)m.u.b, label, ROOT_LABEL_MAX);
    int r = ticks ? ipc_sendrec_bounded(ROOT_EP, &m, ticks) : ipc_sendrec(ROOT_EP, &m);
    return r < 0 ? r : m.type;
}

/* Borrow the boot data module `name` (its manifest must name it): a read grant and its size. */
int root_module(const char *name, grant_id_t *grant, uint64_t *size)
{
    message_t m = {.type = ROOT_MODULE};
    strncpy_s((char *)m.u.b, name, ROOT_MODULE_NAME_MAX);
    int r = ipc_sendrec(ROOT_EP, &m);
    if (r < 0)
        return r;
    if (m.type < 0)
        return m.type;
    *grant = (grant_id_t)m.type;
    *size = m.u.w[1];
    return 0;
}
