/*
 * What ramfs trusts, and memory that others take for a while.
 *
 *   memory_comes_back  fstest takes every free page of physical memory, so
 *                      ramfs cannot grow (ENOSPC), then gives it back: the
 *                      next large write must succeed (a failed allocation
 *                      is transient, never a cap for good).
 *   only_client        a helper (fstest's image, spawned with manifest
 *                      fshelper) is not ramfs's client: every request it
 *                      sends gets EPERM, and fstest is still served.
 */
#include "fstest.h"

#define HOG_BASE 0x100000000ull /* 4 GiB: far above fstest's image and stack */

/* Map every page the kernel will give, largest pieces first: the bytes taken. */
static uint64_t take_all_memory(void)
{
    uint64_t taken = 0;
    for (uint64_t step = 16ull << 20; step >= 4096; step /= 16)
        while (sys_mem_map(SELF, HOG_BASE + taken, step, PROT_R | PROT_W) == 0)
            taken += step;
    return taken;
}

static int memory_comes_back(void)
{
    uint64_t d, f, total = 0;
    int64_t r;
    EXPECT(fs_scratch("transient", &d), 0);
    EXPECT(fs_create(d, "f", S_IFREG | 0644, 0, &f), 0);
    uint64_t taken = take_all_memory();
    printf("fstest: took %lu MiB of physical memory\n", taken >> 20);
    CHECK(taken >= (64ull << 20));
    memset(big, 0x33, sizeof(big));
    while ((r = fs_write(f, total, big, sizeof(big))) == (int64_t)sizeof(big))
        total += sizeof(big);
    total += r > 0 ? (uint64_t)r : 0;
    EXPECT(fs_write(f, total, big, sizeof(big)), -LX_ENOSPC); /* ramfs cannot grow now */
    printf("fstest: ramfs took %lu KiB more before ENOSPC\n", total >> 10);
    EXPECT(sys_mem_unmap(SELF, HOG_BASE, taken), 0);
    /* the memory is back: ramfs asks the kernel again, and 16 MiB fit */
    for (uint64_t done = 0; done < (16u << 20); done += sizeof(big))
        EXPECT(fs_write(f, total + done, big, sizeof(big)), sizeof(big));
    CHECK(fs_bfree() > 256);
    EXPECT(fs_unlink(d, "f"), 0);
    EXPECT(fs_putnode(f), 0);
    EXPECT(fs_rmdir(FS_ROOT_INO, "transient"), 0);
    return 0;
}

/* The helper's part: bit n set if check n failed. */
_Noreturn void fstest_helper(void)
{
    uint64_t fails = 0, ino;
    struct fs_stat st;
    struct fs_statfs sf;
    fails |= (uint64_t)(fs_lookup(FS_ROOT_INO, "etc", &ino) != -LX_EPERM) << 0;
    fails |= (uint64_t)(fs_stat(FS_ROOT_INO, &st) != -LX_EPERM) << 1;
    fails |= (uint64_t)(fs_create(FS_ROOT_INO, "intruder", S_IFREG | 0644, 0, &ino) != -LX_EPERM)
             << 2;
    fails |= (uint64_t)(fs_statfs(&sf) != -LX_EPERM) << 3;
    fails |= (uint64_t)(fs_putnode(FS_ROOT_INO) != -LX_EPERM) << 4;
    message_t m = {.type = TEST_HELPER_DONE, .u.w = {fails}};
    ipc_send(parent_ep, &m);
    sys_exit(0);
    for (;;)
        ;
}

static int only_client(void)
{
    endpoint_t helper = root_spawn("fstest", "fshelper", "helper");
    CHECK(helper > 0);
    message_t m;
    CHECK(ipc_receive(helper, &m) == 0 && m.type == TEST_HELPER_DONE);
    EXPECT(m.u.w[0], 0);
    struct death_info death;
    for (int i = 0; sys_proc_reap(&death) != helper && i < 1000; i++)
        ;
    uint64_t ino;
    EXPECT(fs_lookup(FS_ROOT_INO, "intruder", &ino), -LX_ENOENT);
    EXPECT(fs_lookup(FS_ROOT_INO, "etc", &ino), 0); /* its client is still served */
    EXPECT(fs_putnode(ino), 0);
    return 0;
}

const struct fstest trust_tests[] = {
    {"memory_comes_back", memory_comes_back},
    {"only_client", only_client},
    {0, 0},
};
