/*
 * Refusals: every message vfs will not act on because its sender has no
 * right to send it (docs/USERLAND.md, "Who may send what"). Each is counted
 * by kind, shown in /proc/refusals, and logged at the 1st, 2nd, 4th, 8th...
 * of its kind, so that a flood cannot fill the log.
 */
#include "vfs.h"

static const char *const names[NR_REFUSALS] = {
    [REFUSE_NOTIFY] = "notify",         [REFUSE_PM_REQUEST] = "pm_request",
    [REFUSE_LINUX_CALL] = "linux_call", [REFUSE_MESSAGE] = "message",
    [REFUSE_SIGNAL] = "signal",         [REFUSE_STATUS] = "status",
};
static uint64_t counts[NR_REFUSALS];

void vfs_refuse(enum refusal kind, endpoint_t who, const char *what)
{
    uint64_t n = ++counts[kind];
    if (n & (n - 1))
        return;
    struct proc_info info = {0};
    if (who <= 0 || sys_proc_info(who, &info) < 0)
        strncpy_s(info.name, "?", sizeof(info.name));
    printf("vfs: refused %s from %s (endpoint %d): %s (%lu %s refusals)\n", names[kind], info.name,
           who, what, n, names[kind]);
}

/* /proc/refusals: "KIND COUNT" lines. */
int64_t refusals_text(char *buf, size_t size)
{
    size_t at = 0;
    for (int k = 0; k < NR_REFUSALS && at < size; k++)
        at += (size_t)snprintf_s(buf + at, size - at, "%s %lu\n", names[k], counts[k]);
    return (int64_t)(at < size ? at : size - 1);
}
