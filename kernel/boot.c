/*
 * From Multiboot to the first process. The kernel loads only the first
 * boot module, the root server, from its ELF image; root gets every
 * privilege, a boot information page at BOOTINFO_VADDR and read-only views
 * of all module images at MODULES_VADDR, and starts the rest itself.
 */
#include "../lib/elf/elf.h"
#include "kernel.h"

#define ROOT_STACK_TOP 0x00007ffffffff000ull
#define ROOT_STACK_SIZE (64 * 1024)

static struct bootinfo bootinfo;
static uint64_t mod_start[BOOT_MAX_MODULES], mod_end[BOOT_MAX_MODULES];

/* Copy what we need out of the Multiboot information before it can be reused. */
static void boot_read_modules(uint32_t mb_info)
{
    const uint32_t *mb = P2V(mb_info);
    /* The loader's name: "qemu" for QEMU's -kernel, GRUB's from make iso's CD. */
    if ((mb[0] & (1 << 9)) && mb[16])
        kprintf("kernel: loaded by %s\n", (const char *)P2V(mb[16]));
    if ((mb[0] & (1 << 2)) && mb[4])
        inject_boot_option(P2V(mb[4]));
    if (!(mb[0] & (1 << 3)) || mb[5] == 0)
        panic("no boot modules: pass the root server first in -initrd");
    const uint32_t *mods = P2V(mb[6]);
    uint32_t n = mb[5] < BOOT_MAX_MODULES ? mb[5] : BOOT_MAX_MODULES;
    for (uint32_t i = 0; i < n; i++) {
        struct boot_module *m = &bootinfo.mod[i];
        const char *s = mods[i * 4 + 2] ? P2V(mods[i * 4 + 2]) : "";
        const char *base = s, *c = s;
        for (; *c && *c != ' '; c++)
            if (*c == '/')
                base = c + 1;
        for (int k = 0; k < 31 && base + k < c; k++)
            m->name[k] = base[k];
        while (*c == ' ')
            c++;
        for (int k = 0; k < 63 && c[k]; k++)
            m->args[k] = c[k];
        mod_start[i] = mods[i * 4];
        mod_end[i] = mods[i * 4 + 1];
        m->size = mod_end[i] - mod_start[i];
    }
    bootinfo.nr_modules = n;
    bootinfo.hz = HZ;
    bootinfo.mem_bytes = ((uint64_t)mb[2] + 1024) * 1024;
}

static int map_root_segment(void *p, const struct elf_segment *s)
{
    if (!vm_range_free(p, s->addr, s->len) ||
        vm_alloc_fill(p, s->addr, s->len, prot_to_pte((uint64_t)s->prot), 0, (uint64_t)s->data,
                      s->data_len) < 0)
        return -E_NOMEM;
    return 0;
}

int elf_load_root(struct proc *p, uint64_t image_pa, uint64_t size, uint64_t *entry)
{
    const uint8_t *image = P2V(image_pa);
    if (elf_check(image, size) < 0)
        return -E_INVAL;
    *entry = ((const elf64_ehdr_t *)image)->entry;
    return elf_segments(image, map_root_segment, p);
}

void boot_start_root(uint32_t mb_info)
{
    boot_read_modules(mb_info);
    frame_init(mb_info);
    for (uint32_t i = 0; i < bootinfo.nr_modules; i++)
        frame_reserve(mod_start[i], mod_end[i]);
    frame_init_shares();
    iommu_init();

    struct proc *root = proc_alloc(bootinfo.mod[0].name, NONE);
    uint64_t entry, bi = frame_alloc();
    if (!root || !bi)
        panic("out of memory creating the root server");
    root_proc = root;
    if (elf_load_root(root, mod_start[0], bootinfo.mod[0].size, &entry) < 0)
        panic("boot module 0 (%s) is not a static x86-64 ELF executable", bootinfo.mod[0].name);
    if (vm_alloc_range(root, ROOT_STACK_TOP - ROOT_STACK_SIZE, ROOT_STACK_SIZE,
                       prot_to_pte(PROT_R | PROT_W)) < 0)
        panic("out of memory for the root stack");

    uint64_t va = MODULES_VADDR;
    for (uint32_t i = 0; i < bootinfo.nr_modules; i++) {
        bootinfo.mod[i].vaddr = va + (mod_start[i] & (PAGE_SIZE - 1));
        for (uint64_t pa = mod_start[i] & ~(PAGE_SIZE - 1); pa < mod_end[i]; pa += PAGE_SIZE) {
            if (vm_map(root, va, pa, PTE_P | PTE_U | PTE_NX | PTE_NOFREE) < 0)
                panic("out of memory mapping boot modules");
            va += PAGE_SIZE;
        }
    }
    memcpy(P2V(bi), &bootinfo, sizeof(bootinfo));
    if (vm_map(root, BOOTINFO_VADDR, bi, PTE_P | PTE_U | PTE_NX) < 0)
        panic("out of memory mapping boot information");

    root->priv.flags = PRIV_ROOT | PRIV_IPC_ALL;
    root->priv.kcalls = (1ull << NR_KCALLS) - 1;
    root->priv.irqs = 0xfffa;
    root->priv.nr_io = 1;
    root->priv.io[0].base = 0;
    root->priv.io[0].len = 0x10000;
    root->priv.nr_mem = 1;
    root->priv.mem[0].len = PHYS_MAP_LIMIT;
    proc_start(root, entry, ROOT_STACK_TOP, BOOTINFO_VADDR, 0);
    kprintf("kernel: %lu MiB free, %u boot modules, starting %s\n",
            frame_free_count() * PAGE_SIZE >> 20, bootinfo.nr_modules, root->name);
}
