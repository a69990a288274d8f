/* The Linux system calls vfs serves. */
#include "vfs.h"

/* Every call the kernel routes to vfs (samsara/linux_vfs.h): one list for both. */
#include <samsara/linux_vfs.h>
#define CALLS(X) LINUX_VFS_CALLS(X)

#define DECLARE(name) int64_t do_##name(struct vproc *p, const uint64_t *a);
CALLS(DECLARE)

#define ENTRY(name) [LX_##name] = do_##name,
static const vfs_call_t table[LX_NR_MAX] = {CALLS(ENTRY)};

int64_t vfs_dispatch(struct vproc *p, uint64_t nr, const uint64_t *a)
{
    if (nr >= LX_NR_MAX || !table[nr])
        return -LX_ENOSYS;
    return table[nr](p, a);
}
