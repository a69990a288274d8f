/*
 * User-space program loader: KC_PROC_CREATE, one KC_MEM_MAP per loadable
 * segment (filled from the image), a stack, a state region (KC_MEM_SHARE),
 * KC_PRIV_SET, KC_PROC_START.
 * The argument string sits at the top of the new stack; main gets its address.
 */
#include "elf/elf.h"
#include "spawn.h"

static int map_segment(void *ep, const struct elf_segment *s)
{
    return sys_mem_map_fill(*(endpoint_t *)ep, s->addr, s->len, s->prot, s->data, s->data_len);
}

endpoint_t spawn_image(const uint8_t *image, uint64_t size, const char *name, endpoint_t parent,
                       const struct priv *priv, const char *arg, int prio,
                       const struct spawn_share *share)
{
    if (elf_check(image, size) < 0)
        return -E_INVAL;
    endpoint_t ep = sys_proc_create(parent, name);
    if (ep < 0)
        return ep;
    char argbuf[64];
    strncpy_s(argbuf, arg ? arg : "", sizeof(argbuf));
    uint64_t arg_at = SPAWN_STACK_TOP - sizeof(argbuf);
    int r = elf_segments(image, map_segment, &ep);
    if (r == 0)
        r = sys_mem_map(ep, SPAWN_STACK_TOP - SPAWN_STACK_SIZE, SPAWN_STACK_SIZE, PROT_R | PROT_W);
    if (r == 0)
        r = sys_vcopy(SELF, (uint64_t)argbuf, ep, arg_at, sizeof(argbuf));
    if (r == 0 && share)
        r = sys_mem_share(ep, share->vaddr, share->len, PROT_R | PROT_W, share->src);
    if (r == 0 && priv)
        r = sys_priv_set(ep, priv);
    if (r == 0)
        r = sys_proc_start(ep, ((const elf64_ehdr_t *)image)->entry, arg_at - 64, arg_at, prio);
    if (r < 0) {
        sys_proc_kill(ep); /* its parent reaps it like any other death */
        return r;
    }
    return ep;
}
