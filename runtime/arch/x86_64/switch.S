/*
 * switch.S (x86-64 SysV) - the goroutine context switch.
 *
 * grt__ctx_switch(struct ctx *from, struct ctx *to) saves what the ABI makes
 * callee-saved (rbx, rbp, r12-r15), the stack pointer and the return address
 * into *from, loads *to and resumes it: with a ret when *to resumes at our
 * own return address (it left through the same call site), else with an
 * indirect jmp.  A ret after a stack swap mispredicts whenever the two
 * contexts' call sites differ (2.9 ns vs 7.9 ns measured here for a jmp
 * and a ret between two sites, LESSONS.md); where they are the same, the
 * ret is predicted and keeps the return-stack buffer in step, which the
 * jmp does not (the call's entry stays on it and the next context's
 * first returns mispredict).
 * MXCSR and the x87 control word are per-M state, not saved (as Go).
 *
 * struct ctx layout (runtime/rt.h): sp 0, pc 8, rbx 16, rbp 24, r12 32,
 * r13 40, r14 48, r15 56.
 *
 * A new context has sp = the 16-byte aligned top of its stack and
 * pc = grt__ctx_trampoline, which calls grt__g_entry() and, when the
 * goroutine's function has returned, resumes the context that returns.
 */
    /* Load the callee-saved registers of the context at \to (a register)
     * and its pc into rdx. */
    .macro LOAD_CTX to
    movq    16(\to), %rbx
    movq    24(\to), %rbp
    movq    32(\to), %r12
    movq    40(\to), %r13
    movq    48(\to), %r14
    movq    56(\to), %r15
    movq    8(\to), %rdx           /* where the next context resumes */
    .endm

    .text
    .globl grt__ctx_switch
    .hidden grt__ctx_switch
    .type grt__ctx_switch, @function
    .p2align 4
grt__ctx_switch:
    .cfi_startproc
    movq    (%rsp), %rax            /* our return address */
    leaq    8(%rsp), %rcx           /* the caller's sp once we "return" */
    movq    %rcx, 0(%rdi)
    movq    %rax, 8(%rdi)
    movq    %rbx, 16(%rdi)
    movq    %rbp, 24(%rdi)
    movq    %r12, 32(%rdi)
    movq    %r13, 40(%rdi)
    movq    %r14, 48(%rdi)
    movq    %r15, 56(%rdi)

    LOAD_CTX %rsi
    cmpq    %rdx, %rax
    jne     1f
    /* It resumes where we return to: it left through this same call
     * site (one goroutine parks where the other did, a channel hand-off).
     * Resume it with ret, which the return-stack buffer predicts (its top
     * is our own call's entry) and which pops that entry, so the next
     * context's returns stay predicted as far as its callers match
     * ours (pingpong_p1: 37.0 -> 31.3 ns per switch). */
    movq    0(%rsi), %rsp
    /* Here, and at grt__ctx_switch_jmp, rsp is already the next
     * context's but the return address is not at 0(%rsp), as this
     * function's CFI says: an unwinder must not start from these two
     * instructions (preempt.c, catches).  At the ret it is. */
    .globl grt__ctx_switch_ret
    .hidden grt__ctx_switch_ret
grt__ctx_switch_ret:
    pushq   %rdx
    ret
    /* Elsewhere (a new goroutine's trampoline, g0, another call site):
     * an indirect jmp, which the branch target buffer predicts from the
     * history of targets; a ret would always mispredict there. */
1:  movq    0(%rsi), %rsp
    .globl grt__ctx_switch_jmp
    .hidden grt__ctx_switch_jmp
grt__ctx_switch_jmp:
    jmpq    *%rdx
    .cfi_endproc
    .size grt__ctx_switch, .-grt__ctx_switch

    .globl grt__ctx_trampoline
    .hidden grt__ctx_trampoline
    .type grt__ctx_trampoline, @function
    .p2align 4
grt__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip              /* outermost frame: unwinders stop here */
    xorl    %ebp, %ebp
    call    grt__g_entry
    /* The goroutine has ended (proc.c, grt__g_entry): resume the context
     * it returned, with nothing to save.  A ret, predicted when the
     * return-stack buffer's top is the switch that started this one and
     * that is the context resuming (spawn and wait), unless the next is
     * another new goroutine: a jmp to this trampoline, which the branch
     * target buffer predicts. */
    LOAD_CTX %rax
    leaq    grt__ctx_trampoline(%rip), %rcx
    cmpq    %rcx, %rdx
    movq    0(%rax), %rsp
    je      1f
    /* rsp is the next context's, its return address not yet pushed: an
     * unwinder must not start here (preempt.c) */
    .globl grt__ctx_exit_ret
    .hidden grt__ctx_exit_ret
grt__ctx_exit_ret:
    pushq   %rdx
    ret
    .globl grt__ctx_exit_jmp
    .hidden grt__ctx_exit_jmp
grt__ctx_exit_jmp:
1:  jmpq    *%rdx
    .cfi_endproc
    .size grt__ctx_trampoline, .-grt__ctx_trampoline

/*
 * Where a function marked RETURN_VIA_THUNK (rt.h) returns, with its return
 * address at 0(%rsp): with a ret when that is grt__park_ra, the top of the
 * return-stack buffer after a hand-off between two goroutines blocked at
 * the same site (the ret is predicted and keeps the buffer in step), else
 * with an indirect jmp (the buffer's top is another goroutine's caller,
 * where a ret would mispredict; pingpong_p1 31.8 -> 22.4 ns per switch).
 * rcx is free at a return (caller-saved, not a return value).
 */
    .globl __x86_return_thunk
    .hidden __x86_return_thunk
    .type __x86_return_thunk, @function
    .p2align 4
__x86_return_thunk:
    .cfi_startproc
    movq    grt__park_ra@gottpoff(%rip), %rcx
    movq    %fs:(%rcx), %rcx
    cmpq    %rcx, (%rsp)
    jne     1f
    ret
1:  popq    %rcx
    .cfi_adjust_cfa_offset -8
    .cfi_register rip, rcx
    jmpq    *%rcx
    .cfi_endproc
    .size __x86_return_thunk, .-__x86_return_thunk

    .section .note.GNU-stack, "", @progbits
