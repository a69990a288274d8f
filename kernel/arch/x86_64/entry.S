/*
 * Every way into the kernel: exceptions, IRQs and the `syscall` instruction.
 * Each builds the same frame (struct regs in arch.h) and calls trap().
 * From user mode the frame is built straight into the running process's
 * table entry (TSS.rsp0 and syscall_frame_top point just past it, as in
 * MINIX), then the stub moves to the single kernel stack. trap() leaves
 * through return_to_user() with the next process's frame, so the kernel
 * never blocks and needs no stack per process. Only the idle loop is
 * interrupted in kernel mode; its frame is on the kernel stack and trap()
 * returns here.
 */
#define SYSCALL_VECTOR 0x80

    .macro PUSH_REGS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    .endm

    .macro ISR_NOERR n
    .globl isr\n
isr\n:
    pushq $0
    pushq $\n
    jmp trap_common
    .endm

    .macro ISR_ERR n
    .globl isr\n
isr\n:
    pushq $\n
    jmp trap_common
    .endm

    .text
ISR_NOERR 0
ISR_NOERR 1
    .globl isr2 /* NMI, on its own stack (IST 2, even at syscall_entry's first instruction): */
isr2: iretq     /* ignored, so that one arriving while the kernel runs cannot panic it */
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
    .irp n, 22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
ISR_NOERR \n
    .endr

#define FRAME_CS 144 /* offsetof(struct regs, cs) */
trap_common:
    PUSH_REGS
    cld
    movq %rsp, %rdi
    testb $3, FRAME_CS(%rsp)
    jz 1f
    leaq kernel_stack_top(%rip), %rsp
    call trap
    ud2
1:  call trap /* the idle loop was interrupted */
    jmp pop_frame /* its frame is on top of the kernel stack */

/*
 * syscall: rcx = user rip, r11 = user rflags; IF is cleared by SFMASK. The two
 * calls of IPC's fast path (ipc_fastpath) try it before trap().
 */
#define FAST_SENDREC 0x5a02       /* KCALL_BASE + KC_SENDREC (checked in ipc.c) */
#define FAST_REPLY_RECEIVE 0x5a2b /* KCALL_BASE + KC_REPLY_RECEIVE */
#define KCALL_BASE 0x5a00         /* below it: Linux calls (linux_fastpath) */
    .globl syscall_entry
syscall_entry:
    movq %rsp, syscall_user_rsp(%rip)
    movq syscall_frame_top(%rip), %rsp
    pushq $0x1b
    pushq syscall_user_rsp(%rip)
    pushq %r11
    pushq $0x23
    pushq %rcx
    pushq $0
    pushq $SYSCALL_VECTOR
    PUSH_REGS /* no cld: SFMASK cleared DF */
    movq %rsp, %rbx /* callee-saved: the frame, for trap() */
    leaq kernel_stack_top(%rip), %rsp
    cmpq $FAST_SENDREC, %rax
    je 1f
    cmpq $FAST_REPLY_RECEIVE, %rax
    je 1f
    cmpq $KCALL_BASE, %rax
    jae 2f
    call linux_fastpath /* a Linux call; returns only if it did not take it */
    jmp 2f
1:  call ipc_fastpath /* returns only if it did not take the call */
2:  movq %rbx, %rdi
    call trap
    ud2

/* return_to_user(struct regs *r): load r and iretq; never returns. */
    .globl return_to_user
return_to_user:
    movq %rdi, %rsp
pop_frame:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq

    .bss
    .align 8
syscall_user_rsp: .quad 0

    .section .rodata
    .align 8
    .globl isr_table
isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23
    .quad isr\n
    .endr
    .irp n, 24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad isr\n
    .endr

    .section .note.GNU-stack, "", @progbits
