/*
 * The in-OS kernel test suite (xv6 usertests style). ktest is one program
 * with three roles, chosen by its argument:
 *   "[exit] [only=NAME]"  the runner: runs every test (or one) in its own
 *               child process; with "exit" it leaves QEMU when done
 *   "t:NAME"    one test (a child of the runner)
 *   "h:NAME:N"  a helper process that a test spawned
 * Children are spawned through the root server with a manifest (root_spawn).
 */
#ifndef KTEST_H
#define KTEST_H

#include <samsara/root.h>
#include "sys.h"

#include "test/test.h" /* CHECK, EXPECT: a failed check ends the test's process */

/* Spawn a helper (this program with "h:NAME:N") under a manifest. */
endpoint_t spawn_helper(const char *manifest, const char *name, uint64_t n);
/* Wait for a given child's death report. */
void wait_child(endpoint_t ep, struct death_info *d);
/* Wait for a child and require that it exited with status 0. */
void expect_clean_exit(endpoint_t ep);
/* Spawn a helper and require that it runs to a clean exit. */
void run_helper(const char *manifest, const char *name, uint64_t n);
/* Wait for `ticks` clock ticks (alarm + receive from SYSTEM). */
void sleep_ticks(uint64_t ticks);

struct khelper {
    const char *name;
    int (*fn)(uint64_t n);
};

extern const struct test ipc_tests[], grant_tests[], priv_tests[], fault_tests[], misc_tests[],
    devpriv_tests[], proc_tests[];
extern const struct khelper ipc_helpers[], grant_helpers[], priv_helpers[], fault_helpers[],
    misc_helpers[], devpriv_helpers[], proc_helpers[];

#endif
