/*
 * blocktest's parts (main.c: set-up and the protocol's checks; recovery.c:
 * lib/bdev across driver kills; other.c: blockother, the helper). The disk
 * the suite makes (tools/suite_block.py writes the same numbers):
 *
 *   DISK_SIZE bytes; an MBR with partition 1 at sector P1_START, P1_SECTORS
 *   long; partition 2 at P2_START, P2_SECTORS; partition 3 reaching past
 *   the disk's end (to be ignored); partition 4 empty. The text DISK_MARK
 *   at byte 512, PART2_MARK at partition 2's first byte.
 */
#ifndef BLOCKTEST_H
#define BLOCKTEST_H

#include <samsara/bdev.h>
#include "sys.h"

#define SECTOR 512
#define DISK_SIZE (96ull << 20)
#define P1_START 2048ull
#define P1_SECTORS 81920ull /* 40 MiB */
#define P2_START 83968ull
#define P2_SECTORS 16384ull /* 8 MiB */
#define DISK_MARK "blocktest disk"
#define PART2_MARK "blocktest part2"

/* TEST_BLOCK_DO ops (w0), blocktest -> blockother and blockpeer; the answer's w0 is the result. */
enum {
    DO_OPEN,
    DO_READ,
    DO_KILLER_START,
    DO_KILLER_STOP,
    DO_PEER_START,
    DO_PEER_STOP,
    DO_PEER_HANG
};

extern char driver[32]; /* the driver's label */
extern endpoint_t drv;  /* its current instance */
extern uint64_t tsc_per_us;

uint64_t now_us(void);
void sleep_ms(uint64_t ms);
endpoint_t announced(endpoint_t old, uint64_t ms); /* the instance after old (0: none came) */
int64_t ask(const char *helper, uint64_t op, uint64_t arg); /* a helper's answer */

void test_recovery(void);
void test_killed_during_init(void);
void test_stress_kills(void);
void test_restart_error(void);
void test_two_clients(void);
void test_device_stall(void);
void test_driver_hang(void);
void test_driver_deaf(void);

/* The helpers' main loops: blockother (other.c), blockpeer (recovery.c). */
int other_main(void);
int peer_main(void);

#endif
