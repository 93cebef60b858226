/* The native stack switch for aarch64, AAPCS64 (Linux).
 *
 * void *switchyard_swap(void **save, void *const *resume, void *transfer)
 *   Suspends the running stack: stores what AAPCS64 makes callee-saved
 *   (x19-x28, the frame pointer x29, the link register x30, the low halves
 *   d8-d15 of v8-v15, and FPCR) in a frame on it, stores the stack pointer in
 *   *save, loads *resume (a pointer an earlier swap stored, or one made by
 *   switchyard_prepare) and restores the same frame there. (`save` and
 *   `resume` are the `sp` fields of two context records.) Returns `transfer`
 *   on the resumed side, with `ret` to the x30 it restored: each side of a
 *   switch is a normal call that later returns.
 *
 *   Floating-point control state is FPCR (rounding mode, flush-to-zero,
 *   trap enables); the sticky status flags live in FPSR, which is not part of
 *   it and is never touched. FPCR is written only when it differs.
 *
 * void switchyard_prepare(void **record, void *top)
 *   Lays out a frame below `top` (at least 192 bytes of room) that
 *   switchyard_swap resumes into switchyard_trampoline, which calls
 *   switchyard_context_main(transfer) and never returns, and stores its
 *   stack pointer in *record. The frame carries the caller's FPCR, so a
 *   context starts with its creator's control state.
 *
 * Frame, from the saved stack pointer upward (176 bytes, 16-byte aligned):
 *   0: x19 x20  16: x21 x22  32: x23 x24  48: x25 x26  64: x27 x28
 *   80: x29 x30  96: d8 d9  112: d10 d11  128: d12 d13  144: d14 d15
 *   160: FPCR  168: unused
 */
        .text

        .globl  switchyard_swap
        .hidden switchyard_swap
        .type   switchyard_swap, %function
        .p2align 4
switchyard_swap:
        .cfi_startproc
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]      /* callee-saved general registers */
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]     /* frame pointer, return address */
        stp     d8, d9, [sp, #96]       /* callee-saved SIMD halves */
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x10, sp
        str     x10, [x0]               /* *save = this stack's resume point */

        ldr     x11, [x1]
        mov     sp, x11                 /* now on the resumed stack */
        ldr     x9, [sp, #160]
        mrs     x10, fpcr
        cmp     x9, x10
        b.eq    1f
        msr     fpcr, x9                /* only when the control state differs */
1:
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        mov     x0, x2                  /* the resumed side returns `transfer` */
        ret                             /* to x30: the resumed side's call site */
        .cfi_endproc
        .size   switchyard_swap, .-switchyard_swap

        .globl  switchyard_prepare
        .hidden switchyard_prepare
        .type   switchyard_prepare, %function
        .p2align 4
switchyard_prepare:
        .cfi_startproc
        mov     x12, x0                 /* the record */
        and     x0, x1, #~15            /* 16-byte aligned top */
        sub     x0, x0, #192            /* frame (176) + 16 spare above it */
        mov     x9, #0
        mov     x10, #0
        stp     x9, x10, [x0, #0]       /* x19, x20 */
        stp     x9, x10, [x0, #16]
        stp     x9, x10, [x0, #32]
        stp     x9, x10, [x0, #48]
        stp     x9, x10, [x0, #64]
        adr     x11, switchyard_trampoline
        stp     x9, x11, [x0, #80]      /* x29 = 0 ends the frame chain; x30 */
        stp     x9, x10, [x0, #96]
        stp     x9, x10, [x0, #112]
        stp     x9, x10, [x0, #128]
        stp     x9, x10, [x0, #144]
        mrs     x11, fpcr               /* the creator's control state */
        stp     x11, x9, [x0, #160]
        stp     x9, x10, [x0, #176]
        str     x0, [x12]               /* record->sp */
        ret
        .cfi_endproc
        .size   switchyard_prepare, .-switchyard_prepare

        .type   switchyard_trampoline, %function
        .p2align 4
switchyard_trampoline:
        .cfi_startproc
        .cfi_undefined x30              /* the outermost frame of a context */
        bl      switchyard_context_main /* x0 = transfer, from switchyard_swap */
        brk     #0                      /* switchyard_context_main never returns */
        .cfi_endproc
        .size   switchyard_trampoline, .-switchyard_trampoline

        .section .note.GNU-stack, "", %progbits
