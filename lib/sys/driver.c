/*
 * What the driver libraries (lib/blockdriver, lib/chardriver, lib/netdriver)
 * share around their own protocol: the receive of their loop, which hands
 * the kernel's notifications to the driver's callbacks, and the driver's
 * announcement in ds.
 */
#include <samsara/ds.h>
#include "format/format.h"
#include "sys.h"

int driver_receive(const char *name, message_t *m, void (*interrupt)(uint32_t irqs),
                   void (*alarm)(uint64_t now))
{
    int r = service_receive(m); /* rs's heartbeat pings are answered in there */
    if (r < 0) {
        printf("%s: receive failed: %s\n", name, strerror_s(r));
        return 0;
    }
    if (m->source == HARDWARE) {
        if (interrupt)
            interrupt((uint32_t)m->u.notify.bits);
        return 0;
    }
    if (m->source == SYSTEM) {
        if ((m->u.notify.bits & NOTIFY_ALARM) && alarm)
            alarm(m->u.notify.ticks);
        return 0;
    }
    return 1;
}

/*
 * At boot, rs tells ds who owns which label only once ds is ready, so a
 * refusal (E_PERM) or a ds not yet there (E_SRCH) is retried at the loop's
 * alarms, every DRIVER_ANNOUNCE_RETRY_MS, DRIVER_ANNOUNCE_TRIES times.
 */
#define DRIVER_ANNOUNCE_RETRY_MS 10
#define DRIVER_ANNOUNCE_TRIES 500

void driver_announce(const char *name, const char *suffix, int *tries)
{
    if (*tries >= DRIVER_ANNOUNCE_TRIES)
        return; /* done, or given up */
    char key[DS_KEY_MAX];
    snprintf_s(key, sizeof(key), "%s%s", name, suffix);
    int r = ds_publish_u64(key, (uint64_t)self_ep, DS_OVERWRITE);
    if (r == 0 || ++*tries >= DRIVER_ANNOUNCE_TRIES) {
        *tries = DRIVER_ANNOUNCE_TRIES;
        if (r < 0)
            printf("%s: cannot announce itself in ds (%s)\n", name, strerror_s(r));
        return;
    }
    sys_alarm(DRIVER_ANNOUNCE_RETRY_MS);
}

void driver_irq_ack(const char *name, int irq)
{
    int r = sys_irqctl(IRQ_ACK, irq);
    if (r < 0) {
        printf("%s: cannot acknowledge IRQ %d (%s): its line would stay masked; exiting for a "
               "fresh instance\n",
               name, irq, strerror_s(r));
        sys_exit(1);
    }
}
