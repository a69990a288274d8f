/*
 * The one registry of message types. Every protocol owns one range of 256
 * types, [BASE, BASE + 0xff]; its header (below) defines its types as
 * BASE + n, and a server routes a request to a protocol with the
 * IS_<PROTO>_RQ macro of that range. A new protocol takes a free range
 * here; a number never appears twice.
 *
 *   range          protocol   header             sent by -> to
 *   0x4200-0x42ff  BDEV       samsara/bdev.h     file servers (lib/bdev), tests -> block drivers
 *   0x4300-0x43ff  CDEV       samsara/fs.h       vfs (and tests) -> character drivers
 *   0x4400-0x44ff  DS         samsara/ds.h       anyone -> ds; ds -> them: DS_REPLY (0x44ff)
 *   0x4600-0x46ff  FS         samsara/fs.h       vfs -> file-system servers
 *   0x4900-0x49ff  PCI        samsara/pci.h      rs (and drivers, to come) -> the pci server
 *   0x4b00-0x4bff  KERNEL     samsara/ipc.h,     the kernel -> anyone (MSG_NOTIFY);
 *                             samsara/linux.h    a Linux program -> pm or vfs (MSG_LINUX_*)
 *   0x4e00-0x4eff  NET        samsara/net.h      inet (and tests) -> network drivers
 *   0x5000-0x50ff  PM         samsara/pm.h       rs -> pm
 *   0x5200-0x52ff  ROOT       samsara/root.h     anyone -> root/rs (replies: ROOT_REPLY)
 *   0x5300-0x53ff  SOCK       samsara/sock.h     vfs -> the network stack (sockets)
 *   0x5600-0x56ff  VFS_PM     samsara/fs.h       pm -> vfs
 *   0x5800-0x58ff  SYSV       samsara/sysv.h     pm -> the System V IPC server ('X'SI IPC)
 *   0x7400-0x74ff  TEST       here               tests and benchmarks, among themselves
 *
 * The high byte is a letter where it could be ('C'dev, 'D's, 'F's, 'K'ernel,
 * 'P'm, 'R'oot, 'V'fs, 'X'SI IPC, 't'est), which helps read a type in a log line.
 *
 * Replies: every protocol answers with the REPLY type of its range
 * (BASE + 0xff; MSG_LINUX_REPLY for Linux calls) and the result in the
 * first word (samsara/msg/reply.h); no reply's type is a result.
 * Kernel-call numbers (samsara/kcall.h, KCALL_BASE) are `syscall` numbers,
 * not message types, and live in a space of their own.
 *
 * tests/host/test_msgtypes.c checks that no two ranges overlap and that
 * every defined type lies in its protocol's range; each protocol header
 * also asserts at compile time that its highest type stays in its range.
 */
#ifndef SAMSARA_MSGTYPES_H
#define SAMSARA_MSGTYPES_H

#define MSG_RANGE_SIZE 0x100

#define BDEV_RQ_BASE 0x4200   /* block devices */
#define CDEV_RQ_BASE 0x4300   /* character devices */
#define DS_RQ_BASE 0x4400     /* the data store */
#define FS_RQ_BASE 0x4600     /* file-system servers */
#define PCI_RQ_BASE 0x4900    /* the pci server */
#define KERNEL_RQ_BASE 0x4b00 /* made by the kernel: notifications, Linux calls */
#define NET_RQ_BASE 0x4e00    /* network drivers */
#define PM_RQ_BASE 0x5000     /* pm's requests from system servers */
#define ROOT_RQ_BASE 0x5200   /* root and rs */
#define SOCK_RQ_BASE 0x5300   /* sockets: vfs -> inet */
#define VFS_PM_RQ_BASE 0x5600 /* pm -> vfs */
#define SYSV_RQ_BASE 0x5800   /* pm -> the System V IPC server */
#define TEST_RQ_BASE 0x7400   /* tests only */

/* Is type t in the range starting at base? (Negative results are in none.) */
#define MSG_IN_RANGE(t, base) (((t) & ~(MSG_RANGE_SIZE - 1)) == (base))

#define IS_BDEV_RQ(t) MSG_IN_RANGE(t, BDEV_RQ_BASE)
#define IS_CDEV_RQ(t) MSG_IN_RANGE(t, CDEV_RQ_BASE)
#define IS_DS_RQ(t) MSG_IN_RANGE(t, DS_RQ_BASE)
#define IS_FS_RQ(t) MSG_IN_RANGE(t, FS_RQ_BASE)
#define IS_PCI_RQ(t) MSG_IN_RANGE(t, PCI_RQ_BASE)
#define IS_KERNEL_RQ(t) MSG_IN_RANGE(t, KERNEL_RQ_BASE)
#define IS_NET_RQ(t) MSG_IN_RANGE(t, NET_RQ_BASE)
#define IS_PM_RQ(t) MSG_IN_RANGE(t, PM_RQ_BASE)
#define IS_ROOT_RQ(t) MSG_IN_RANGE(t, ROOT_RQ_BASE)
#define IS_SOCK_RQ(t) MSG_IN_RANGE(t, SOCK_RQ_BASE)
#define IS_VFS_PM_RQ(t) MSG_IN_RANGE(t, VFS_PM_RQ_BASE)
#define IS_SYSV_RQ(t) MSG_IN_RANGE(t, SYSV_RQ_BASE)
#define IS_TEST_RQ(t) MSG_IN_RANGE(t, TEST_RQ_BASE)

/*
 * The bases in ascending order: each starts a range, and the next one
 * starts at or after its end, so no two ranges overlap.
 */
#define MSG_BASE_AFTER(a, b) ((a) % MSG_RANGE_SIZE == 0 && (a) >= (b) + MSG_RANGE_SIZE)
_Static_assert(BDEV_RQ_BASE % MSG_RANGE_SIZE == 0 && BDEV_RQ_BASE > 0,
               "ranges start at 0x100 multiples");
_Static_assert(MSG_BASE_AFTER(CDEV_RQ_BASE, BDEV_RQ_BASE), "CDEV overlaps BDEV");
_Static_assert(MSG_BASE_AFTER(DS_RQ_BASE, CDEV_RQ_BASE), "DS overlaps CDEV");
_Static_assert(MSG_BASE_AFTER(FS_RQ_BASE, DS_RQ_BASE), "FS overlaps DS");
_Static_assert(MSG_BASE_AFTER(PCI_RQ_BASE, FS_RQ_BASE), "PCI overlaps FS");
_Static_assert(MSG_BASE_AFTER(KERNEL_RQ_BASE, PCI_RQ_BASE), "KERNEL overlaps PCI");
_Static_assert(MSG_BASE_AFTER(NET_RQ_BASE, KERNEL_RQ_BASE), "NET overlaps KERNEL");
_Static_assert(MSG_BASE_AFTER(PM_RQ_BASE, NET_RQ_BASE), "PM overlaps NET");
_Static_assert(MSG_BASE_AFTER(ROOT_RQ_BASE, PM_RQ_BASE), "ROOT overlaps PM");
_Static_assert(MSG_BASE_AFTER(SOCK_RQ_BASE, ROOT_RQ_BASE), "SOCK overlaps ROOT");
_Static_assert(MSG_BASE_AFTER(VFS_PM_RQ_BASE, SOCK_RQ_BASE), "VFS_PM overlaps SOCK");
_Static_assert(MSG_BASE_AFTER(SYSV_RQ_BASE, VFS_PM_RQ_BASE), "SYSV overlaps VFS_PM");
_Static_assert(MSG_BASE_AFTER(TEST_RQ_BASE, SYSV_RQ_BASE), "TEST overlaps SYSV");
_Static_assert(TEST_RQ_BASE + MSG_RANGE_SIZE - 1 <= 0x7fffffff, "types are positive int32s");

/*
 * Test-only types (TEST range): between a test and the helpers it spawns,
 * never seen by a system server (which refuses them as unknown).
 */
#define TEST_PING (TEST_RQ_BASE + 0x01)         /* test_ipc: a request; w0 = a count */
#define TEST_ECHO (TEST_RQ_BASE + 0x02)         /* test_ipc: its answer */
#define TEST_COPY (TEST_RQ_BASE + 0x03)         /* test_grant: w0 op, w1 grant, w2 offset, ... */
#define TEST_HELPER_READY (TEST_RQ_BASE + 0x10) /* helper -> test: w0 = failed checks so far */
#define TEST_HELPER_DONE (TEST_RQ_BASE + 0x11)  /* helper -> test: w0 = failed checks (bits) */
#define TEST_OTHER_GO (TEST_RQ_BASE + 0x12)     /* rstest -> rsother, rsdriver: go */
#define TEST_BENCH_STOP (TEST_RQ_BASE + 0x20)   /* kbench -> its partner: exit */
#define TEST_BENCH_ECHO (TEST_RQ_BASE + 0x21)   /* kbench -> its partner: answer at once */
#define TEST_BENCH_SLEEP                                                                           \
    (TEST_RQ_BASE + 0x22)                   /* kbench -> its partner: answer, then sleep w0 ticks */
#define TEST_PCI_DO (TEST_RQ_BASE + 0x30)   /* pcitest -> pciother, pcinone: w0 op, w1 arg */
#define TEST_BLOCK_DO (TEST_RQ_BASE + 0x40) /* blocktest -> blockother: w0 op, w1 arg */
#define TEST_RQ_LAST TEST_BLOCK_DO
_Static_assert(IS_TEST_RQ(TEST_RQ_LAST), "test types stay in the TEST range");

#endif
