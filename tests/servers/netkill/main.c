/*
 * netkill LABEL PERIOD_MS: while the ds key inet.stress is 1 (inet's self-test publishes it
 * around its TCP stream, net/inet/netif_test.c), has rs kill service LABEL every PERIOD_MS
 * (SVC_KILL; rs starts it again at once). Prints "netkill: kill N" for each and a count when
 * the key goes back to 0. The kills are all it does: what they must not break is checked by
 * inet's self-test.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "sys.h"

#define KEY "inet.stress"

static uint64_t stressed(void)
{
    char key[DS_KEY_MAX];
    uint64_t v = 0;
    while (ds_check(key, sizeof(key)) > 0)
        ;
    ds_retrieve_u64(KEY, &v);
    return v;
}

/* Wait for a notification or ms milliseconds (ms 0: for a notification only). */
static void wait_ms(uint64_t ms)
{
    sys_alarm(ms);
    message_t m;
    while (service_receive(&m) < 0)
        ;
    if (ms && !(m.source == SYSTEM && (m.u.notify.bits & NOTIFY_ALARM)))
        sys_alarm(0);
}

int main(uint64_t argp)
{
    const char *arg = argp ? (const char *)argp : "";
    char label[16];
    size_t len = 0;
    while (arg[len] && arg[len] != ' ' && len < sizeof(label) - 1)
        len++;
    memcpy(label, arg, len);
    label[len] = 0;
    uint64_t period = 0;
    for (const char *d = arg + len + (arg[len] == ' '); *d >= '0' && *d <= '9' && period < 1000000;
         d++)
        period = period * 10 + (uint64_t)(*d - '0');
    if (!len || !period) {
        printf("netkill: usage: netkill LABEL PERIOD_MS\n");
        return 1;
    }
    int r;
    while ((r = ds_subscribe(KEY, DS_INITIAL)) < 0) /* ds may not be up yet */
        wait_ms(10);
    for (uint64_t kills = 0;;) {
        while (!stressed())
            wait_ms(0);
        printf("netkill: killing %s every %lu ms\n", label, period);
        for (;;) {
            uint64_t at = sys_uptime() + period;
            int on;
            while ((on = stressed()) && sys_uptime() < at)
                wait_ms(at - sys_uptime());
            if (!on)
                break;
            r = root_service(SVC_KILL, label, 0);
            printf("netkill: kill %lu: %s\n", ++kills, r ? strerror_s(-r) : "done");
        }
        printf("netkill: %lu kills\n", kills);
    }
}
