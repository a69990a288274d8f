/* Copies between vfs and a Linux process's memory (KC_VCOPY; vfs has PRIV_USERS). */
#include "vfs.h"

int copy_in(struct vproc *p, uint64_t uaddr, void *buf, uint64_t len)
{
    if (p->kernel_io) {
        memcpy(buf, (const void *)uaddr, len);
        return 0;
    }
    return sys_vcopy(p->ep, uaddr, SELF, (uint64_t)buf, len) < 0 ? -LX_EFAULT : 0;
}

int copy_out(struct vproc *p, uint64_t uaddr, const void *buf, uint64_t len)
{
    if (p->kernel_io) {
        memcpy((void *)uaddr, buf, len);
        return 0;
    }
    return sys_vcopy(SELF, (uint64_t)buf, p->ep, uaddr, len) < 0 ? -LX_EFAULT : 0;
}

/* A NUL-terminated path of at most PATH_MAX bytes, copied a page piece at a time (the first
 * piece at most 256 bytes: most paths are short, and each byte copied costs). */
int copy_path(struct vproc *p, uint64_t uaddr, char *path)
{
    uint64_t got = 0;
    while (got < PATH_MAX) {
        uint64_t n = 4096 - ((uaddr + got) & 4095);
        if (got == 0 && n > 256)
            n = 256;
        if (n > PATH_MAX - got)
            n = PATH_MAX - got;
        if (copy_in(p, uaddr + got, path + got, n) < 0)
            return -LX_EFAULT;
        for (uint64_t i = got; i < got + n; i++)
            if (!path[i])
                return i == 0 ? -LX_ENOENT : 0;
        got += n;
    }
    return -LX_ENAMETOOLONG;
}
