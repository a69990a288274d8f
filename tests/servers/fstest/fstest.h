/*
 * fstest: the in-OS test suite of the ramfs file-system server. One
 * process runs a table of named tests in order, talking to ramfs directly
 * with the FS_* protocol (samsara/fs.h) as vfs would; each test prints
 * "TEST fs.NAME PASS|FAIL" and the run ends with "fstest: N passed, M
 * failed" and an exit from QEMU through port 0x501.
 *
 * Tests return 0 on success; CHECK/EXPECT (lib/test) print the failing
 * line and return 1 from the test. Tests work in their own directories so that one
 * failure does not cascade; the fuzzer runs last.
 */
#ifndef FSTEST_H
#define FSTEST_H

#include <samsara/fs.h>
#include <samsara/linux.h>
#include <samsara/root.h>
#include "sys.h"
#include "format/format.h"

#define TEST_LEAVE return 1 /* a failed check fails the test and leaves it */
#include "test/test.h"

struct fstest {
    const char *name;
    int (*fn)(void);
};
extern const struct fstest tree_tests[], data_tests[], name_tests[], dir_tests[], misc_tests[],
    trust_tests[], restart_tests[];
_Noreturn void fstest_helper(void); /* the helper's part (test_trust.c) */

/* ramfs and the last reply (u.fs.node of LOOKUP, CREATE, SYMLINK; u.fs.dents of GETDENTS) */
extern endpoint_t fs_ep;
extern message_t fs_last;
#define IPC_FAILED (-100000) /* fs_call's result when sendrec itself failed */

/* One request: m->type and body set by the caller; returns the result (the reply in fs_last). */
int64_t fs_call(message_t *m);
/* One request with one buffer granted to ramfs; the grant id goes to *grant, a field of m. */
int64_t fs_call_granted(message_t *m, uint64_t *grant, const void *buf, uint64_t len,
                        uint32_t access);

/* Requests with names as C strings (or raw bytes); inode numbers out. */
int64_t fs_lookup(uint64_t dir, const char *name, uint64_t *ino);
int64_t fs_lookup_raw(uint64_t dir, const void *name, uint64_t len, uint64_t *ino);
int64_t fs_create(uint64_t dir, const char *name, uint64_t mode, uint64_t rdev, uint64_t *ino);
int64_t fs_mkdir(uint64_t dir, const char *name, uint64_t *ino);
int64_t fs_symlink(uint64_t dir, const char *name, const char *target, uint64_t *ino);
int64_t fs_link(uint64_t dir, const char *name, uint64_t ino);
int64_t fs_unlink(uint64_t dir, const char *name);
int64_t fs_rmdir(uint64_t dir, const char *name);
int64_t fs_rename(uint64_t odir, const char *oname, uint64_t ndir, const char *nname);
int64_t fs_read(uint64_t ino, uint64_t off, void *buf, uint64_t len);
int64_t fs_write(uint64_t ino, uint64_t off, const void *buf, uint64_t len);
int64_t fs_trunc(uint64_t ino, uint64_t size);
int64_t fs_stat(uint64_t ino, struct fs_stat *st);
int64_t fs_getdents(uint64_t ino, uint64_t *cookie, void *buf, uint64_t len);
int64_t fs_readlink(uint64_t ino, char *buf, uint64_t len);
int64_t fs_chmod(uint64_t ino, uint64_t mode);
int64_t fs_putnode(uint64_t ino);
int64_t fs_statfs(struct fs_statfs *sf);

/* Helpers */
int64_t fs_walk(const char *path, uint64_t *ino);    /* from the root, no symlinks */
int64_t fs_scratch(const char *name, uint64_t *ino); /* a fresh directory in the root */
int64_t fs_mkfile(uint64_t dir, const char *name, const void *data, uint64_t len, uint64_t *ino);
uint64_t fs_nlink(uint64_t ino); /* 0 if stat fails */
uint64_t fs_size(uint64_t ino);
uint64_t fs_bfree(void);
uint8_t pattern(uint64_t off, uint64_t seed);

/* struct linux_dirent64 as ramfs writes it */
struct dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
} __attribute__((packed));

extern uint8_t big[1 << 16]; /* a shared 64 KiB buffer */

#endif
