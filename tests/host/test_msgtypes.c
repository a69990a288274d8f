/*
 * The message-type registry (samsara/msgtypes.h): no two protocol ranges
 * overlap, every type a protocol header defines lies in its protocol's
 * range, and no number is used twice.
 */
#include <samsara/bdev.h>
#include <samsara/ds.h>
#include <samsara/fs.h>
#include <samsara/ipc.h>
#include <samsara/linux.h>
#include <samsara/net.h>
#include <samsara/sock.h>
#include <samsara/msgtypes.h>
#include <samsara/pci.h>
#include <samsara/pm.h>
#include <samsara/root.h>
#include <samsara/sysv.h>
#include "check.h"

struct range {
    const char *name;
    int base;
};

static const struct range ranges[] = {
    {"BDEV", BDEV_RQ_BASE}, {"CDEV", CDEV_RQ_BASE},     {"DS", DS_RQ_BASE},
    {"FS", FS_RQ_BASE},     {"PCI", PCI_RQ_BASE},       {"KERNEL", KERNEL_RQ_BASE},
    {"NET", NET_RQ_BASE},   {"PM", PM_RQ_BASE},         {"ROOT", ROOT_RQ_BASE},
    {"SOCK", SOCK_RQ_BASE}, {"VFS_PM", VFS_PM_RQ_BASE}, {"SYSV", SYSV_RQ_BASE},
    {"TEST", TEST_RQ_BASE},
};
#define NR_RANGES ((int)(sizeof(ranges) / sizeof(ranges[0])))

struct type {
    const char *name;
    int type, base;
};

#define T(name, base)                                                                              \
    {                                                                                              \
#name, name, base                                                                          \
    }
static const struct type types[] = {
    T(MSG_NOTIFY, KERNEL_RQ_BASE),
    T(MSG_LINUX_CALL, KERNEL_RQ_BASE),
    T(MSG_LINUX_REPLY, KERNEL_RQ_BASE),
    T(ROOT_SPAWN, ROOT_RQ_BASE),
    T(ROOT_LOOKUP, ROOT_RQ_BASE),
    T(ROOT_MODULE, ROOT_RQ_BASE),
    T(ROOT_READY, ROOT_RQ_BASE),
    T(ROOT_SERVICE, ROOT_RQ_BASE),
    T(ROOT_COMPLAIN, ROOT_RQ_BASE),
    T(ROOT_SAVE, ROOT_RQ_BASE),
    T(ROOT_SAVED, ROOT_RQ_BASE),
    T(ROOT_REPLY, ROOT_RQ_BASE),
    T(BDEV_OPEN, BDEV_RQ_BASE),
    T(BDEV_CLOSE, BDEV_RQ_BASE),
    T(BDEV_READ, BDEV_RQ_BASE),
    T(BDEV_WRITE, BDEV_RQ_BASE),
    T(BDEV_FLUSH, BDEV_RQ_BASE),
    T(BDEV_GEOMETRY, BDEV_RQ_BASE),
    T(BDEV_REPLY, BDEV_RQ_BASE),
    T(DS_PUBLISH, DS_RQ_BASE),
    T(DS_RETRIEVE, DS_RQ_BASE),
    T(DS_DELETE, DS_RQ_BASE),
    T(DS_SUBSCRIBE, DS_RQ_BASE),
    T(DS_UNSUBSCRIBE, DS_RQ_BASE),
    T(DS_CHECK, DS_RQ_BASE),
    T(DS_REPLY, DS_RQ_BASE),
    T(PM_RUN, PM_RQ_BASE),
    T(PM_RESULTS, PM_RQ_BASE),
    T(PM_REPLY, PM_RQ_BASE),
    T(FS_LOOKUP, FS_RQ_BASE),
    T(FS_UTIME, FS_RQ_BASE),
    T(FS_REPLY, FS_RQ_BASE),
    T(CDEV_OPEN, CDEV_RQ_BASE),
    T(CDEV_MAILBOX, CDEV_RQ_BASE),
    T(CDEV_REPLY, CDEV_RQ_BASE),
    T(VFS_PM_FORK, VFS_PM_RQ_BASE),
    T(VFS_PM_RELEASE, VFS_PM_RQ_BASE),
    T(VFS_PM_REPLY, VFS_PM_RQ_BASE),
    T(SYSV_FORK, SYSV_RQ_BASE),
    T(SYSV_SETCRED, SYSV_RQ_BASE),
    T(SYSV_REPLY, SYSV_RQ_BASE),
    T(PCI_QUIESCE, PCI_RQ_BASE),
    T(PCI_FIND, PCI_RQ_BASE),
    T(PCI_RELEASE, PCI_RQ_BASE),
    T(PCI_REPLY, PCI_RQ_BASE),
    T(NET_INIT, NET_RQ_BASE),
    T(NET_SEND, NET_RQ_BASE),
    T(NET_RECV, NET_RQ_BASE),
    T(NET_MODE, NET_RQ_BASE),
    T(NET_STAT, NET_RQ_BASE),
    T(NET_REPLY, NET_RQ_BASE),
    T(SOCK_MAILBOX, SOCK_RQ_BASE),
    T(SOCK_SOCKET, SOCK_RQ_BASE),
    T(SOCK_BIND, SOCK_RQ_BASE),
    T(SOCK_CONNECT, SOCK_RQ_BASE),
    T(SOCK_LISTEN, SOCK_RQ_BASE),
    T(SOCK_ACCEPT, SOCK_RQ_BASE),
    T(SOCK_SEND, SOCK_RQ_BASE),
    T(SOCK_RECV, SOCK_RQ_BASE),
    T(SOCK_SHUTDOWN, SOCK_RQ_BASE),
    T(SOCK_NAME, SOCK_RQ_BASE),
    T(SOCK_GETOPT, SOCK_RQ_BASE),
    T(SOCK_SETOPT, SOCK_RQ_BASE),
    T(SOCK_CLOSE, SOCK_RQ_BASE),
    T(SOCK_REPLY, SOCK_RQ_BASE),
    T(TEST_PING, TEST_RQ_BASE),
    T(TEST_ECHO, TEST_RQ_BASE),
    T(TEST_COPY, TEST_RQ_BASE),
    T(TEST_HELPER_READY, TEST_RQ_BASE),
    T(TEST_HELPER_DONE, TEST_RQ_BASE),
    T(TEST_OTHER_GO, TEST_RQ_BASE),
    T(TEST_BENCH_STOP, TEST_RQ_BASE),
    T(TEST_BENCH_ECHO, TEST_RQ_BASE),
    T(TEST_BENCH_SLEEP, TEST_RQ_BASE),
    T(TEST_PCI_DO, TEST_RQ_BASE),
    T(TEST_BLOCK_DO, TEST_RQ_BASE),
};
#define NR_TYPES ((int)(sizeof(types) / sizeof(types[0])))

static void ranges_do_not_overlap(void)
{
    for (int i = 0; i < NR_RANGES; i++) {
        CHECK(ranges[i].base > 0 && ranges[i].base % MSG_RANGE_SIZE == 0);
        for (int j = i + 1; j < NR_RANGES; j++) {
            int a = ranges[i].base, b = ranges[j].base;
            if (!(a + MSG_RANGE_SIZE <= b || b + MSG_RANGE_SIZE <= a))
                printf("  %s and %s overlap\n", ranges[i].name, ranges[j].name);
            CHECK(a + MSG_RANGE_SIZE <= b || b + MSG_RANGE_SIZE <= a);
        }
    }
}

static void types_in_their_range(void)
{
    for (int i = 0; i < NR_TYPES; i++) {
        const struct type *t = &types[i];
        if (!MSG_IN_RANGE(t->type, t->base))
            printf("  %s (0x%x) is outside its range 0x%x\n", t->name, t->type, t->base);
        CHECK(MSG_IN_RANGE(t->type, t->base));
        for (int j = 0; j < NR_RANGES; j++) /* and in no other */
            CHECK(ranges[j].base == t->base || !MSG_IN_RANGE(t->type, ranges[j].base));
    }
    /* every request of an enum protocol, not only its first and last */
    for (int t = FS_LOOKUP; t < FS_RQ_END; t++)
        CHECK(IS_FS_RQ(t) && t != FS_REPLY);
    for (int t = CDEV_OPEN; t < CDEV_RQ_END; t++)
        CHECK(IS_CDEV_RQ(t) && t != CDEV_REPLY);
    for (int t = VFS_PM_FORK; t < VFS_PM_RQ_END; t++)
        CHECK(IS_VFS_PM_RQ(t) && t != VFS_PM_REPLY);
}

static void no_number_twice(void)
{
    for (int i = 0; i < NR_TYPES; i++)
        for (int j = i + 1; j < NR_TYPES; j++) {
            if (types[i].type == types[j].type)
                printf("  %s and %s are both 0x%x\n", types[i].name, types[j].name, types[i].type);
            CHECK(types[i].type != types[j].type);
        }
}

static void results_are_in_no_range(void)
{
    const int results[] = {0, -1, -4095, (int)0x80000000};
    for (int i = 0; i < (int)(sizeof(results) / sizeof(results[0])); i++)
        for (int j = 0; j < NR_RANGES; j++)
            CHECK(!MSG_IN_RANGE(results[i], ranges[j].base));
    CHECK(IS_FS_RQ(FS_RQ_BASE + 0xff) && !IS_FS_RQ(FS_RQ_BASE + 0x100) &&
          !IS_FS_RQ(FS_RQ_BASE - 1));
}

int main(void)
{
    static const struct host_test tests[] = {
        {"msgtypes_ranges_do_not_overlap", ranges_do_not_overlap},
        {"msgtypes_in_their_range", types_in_their_range},
        {"msgtypes_no_number_twice", no_number_twice},
        {"msgtypes_results_in_no_range", results_are_in_no_range},
        {0, 0},
    };
    return run_host_tests(tests);
}
