/*
 * preempt.S (x86-64) - the asynchronous preemption stub (Go's
 * asyncPreempt, with the two changes LESSONS.md measured as necessary).
 *
 * The SIGURG handler (preempt.c) makes the interrupted goroutine "call"
 * this stub: it moves rsp below the 128-byte red zone (C code keeps live
 * data there, unlike Go), pushes the interrupted rip and resumes here.
 * The stub saves every register the interrupted code may use: the integer
 * registers, the flags, and the whole extended state with XSAVE (x87,
 * SSE, AVX, AVX-512: C code uses them; Go's stub saves only X0-X15), calls
 * grt__preempt_park() to give the processor away, and restores it all
 * when the goroutine runs again, maybe on another thread.  "ret $128"
 * pops the interrupted rip and skips the red zone back.
 *
 * grt__xsave_size holds the XSAVE area size for the enabled features
 * (CPUID 0xD); 0 means no XSAVE: FXSAVE (x87 + SSE) is used instead.
 */
    .text
    .globl grt__async_preempt
    .hidden grt__async_preempt
    .type grt__async_preempt, @function
    .p2align 4
grt__async_preempt:
    .cfi_startproc
    /* the interrupted rsp is the CFA; its rip lies 136 below it */
    .cfi_def_cfa rsp, 136
    .cfi_offset rip, -136
    pushfq
    .cfi_adjust_cfa_offset 8
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    .cfi_adjust_cfa_offset 120
    .cfi_offset rbx, -160
    .cfi_offset rbp, -200
    .cfi_offset r12, -240
    .cfi_offset r13, -248
    .cfi_offset r14, -256
    .cfi_offset r15, -264
    movq    %rsp, %rbx              /* callee-saved: the GPR frame */
    .cfi_def_cfa_register rbx
    movl    grt__xsave_size(%rip), %eax
    testl   %eax, %eax
    jz      1f
    subq    %rax, %rsp
    andq    $-64, %rsp
    /* XRSTOR faults on a non-zero reserved header: clear bytes 512..575 */
    xorl    %eax, %eax
    movq    %rax, 512(%rsp)
    movq    %rax, 520(%rsp)
    movq    %rax, 528(%rsp)
    movq    %rax, 536(%rsp)
    movq    %rax, 544(%rsp)
    movq    %rax, 552(%rsp)
    movq    %rax, 560(%rsp)
    movq    %rax, 568(%rsp)
    movl    $-1, %eax
    movl    $-1, %edx
    xsave64 (%rsp)
    call    grt__preempt_park
    movl    $-1, %eax
    movl    $-1, %edx
    xrstor64 (%rsp)
    jmp     2f
1:
    subq    $512, %rsp
    andq    $-64, %rsp
    fxsave64 (%rsp)
    call    grt__preempt_park
    fxrstor64 (%rsp)
2:
    movq    %rbx, %rsp
    .cfi_def_cfa_register rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    popfq
    ret     $128
    .cfi_endproc
    .size grt__async_preempt, .-grt__async_preempt

    .section .note.GNU-stack, "", @progbits
