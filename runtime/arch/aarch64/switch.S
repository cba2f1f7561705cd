/*
 * switch.S (AArch64 AAPCS64) - the goroutine context switch.
 *
 * grt__ctx_switch(struct ctx *from /x0/, struct ctx *to /x1/) saves sp, the
 * link register (as pc), x19-x29 and d8-d15 (the callee-saved registers)
 * into *from, loads *to and branches to its pc.  FPCR is per-M state.
 *
 * struct ctx layout (runtime/rt.h): sp 0, pc 8, x19..x29 16..96,
 * d8..d15 104..160.
 */
    .text
    .globl grt__ctx_switch
    .hidden grt__ctx_switch
    .type grt__ctx_switch, %function
    .p2align 4
grt__ctx_switch:
    .cfi_startproc
    mov     x9, sp
    str     x9, [x0, #0]
    str     x30, [x0, #8]
    stp     x19, x20, [x0, #16]
    stp     x21, x22, [x0, #32]
    stp     x23, x24, [x0, #48]
    stp     x25, x26, [x0, #64]
    stp     x27, x28, [x0, #80]
    str     x29, [x0, #96]
    stp     d8, d9, [x0, #104]
    stp     d10, d11, [x0, #120]
    stp     d12, d13, [x0, #136]
    stp     d14, d15, [x0, #152]

    ldp     x19, x20, [x1, #16]
    ldp     x21, x22, [x1, #32]
    ldp     x23, x24, [x1, #48]
    ldp     x25, x26, [x1, #64]
    ldp     x27, x28, [x1, #80]
    ldr     x29, [x1, #96]
    ldp     d8, d9, [x1, #104]
    ldp     d10, d11, [x1, #120]
    ldp     d12, d13, [x1, #136]
    ldp     d14, d15, [x1, #152]
    ldr     x9, [x1, #0]
    mov     sp, x9
    ldr     x30, [x1, #8]
    br      x30
    .cfi_endproc
    .size grt__ctx_switch, .-grt__ctx_switch

    .globl grt__ctx_trampoline
    .hidden grt__ctx_trampoline
    .type grt__ctx_trampoline, %function
    .p2align 4
grt__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov     x29, #0
    bl      grt__g_entry
    brk     #0
    .cfi_endproc
    .size grt__ctx_trampoline, .-grt__ctx_trampoline

    .section .note.GNU-stack, "", %progbits
