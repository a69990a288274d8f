/*
 * demo: a character driver with state, for showing reincarnation. Each
 * read of minor 0 adds one to a counter and returns it as text ("42\n").
 * The counter is kept with root (ROOT_PUBLISH) before the answer leaves, so
 * a restarted instance (ROOT_READY says it is one) reads it back and goes
 * on where the dead one stopped: a client sees every value once, in order.
 */
#include <samsara/root.h>
#include "chardriver/chardriver.h"
#include "format/format.h"

static uint64_t counter;

static int state(int type)
{
    message_t m = {.type = type};
    strncpy_s((char *)m.u.b, "counter", ROOT_KEY_LEN);
    memcpy(m.u.b + ROOT_KEY_LEN, &counter, sizeof(counter));
    if (ipc_sendrec(ROOT_EP, &m) < 0 || m.type < 0)
        return -1;
    if (type == ROOT_RETRIEVE)
        memcpy(&counter, m.u.b + ROOT_KEY_LEN, sizeof(counter));
    return 0;
}

static int64_t demo_read(const struct chardriver_req *r)
{
    char text[24];
    counter++;
    if (state(ROOT_PUBLISH) < 0)
        return -LX_EIO;
    int n = snprintf_s(text, sizeof(text), "%lu\n", counter);
    if ((uint64_t)n > r->size)
        return -LX_EINVAL;
    return sys_safecopy_to(r->source, r->grant, 0, text, (uint64_t)n) < 0 ? -LX_EFAULT : n;
}

static const struct chardriver demo = {.minors = 1, .read = demo_read};

int main(uint64_t arg)
{
    (void)arg;
    message_t m = {.type = ROOT_READY};
    if (state(ROOT_RETRIEVE) < 0)
        counter = 0; /* a fresh start: nothing kept yet */
    ipc_sendrec(ROOT_EP, &m); /* ready: recovery time stops here */
    chardriver_task(&demo);
    return 0;
}
