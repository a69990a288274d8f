/*
 * The parts of the ELF64 format that Samsara's program loaders read
 * (System V ABI, x86-64 supplement): the file header and program headers.
 * elf_check() is shared by the kernel's loader (root only) and user space.
 */
#ifndef SAMSARA_ELF64_H
#define SAMSARA_ELF64_H

#include <stdint.h>

typedef struct {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} elf64_ehdr_t;

typedef struct {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} elf64_phdr_t;

#define ELF_PT_LOAD 1
#define ELF_PF_X 1
#define ELF_PF_W 2
#define ELF_PF_R 4
#define ELF_ET_EXEC 2
#define ELF_EM_X86_64 62
#define ELF_USER_TOP 0x0000800000000000ull
#define ELF_PAGE 4096ull
#define ELF_MAX_PHNUM 73 /* program headers in one page at most, as Linux */
#define ELF_MAX_SEGMENT (1ull << 32)

/* The page-rounded range [*lo, *hi) a loadable segment occupies (elf_check passed). */
static inline void elf_segment_pages(const elf64_phdr_t *ph, uint64_t *lo, uint64_t *hi)
{
    *lo = ph->vaddr & ~(ELF_PAGE - 1);
    *hi = (ph->vaddr + ph->memsz + ELF_PAGE - 1) & ~(ELF_PAGE - 1);
}

/*
 * 0 if image[0..size) is a static little-endian x86-64 executable that a
 * loader mapping each PT_LOAD segment on its own pages may load as it is:
 * 1..ELF_MAX_PHNUM program headers (8-byte aligned) inside the file; each
 * loadable segment inside the file (offset + filesz, no overflow), filesz
 * <= memsz <= 4 GiB, below ELF_USER_TOP, its file offset and address equal
 * modulo the page size, and on pages no other segment touches; the entry
 * point inside an executable segment. Every sum is checked before use.
 */
static inline int elf_check(const uint8_t *image, uint64_t size)
{
    const elf64_ehdr_t *h = (const elf64_ehdr_t *)image;
    if (size < sizeof(*h) || image[0] != 0x7f || image[1] != 'E' || image[2] != 'L' ||
        image[3] != 'F' || image[4] != 2 || image[5] != 1 || h->type != ELF_ET_EXEC ||
        h->machine != ELF_EM_X86_64 || h->phentsize != sizeof(elf64_phdr_t) || h->phnum == 0 ||
        h->phnum > ELF_MAX_PHNUM || (h->phoff & 7) || h->phoff > size ||
        (uint64_t)h->phnum * sizeof(elf64_phdr_t) > size - h->phoff)
        return -1;
    const elf64_phdr_t *ph = (const elf64_phdr_t *)(image + h->phoff);
    int entry_ok = 0;
    for (int i = 0; i < h->phnum; i++) {
        if (ph[i].type != ELF_PT_LOAD)
            continue;
        if (ph[i].offset > size || ph[i].filesz > size - ph[i].offset ||
            ph[i].filesz > ph[i].memsz || ph[i].memsz > ELF_MAX_SEGMENT ||
            ph[i].vaddr >= ELF_USER_TOP || ph[i].memsz > ELF_USER_TOP - ph[i].vaddr ||
            (ph[i].offset & (ELF_PAGE - 1)) != (ph[i].vaddr & (ELF_PAGE - 1)))
            return -1;
        if (!ph[i].memsz)
            continue;
        uint64_t lo, hi;
        elf_segment_pages(&ph[i], &lo, &hi);
        for (int k = 0; k < i; k++) {
            uint64_t klo, khi;
            if (ph[k].type != ELF_PT_LOAD || !ph[k].memsz)
                continue;
            elf_segment_pages(&ph[k], &klo, &khi);
            if (lo < khi && klo < hi)
                return -1; /* shares a page with an earlier segment */
        }
        if ((ph[i].flags & ELF_PF_X) && h->entry >= ph[i].vaddr &&
            h->entry - ph[i].vaddr < ph[i].memsz)
            entry_ok = 1;
    }
    return entry_ok ? 0 : -1;
}

#endif
