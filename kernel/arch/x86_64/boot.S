/*
 * Multiboot (v1) entry. QEMU's -kernel and GRUB call _start in 32-bit
 * protected mode with eax = magic, ebx = physical address of the Multiboot
 * information. We build boot page tables that map the first 4 GiB three
 * times with 2 MiB pages (identity, the direct map at PHYS_BASE, and the
 * kernel image at KERNEL_BASE), enter long mode and jump to the higher half.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory map */
#define KERNEL_BASE 0xFFFFFFFF80000000

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .boot.bss, "aw", @nobits
    .align 4096
boot_pml4: .skip 4096
boot_pdpt_low: .skip 4096
boot_pdpt_high: .skip 4096
boot_pd: .skip 4 * 4096
boot_stack: .skip 4096
boot_stack_top:

    .section .boot.data, "aw"
    .align 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF /* 0x10: data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
    .globl boot_magic, boot_info
boot_magic: .long 0
boot_info: .long 0

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    movl %eax, boot_magic
    movl %ebx, boot_info
    movl $boot_stack_top, %esp

    /* 2048 PD entries: 4 GiB of 2 MiB pages, present | writable | huge | global (cpu_init) */
    movl $boot_pd, %edi
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x183, %eax
    movl %eax, (%edi,%ecx,8)
    movl $0, 4(%edi,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jne 1b

    /* low PDPT: four PDs */
    movl $boot_pdpt_low, %edi
    movl $boot_pd + 3, %eax
    movl %eax, 0(%edi)
    addl $4096, %eax
    movl %eax, 8(%edi)
    addl $4096, %eax
    movl %eax, 16(%edi)
    addl $4096, %eax
    movl %eax, 24(%edi)
    /* high PDPT: -2 GiB maps the first 2 GiB */
    movl $boot_pdpt_high, %edi
    movl $boot_pd + 3, %eax
    movl %eax, 510*8(%edi)
    addl $4096, %eax
    movl %eax, 511*8(%edi)
    /* PML4: identity [0], direct map [256], kernel [511] */
    movl $boot_pml4, %edi
    movl $boot_pdpt_low + 3, %eax
    movl %eax, 0(%edi)
    movl %eax, 256*8(%edi)
    movl $boot_pdpt_high + 3, %eax
    movl %eax, 511*8(%edi)

    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $(1 << 5) | (1 << 7), %eax  /* PAE, PGE */
    movl %eax, %cr4
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl $(1 << 0) | (1 << 8) | (1 << 11), %eax /* SCE, LME, NXE */
    wrmsr
    movl %cr0, %eax
    orl $(1 << 31) | (1 << 16) | 1, %eax /* PG, WP, PE */
    movl %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $boot64

    .code64
boot64:
    movabsq $higher_half, %rax
    jmp *%rax

    .text
higher_half:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    leaq kernel_stack_top(%rip), %rsp
    xorq %rbp, %rbp
    movl boot_magic, %edi
    movl boot_info, %esi
    call kmain
2:  hlt
    jmp 2b

    .bss
    .align 16
    .globl kernel_stack, kernel_stack_top
kernel_stack: .skip 16384
kernel_stack_top:

    .section .note.GNU-stack, "", @progbits
