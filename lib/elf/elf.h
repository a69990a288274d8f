/*
 * lib/elf: the one walk over an ELF image's loadable segments, shared by
 * every loader (the kernel's for root, root's spawn_image, pm's exec). The
 * image must have passed elf_check() (samsara/elf64.h): the segments are
 * then inside the file, below the user top, and on pages of their own.
 */
#ifndef LIB_ELF_H
#define LIB_ELF_H

#include <samsara/elf64.h>

/* One non-empty PT_LOAD segment as a loader maps it, on whole pages. */
struct elf_segment {
    uint64_t addr, len;  /* the pages [addr, addr + len) */
    int prot;            /* PROT_R, with PROT_W and PROT_X as its flags say (samsara/kcall.h) */
    const uint8_t *data; /* what goes at addr: the file from the segment's first page on */
    uint64_t data_len; /* how much of it (the lead before the segment, then filesz); zeros after */
    uint64_t data_offset; /* data's offset in the file */
};

/* fn(ctx, segment) for each segment in file order; the first non-zero result stops the walk and is
 * returned. */
int elf_segments(const uint8_t *image, int (*fn)(void *ctx, const struct elf_segment *s),
                 void *ctx);

/* Where a loaded image lies: its lowest page, the end of its highest, how many pages its
 * segments take, and the address of its program headers (0 if no segment loads them). */
struct elf_layout {
    uint64_t low, end, pages, phdr;
};
void elf_layout(const uint8_t *image, struct elf_layout *l);

#endif
