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

/*
 * 0 if image[0..size) is a static x86-64 executable whose program headers
 * and loadable segments lie inside the file and below ELF_USER_TOP.
 */
static inline int elf_check(const uint8_t *image, uint64_t size)
{
    const elf64_ehdr_t *h = (const elf64_ehdr_t *)image;
    if (size < sizeof(*h) || image[0] != 0x7f || image[1] != 'E' || image[2] != 'L' ||
        image[3] != 'F' || image[4] != 2 || h->type != ELF_ET_EXEC ||
        h->machine != ELF_EM_X86_64 || h->phentsize != sizeof(elf64_phdr_t) ||
        h->phoff > size || (uint64_t)h->phnum * sizeof(elf64_phdr_t) > size - h->phoff ||
        h->entry >= ELF_USER_TOP)
        return -1;
    const elf64_phdr_t *ph = (const elf64_phdr_t *)(image + h->phoff);
    for (int i = 0; i < h->phnum; i++) {
        if (ph[i].type != ELF_PT_LOAD)
            continue;
        if (ph[i].offset > size || ph[i].filesz > size - ph[i].offset ||
            ph[i].filesz > ph[i].memsz || ph[i].vaddr >= ELF_USER_TOP ||
            ph[i].memsz > ELF_USER_TOP - ph[i].vaddr || ph[i].memsz > (1ull << 32))
            return -1;
    }
    return 0;
}

#endif
