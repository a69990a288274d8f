/*
 * The segment walk and the layout of an image that passed elf_check()
 * (lib/elf/elf.h). Built into the kernel (root's loader) and libsys.
 */
#include <samsara/kcall.h>
#include "elf.h"

int elf_segments(const uint8_t *image, int (*fn)(void *ctx, const struct elf_segment *s), void *ctx)
{
    const elf64_ehdr_t *h = (const elf64_ehdr_t *)image;
    const elf64_phdr_t *ph = (const elf64_phdr_t *)(image + h->phoff);
    for (int i = 0; i < h->phnum; i++) {
        if (ph[i].type != ELF_PT_LOAD || !ph[i].memsz)
            continue;
        struct elf_segment s;
        uint64_t hi;
        elf_segment_pages(&ph[i], &s.addr, &hi);
        uint64_t lead = ph[i].vaddr - s.addr; /* = the offset's page offset (elf_check) */
        s.len = hi - s.addr;
        s.prot =
            PROT_R | (ph[i].flags & ELF_PF_W ? PROT_W : 0) | (ph[i].flags & ELF_PF_X ? PROT_X : 0);
        s.data_offset = ph[i].offset - lead;
        s.data = image + s.data_offset;
        s.data_len = ph[i].filesz + lead;
        int r = fn(ctx, &s);
        if (r)
            return r;
    }
    return 0;
}

struct layout_walk {
    struct elf_layout *l;
    uint64_t phoff;
};

static int add_segment(void *ctx, const struct elf_segment *s)
{
    struct layout_walk *w = ctx;
    struct elf_layout *l = w->l;
    if (!l->pages || s->addr < l->low)
        l->low = s->addr;
    if (s->addr + s->len > l->end)
        l->end = s->addr + s->len;
    l->pages += s->len / ELF_PAGE;
    if (w->phoff >= s->data_offset && w->phoff - s->data_offset < s->data_len)
        l->phdr = s->addr + (w->phoff - s->data_offset);
    return 0;
}

void elf_layout(const uint8_t *image, struct elf_layout *l)
{
    struct layout_walk w = {l, ((const elf64_ehdr_t *)image)->phoff};
    *l = (struct elf_layout){0, 0, 0, 0};
    elf_segments(image, add_segment, &w);
}
