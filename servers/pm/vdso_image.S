/* The vDSO's image (lib/vdso, built by servers/pm/build.mk), which clock.c copies to pages. */
    .section .rodata
    .balign 16
    .globl vdso_image, vdso_image_end
vdso_image:
    .incbin VDSO_SO
vdso_image_end:
    .section .note.GNU-stack, "", @progbits
