/*
 * vfsprobe: a hostile service, for the sender checks of vfs and of
 * libchardriver ("Who may send what" in docs/USERLAND.md and docs/TTY.md).
 * tools/suite_system.py starts it last in the utest boot. It makes requests
 * it has no right to make, each of which must be refused, and prints
 * "TEST u.probe_NAME PASS|FAIL" (collected with utest's results). Then it
 * notifies vfs and never answers anything again: vfs must neither take the
 * notification for a driver's status nor wait for this process, so file I/O
 * goes on (utest's tests run after this; u.stranger_refusals_counted reads
 * the counts in /proc/refusals).
 */
#include <samsara/ds.h>
#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/root.h>
#include "sys.h"

/* One request; the reply's w0, or a value no server gives if IPC failed. */
static int64_t ask(endpoint_t to, int type, uint64_t w0, uint64_t w1)
{
    message_t m = {.type = type, .u.w = {w0, w1}};
    return ipc_sendrec(to, &m) < 0 ? -1000000 : m.u.reply.result;
}

static void verdict(const char *name, int ok)
{
    printf("TEST u.probe_%s %s\n", name, ok ? "PASS" : "FAIL");
}

int main(uint64_t arg)
{
    (void)arg;
    endpoint_t vfs = root_lookup("vfs"), tty = root_lookup("tty"), demo = root_lookup("demo");
    if (vfs <= 0 || tty <= 0 || demo <= 0) {
        printf("vfsprobe: vfs %d, tty %d, demo %d: not all there\n", vfs, tty, demo);
        verdict("found_services", 0);
        return 1;
    }
    /* vfs: pm's requests from another, a Linux call from a service, a reply out of the blue */
    verdict("vfs_refuses_pm_requests",
            ask(vfs, VFS_PM_CANCEL, 0, 0) == -LX_EPERM && ask(vfs, VFS_PM_PULL, 0, 0) == -LX_EPERM);
    verdict("vfs_refuses_linux_calls", ask(vfs, MSG_LINUX_CALL, LX_getcwd, 0) == -LX_ENOSYS);
    verdict("vfs_refuses_other_messages",
            ask(vfs, CDEV_REPLY, 0, 0) == -LX_ENOSYS && ask(vfs, FS_REPLY, 0, 0) == -LX_ENOSYS);
    /* drivers: only vfs (and their own test programs) may send CDEV_* requests */
    verdict("tty_refuses_strangers", ask(tty, CDEV_OPEN, 0, 0) == -LX_EPERM &&
                                         ask(tty, CDEV_STATUS, 0, 0) == -LX_EPERM &&
                                         ask(tty, CDEV_SELECT, 0, SEL_RD) == -LX_EPERM);
    verdict("demo_refuses_strangers",
            ask(demo, CDEV_READ, 0, 1) == -LX_EPERM && ask(demo, CDEV_OPEN, 0, 0) == -LX_EPERM);
    /* the device map: tty's announcement is tty's alone (ds); this service's own manifest names
     * tty's major 4, but tty's manifest came first, so announcing itself gains it nothing
     * (utest's u.device_map_from_manifests checks that the console is still tty's) */
    verdict("cannot_announce_for_tty", ds_publish_u64("tty.dev", 1, DS_OVERWRITE) == -E_PERM);
    verdict("announces_itself", ds_publish_u64("vfsprobe.dev", 1, DS_OVERWRITE) == 0);
    ipc_notify(vfs);
    ipc_notify(tty);
    printf("vfsprobe: notified vfs and tty; answering nothing from now on\n");
    for (;;) {
        message_t m;
        ipc_receive(ANY, &m); /* and never reply */
    }
}
