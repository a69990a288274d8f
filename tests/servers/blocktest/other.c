/*
 * blockother: blocktest's image under another label (argument "other"),
 * which the driver does not serve. It does what blocktest asks
 * (TEST_BLOCK_DO): send the driver a request (which must be refused), or
 * kill the driver through rs every `arg` ms until told to stop (the kills
 * behind recovery.c's stress test, while blocktest is busy in lib/bdev).
 */
#include <samsara/ds.h>
#include <samsara/msg/bdev.h>
#include <samsara/root.h>
#include "blocktest.h"

/* m to the driver's current instance: its answer's result, or the IPC error. */
static int64_t send_driver(message_t *m)
{
    int r = ipc_sendrec_bounded(drv, m, 3000);
    return r < 0 ? r : m->u.bdev.reply.result;
}

/* Kill the driver every period ms until blocktest's DO_KILLER_STOP: the answer is the count. */
static void killer(uint64_t period)
{
    uint64_t kills = 0;
    for (;;) {
        message_t m;
        sys_alarm(period);
        if (ipc_receive(ANY, &m) < 0)
            continue;
        if (m.source == SYSTEM) {
            if ((m.u.notify.bits & NOTIFY_ALARM) && root_service(SVC_KILL, driver, 0) == 0)
                kills++;
            continue;
        }
        if (m.type == TEST_BLOCK_DO && m.u.w[0] == DO_KILLER_STOP) {
            sys_alarm(0);
            m.u.w[0] = kills;
            ipc_sendnb(m.source, &m);
            return;
        }
    }
}

int other_main(void)
{
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0 || m.type != TEST_BLOCK_DO)
            continue;
        endpoint_t who = m.source;
        uint64_t op = m.u.w[0], arg = m.u.w[1];
        int64_t r = -E_INVAL;
        message_t q = {0};
        static uint8_t sector[SECTOR];
        drv = announced(0, 1000);
        switch (op) {
        case DO_OPEN:
            q = (message_t){.type = BDEV_OPEN, .u.bdev.open = {0, BDEV_R}};
            r = send_driver(&q);
            break;
        case DO_READ: {
            grant_id_t g = grant_alloc(drv, sector, SECTOR, GRANT_WRITE);
            q = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, 1, 0, -1, {{g, 0, SECTOR}}}};
            r = send_driver(&q);
            grant_free(g);
            break;
        }
        case DO_KILLER_START:
            m.u.w[0] = 0;
            ipc_sendnb(who, &m); /* answered first: blocktest goes on while we kill */
            killer(arg);
            continue;
        }
        m.u.w[0] = (uint64_t)r;
        ipc_sendnb(who, &m);
    }
}
