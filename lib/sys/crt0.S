/* Entry of every system program: rdi holds the argument root passed. */
    .text
    .globl _start
_start:
    xorq %rbp, %rbp
    andq $-16, %rsp
    call sys_start
    ud2

    .section .note.GNU-stack, "", @progbits
