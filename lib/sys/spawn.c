/*
 * User-space program loader: KC_PROC_CREATE, one KC_MEM_MAP per loadable
 * segment (filled from the image), a stack, KC_PRIV_SET, KC_PROC_START.
 * The argument string sits at the top of the new stack; main gets its address.
 */
#include <samsara/elf64.h>
#include "spawn.h"

static int load_segments(endpoint_t ep, const uint8_t *image)
{
    const elf64_ehdr_t *h = (const elf64_ehdr_t *)image;
    const elf64_phdr_t *ph = (const elf64_phdr_t *)(image + h->phoff);
    for (int i = 0; i < h->phnum; i++) {
        if (ph[i].type != ELF_PT_LOAD || !ph[i].memsz)
            continue;
        int prot =
            PROT_R | (ph[i].flags & ELF_PF_W ? PROT_W : 0) | (ph[i].flags & ELF_PF_X ? PROT_X : 0);
        uint64_t lead = ph[i].vaddr & 4095;
        uint64_t len = (lead + ph[i].memsz + 4095) & ~4095ull;
        if (ph[i].offset < lead)
            return -E_INVAL;
        int r = sys_mem_map_fill(ep, ph[i].vaddr - lead, len, prot, image + ph[i].offset - lead,
                                 ph[i].filesz + lead);
        if (r < 0)
            return r;
    }
    return 0;
}

endpoint_t spawn_image(const uint8_t *image, uint64_t size, const char *name, endpoint_t parent,
                       const struct priv *priv, const char *arg, int prio)
{
    if (elf_check(image, size) < 0)
        return -E_INVAL;
    endpoint_t ep = sys_proc_create(parent, name);
    if (ep < 0)
        return ep;
    char argbuf[64];
    strncpy_s(argbuf, arg ? arg : "", sizeof(argbuf));
    uint64_t arg_at = SPAWN_STACK_TOP - sizeof(argbuf);
    int r = load_segments(ep, image);
    if (r == 0)
        r = sys_mem_map(ep, SPAWN_STACK_TOP - SPAWN_STACK_SIZE, SPAWN_STACK_SIZE, PROT_R | PROT_W);
    if (r == 0)
        r = sys_vcopy(SELF, (uint64_t)argbuf, ep, arg_at, sizeof(argbuf));
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
