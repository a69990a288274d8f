/*
 * elf_check(), shared by the kernel's root loader and the user-space
 * loader, against real programs and damaged copies of them.
 */
#include <samsara/elf64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

static uint8_t *image;
static uint64_t size;

static void load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("  cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    size = (uint64_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    image = malloc(size);
    if (fread(image, 1, size, f) != size)
        exit(2);
    fclose(f);
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

static elf64_ehdr_t *hdr(uint8_t *p) { return (elf64_ehdr_t *)p; }
static elf64_phdr_t *ph(uint8_t *p, int i) { return (elf64_phdr_t *)(p + hdr(p)->phoff) + i; }

static void bad_magic(uint8_t *p) { p[1] = 'X'; }
static void elf32(uint8_t *p) { p[4] = 1; }
static void shared_object(uint8_t *p) { hdr(p)->type = 3; }
static void wrong_machine(uint8_t *p) { hdr(p)->machine = 3; }
static void phoff_past_end(uint8_t *p) { hdr(p)->phoff = ~0ull - 10; }
static void too_many_phdrs(uint8_t *p) { hdr(p)->phnum = 0xffff; }
static void kernel_entry(uint8_t *p) { hdr(p)->entry = 0xffffffff80000000ull; }
static void segment_past_file(uint8_t *p) { ph(p, 0)->filesz = 1ull << 40; ph(p, 0)->memsz = 1ull << 40; }
static void segment_offset_overflow(uint8_t *p) { ph(p, 0)->offset = ~0ull; }
static void segment_in_kernel(uint8_t *p) { ph(p, 0)->vaddr = 0xffff800000000000ull; }
static void filesz_over_memsz(uint8_t *p) { ph(p, 0)->memsz = ph(p, 0)->filesz - 1; }

static void accepts_system_program(void)
{
    load("build/root");
    CHECK(elf_check(image, size) == 0);
    CHECK(elf_check(image, 10) < 0); /* truncated */
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

int main(void)
{
    static const struct host_test tests[] = {
        {"accepts_system_program", accepts_system_program},
        {"rejects_damage", rejects_damage},
        {0, 0},
    };
    return run_host_tests(tests);
}
