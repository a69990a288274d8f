/*
 * elf_check(), shared by the kernel's root loader and the user-space
 * loader, against real programs and damaged copies of them; and lib/elf's
 * segment walk and layout, which every loader maps programs by.
 */
#include <samsara/kcall.h>
#include "elf/elf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

static uint8_t *image;
static uint64_t size;

static void load(const char *path)
{
    if (image)
        return;
    size_t len;
    image = (uint8_t *)host_read_file(path, &len);
    if (!image) {
        printf("  cannot open %s\n", path);
        exit(2);
    }
    size = len;
}

static int check_modified(void (*change)(uint8_t *copy))
{
    uint8_t *copy = malloc(size);
    memcpy(copy, image, size);
    change(copy);
    int r = elf_check(copy, size);
    free(copy);
    return r;
}

static elf64_ehdr_t *hdr(uint8_t *p)
{
    return (elf64_ehdr_t *)p;
}
static elf64_phdr_t *ph(uint8_t *p, int i)
{
    return (elf64_phdr_t *)(p + hdr(p)->phoff) + i;
}

static void bad_magic(uint8_t *p)
{
    p[1] = 'X';
}
static void elf32(uint8_t *p)
{
    p[4] = 1;
}
static void shared_object(uint8_t *p)
{
    hdr(p)->type = 3;
}
static void wrong_machine(uint8_t *p)
{
    hdr(p)->machine = 3;
}
static void phoff_past_end(uint8_t *p)
{
    hdr(p)->phoff = ~0ull - 10;
}
static void too_many_phdrs(uint8_t *p)
{
    hdr(p)->phnum = 0xffff;
}
static void kernel_entry(uint8_t *p)
{
    hdr(p)->entry = 0xffffffff80000000ull;
}
static void segment_past_file(uint8_t *p)
{
    ph(p, 0)->filesz = 1ull << 40;
    ph(p, 0)->memsz = 1ull << 40;
}
static void segment_offset_overflow(uint8_t *p)
{
    ph(p, 0)->offset = ~0ull;
}
static void segment_in_kernel(uint8_t *p)
{
    ph(p, 0)->vaddr = 0xffff800000000000ull;
}
static void filesz_over_memsz(uint8_t *p)
{
    ph(p, 0)->memsz = ph(p, 0)->filesz - 1;
}
static void big_endian(uint8_t *p)
{
    p[5] = 2;
}
static void no_phdrs(uint8_t *p)
{
    hdr(p)->phnum = 0;
}
static void phnum_over_a_page(uint8_t *p)
{
    hdr(p)->phnum = ELF_MAX_PHNUM + 1;
}
static void phentsize_wrong(uint8_t *p)
{
    hdr(p)->phentsize = 32;
}
static void phoff_misaligned(uint8_t *p)
{
    hdr(p)->phoff += 4;
}
static void offset_not_congruent(uint8_t *p)
{
    ph(p, 0)->offset += 1;
}
static void offset_filesz_wraps(uint8_t *p)
{
    ph(p, 0)->filesz = ~0ull - ph(p, 0)->offset + 2;
}
static void vaddr_memsz_wraps(uint8_t *p)
{
    ph(p, 0)->memsz = ~0ull - ph(p, 0)->vaddr + 2;
}
static void segment_crosses_user_top(uint8_t *p)
{
    ph(p, 0)->vaddr = ELF_USER_TOP - 4096;
    ph(p, 0)->offset = 0;
}
static void segment_over_4g(uint8_t *p)
{
    ph(p, 0)->memsz = (1ull << 32) + 4096;
}
static void segments_overlap(uint8_t *p)
{
    ph(p, 1)->vaddr = ph(p, 0)->vaddr;
}
static void segments_share_a_page(uint8_t *p)
{
    /* the second segment starts on the page where the first ends */
    ph(p, 1)->vaddr =
        ((ph(p, 0)->vaddr + ph(p, 0)->memsz - 1) & ~4095ull) | (ph(p, 1)->offset & 4095);
}
static void entry_outside_segments(uint8_t *p)
{
    hdr(p)->entry = 0x1000;
}
static void entry_not_executable(uint8_t *p)
{
    hdr(p)->entry = ph(p, 1)->vaddr;
}
static void entry_at_segment_end(uint8_t *p)
{
    hdr(p)->entry = ph(p, 0)->vaddr + ph(p, 0)->memsz;
}

static void accepts_system_program(void)
{
    load("build/root");
    CHECK(elf_check(image, size) == 0);
    CHECK(elf_check(image, 10) < 0);                   /* truncated */
    CHECK(elf_check(image, sizeof(elf64_ehdr_t)) < 0); /* headers cut off */
}

static void rejects_damage(void)
{
    CHECK(check_modified(bad_magic) < 0);
    CHECK(check_modified(elf32) < 0);
    CHECK(check_modified(shared_object) < 0);
    CHECK(check_modified(wrong_machine) < 0);
    CHECK(check_modified(phoff_past_end) < 0);
    CHECK(check_modified(too_many_phdrs) < 0);
    CHECK(check_modified(kernel_entry) < 0);
    CHECK(check_modified(segment_past_file) < 0);
    CHECK(check_modified(segment_offset_overflow) < 0);
    CHECK(check_modified(segment_in_kernel) < 0);
    CHECK(check_modified(filesz_over_memsz) < 0);
}

/* Every field whose sum or relation a loader relies on (build/root: text, rodata, data+bss). */
static void rejects_inconsistent_layout(void)
{
    CHECK(ph(image, 0)->type == ELF_PT_LOAD && (ph(image, 0)->flags & ELF_PF_X) &&
          ph(image, 1)->type == ELF_PT_LOAD && !(ph(image, 1)->flags & ELF_PF_X));
    CHECK(check_modified(big_endian) < 0);
    CHECK(check_modified(no_phdrs) < 0);
    CHECK(check_modified(phnum_over_a_page) < 0);
    CHECK(check_modified(phentsize_wrong) < 0);
    CHECK(check_modified(phoff_misaligned) < 0);
    CHECK(check_modified(offset_not_congruent) < 0);
    CHECK(check_modified(offset_filesz_wraps) < 0);
    CHECK(check_modified(vaddr_memsz_wraps) < 0);
    CHECK(check_modified(segment_crosses_user_top) < 0);
    CHECK(check_modified(segment_over_4g) < 0);
    CHECK(check_modified(segments_overlap) < 0);
    CHECK(check_modified(segments_share_a_page) < 0);
    CHECK(check_modified(entry_outside_segments) < 0);
    CHECK(check_modified(entry_not_executable) < 0);
    CHECK(check_modified(entry_at_segment_end) < 0);
}

/* The file header of a hand-made program with two program headers right after it; those. */
static elf64_phdr_t *two_segment_header(uint8_t *p, uint64_t entry)
{
    elf64_ehdr_t *h = (elf64_ehdr_t *)p;
    memcpy(h->ident,
           "\x7f"
           "ELF\2\1\1",
           7);
    h->type = ELF_ET_EXEC;
    h->machine = ELF_EM_X86_64;
    h->version = 1;
    h->phoff = sizeof(*h);
    h->phentsize = sizeof(elf64_phdr_t);
    h->phnum = 2;
    h->entry = entry;
    return (elf64_phdr_t *)(p + h->phoff);
}

/* A hand-made minimal program: one segment, plus an empty one that is skipped. */
static void accepts_minimal_program(void)
{
    static uint8_t p[4096];
    elf64_ehdr_t *h = (elf64_ehdr_t *)p;
    elf64_phdr_t *s = two_segment_header(p, 0x400000 + 0x100);
    s[0] = (elf64_phdr_t){ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0,   0x400000, 0x400000,
                          sizeof(p),   sizeof(p) + 8192,    4096};
    s[1] = (elf64_phdr_t){ELF_PT_LOAD, ELF_PF_R, 0, 0x400000, 0x400000, 0, 0, 4096};
    CHECK(elf_check(p, sizeof(p)) == 0);
    s[1].memsz = 1; /* now it overlaps the first */
    CHECK(elf_check(p, sizeof(p)) < 0);
    s[1].memsz = 0;
    h->phnum = ELF_MAX_PHNUM; /* 73 headers: more than this file holds */
    CHECK(elf_check(p, sizeof(p)) < 0);
}

/* What the walk saw: each segment as it came, and when to stop. */
static struct elf_segment seen[16];
static int nseen, stop_at = -1;

static int note_segment(void *ctx, const struct elf_segment *seg)
{
    (void)ctx;
    if (nseen < 16)
        seen[nseen] = *seg;
    return nseen++ == stop_at ? -5 : 0;
}

/* build/root's segments: whole pages around each non-empty PT_LOAD header, the file's bytes from
 * the first page on, its protection from its flags. */
static void segments_of_system_program(void)
{
    load("build/root");
    nseen = 0, stop_at = -1;
    CHECK(elf_segments(image, note_segment, 0) == 0);
    const elf64_ehdr_t *h = hdr(image);
    int n = 0;
    for (int i = 0; i < h->phnum; i++) {
        const elf64_phdr_t *p = ph(image, i);
        if (p->type != ELF_PT_LOAD || !p->memsz)
            continue;
        const struct elf_segment *g = &seen[n++];
        uint64_t lead = p->vaddr & (ELF_PAGE - 1);
        CHECK(g->addr == p->vaddr - lead && g->addr % ELF_PAGE == 0 && g->len % ELF_PAGE == 0);
        CHECK(g->addr + g->len >= p->vaddr + p->memsz && g->len < lead + p->memsz + ELF_PAGE);
        CHECK(g->data == image + p->offset - lead && g->data_offset == p->offset - lead);
        CHECK(g->data_len == p->filesz + lead && g->data_offset + g->data_len <= size);
        CHECK(g->prot ==
              (PROT_R | (p->flags & ELF_PF_W ? PROT_W : 0) | (p->flags & ELF_PF_X ? PROT_X : 0)));
    }
    CHECK(n >= 2 && nseen == n);
    nseen = 0, stop_at = 0; /* the first error ends the walk */
    CHECK(elf_segments(image, note_segment, 0) == -5 && nseen == 1);
}

/* The layout of a hand-made program: two segments a page apart, the headers in the first. */
static void layout_of_minimal_program(void)
{
    static uint8_t p[8192];
    elf64_ehdr_t *h = (elf64_ehdr_t *)p;
    elf64_phdr_t *s = two_segment_header(p, 0x400100);
    s[0] =
        (elf64_phdr_t){ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, 0, 0x400000, 0x400000, 4096, 4096, 4096};
    s[1] = (elf64_phdr_t){
        ELF_PT_LOAD, ELF_PF_R | ELF_PF_W, 4096 + 16, 0x402010, 0x402010, 100, 3 * 4096, 4096};
    CHECK(elf_check(p, sizeof(p)) == 0);
    struct elf_layout l;
    elf_layout(p, &l);
    CHECK(l.low == 0x400000 && l.end == 0x406000 && l.pages == 1 + 4);
    CHECK(l.phdr == 0x400000 + sizeof(*h));
    nseen = 0, stop_at = -1;
    CHECK(elf_segments(p, note_segment, 0) == 0 && nseen == 2);
    CHECK(seen[1].addr == 0x402000 && seen[1].len == 4 * 4096 && seen[1].prot == (PROT_R | PROT_W));
    CHECK(seen[1].data == p + 4096 && seen[1].data_len == 16 + 100);
    s[0].offset = 4096, s[0].filesz = 16; /* the headers are in no segment now */
    s[0].vaddr = s[0].paddr = 0x401000, h->entry = 0x401004;
    CHECK(elf_check(p, sizeof(p)) == 0);
    elf_layout(p, &l);
    CHECK(l.low == 0x401000 && l.phdr == 0);
}

int main(void)
{
    static const struct host_test tests[] = {
        {"accepts_system_program", accepts_system_program},
        {"rejects_damage", rejects_damage},
        {"rejects_inconsistent_layout", rejects_inconsistent_layout},
        {"accepts_minimal_program", accepts_minimal_program},
        {"segments_of_system_program", segments_of_system_program},
        {"layout_of_minimal_program", layout_of_minimal_program},
        {0, 0},
    };
    return run_host_tests(tests);
}
