/* The native stack switch for x86-64, System V psABI (Linux).
 *
 * void *switchyard_swap(void **save, void *resume, void *transfer)
 *   Suspends the running stack: pushes what the psABI makes callee-saved
 *   (rbx, rbp, r12-r15, the control bits of MXCSR and the x87 control word)
 *   under the return address its call pushed, stores the stack pointer in
 *   *save, loads `resume` (a pointer an earlier swap stored, or one made by
 *   switchyard_prepare) and pops the same frame there. Returns `transfer` on
 *   the resumed side.
 *
 *   Each side of a switch is a normal call that later returns: with `ret`
 *   when both sides called from the same site (then the return predictor is
 *   right and stays balanced: an out-of-line caller such as the C API or
 *   <wasix/context.h> pays no mispredicted return inside the switch), with
 *   an indirect jump when they did not (see .Lreturn).
 *
 *   Floating-point control state: MXCSR's status flags (bits 0-5) are
 *   caller-saved and not part of it. A resume loads MXCSR or the x87 control
 *   word only when the saved control bits differ from the current ones, and
 *   then keeps the current status flags: two stacks whose sticky flags differ
 *   switch as fast as two whose flags match (ldmxcsr with a changed value
 *   costs about 70 ns on the machines we measured).
 *
 * void *switchyard_prepare(void *top)
 *   Lays out a frame below `top` (16-byte aligned, at least 96 bytes of room)
 *   that switchyard_swap resumes into switchyard_trampoline, which calls
 *   switchyard_context_main(transfer) and never returns. The frame carries
 *   the caller's current floating-point control state, so a context starts
 *   with the control state of the context that created it. Returns the
 *   stack pointer to hand to switchyard_swap.
 *
 * Frame, from the saved stack pointer upward:
 *   0: MXCSR (4 bytes)  4: x87 control word (2 bytes, 2 unused)
 *   8: r15  16: r14  24: r13  32: r12  40: rbx  48: rbp  56: return address
 */
        .text

        .globl  switchyard_swap
        .hidden switchyard_swap
        .type   switchyard_swap, @function
        .p2align 4
switchyard_swap:
        .cfi_startproc
        pushq   %rbp                    /* callee-saved registers */
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp                /* room for the FP control state */
        stmxcsr (%rsp)                  /* MXCSR, flags and all: masked on resume */
        fnstcw  4(%rsp)                 /* x87 control word */
        movq    %rsp, (%rdi)            /* *save = this stack's resume point */
        movq    %rsp, %r8               /* the suspended frame, read below */

        movq    %rsi, %rsp              /* now on the resumed stack */
        movq    %rdx, %rax              /* the resumed side returns `transfer` */
        movzwl  4(%r8), %ecx            /* x87 control word: load only if it differs */
        cmpw    4(%rsp), %cx
        jne     .Lload_fpcw
.Lfpcw_done:
        movl    (%rsp), %esi            /* the resumed side's MXCSR */
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        /* The current MXCSR is the one just saved; it is read back this late
           because a load right after stmxcsr waits for it (about 2 ns on the
           AMD EPYC machines we measured, where stmxcsr itself costs 4.7 ns
           and ldmxcsr under 1 ns). */
        movl    (%r8), %ecx
        xorl    %ecx, %esi
        testl   $0xffc0, %esi           /* control bits differ? */
        jnz     .Lload_mxcsr
.Lreturn:
        /* Return to the resumed side. When it was suspended from the same
           call site as ours, `ret` is what the return predictor expects; from
           elsewhere (an inlined switch_to in another function), `ret` would
           be mispredicted every time, while an indirect jump is predicted
           from the branch history (Boost.Context always jumps; its ret-less
           switch leaves out-of-line callers' returns mispredicted instead). */
        movq    (%rsp), %r9             /* the resumed side's return address */
        cmpq    56(%r8), %r9            /* ours */
        jne     .Ljump
        ret
.Ljump:
        addq    $8, %rsp
        jmp     *%r9

.Lload_mxcsr:                           /* saved control bits, current flags */
        xorl    %ecx, %esi              /* the resumed side's MXCSR again */
        andl    $0xffc0, %esi
        andl    $0x3f, %ecx
        orl     %ecx, %esi
        movl    %esi, -16(%rsp)         /* below the return address: dead frame */
        ldmxcsr -16(%rsp)
        jmp     .Lreturn
.Lload_fpcw:
        fldcw   4(%rsp)
        jmp     .Lfpcw_done
        .cfi_endproc
        .size   switchyard_swap, .-switchyard_swap

        .globl  switchyard_prepare
        .hidden switchyard_prepare
        .type   switchyard_prepare, @function
        .p2align 4
switchyard_prepare:
        .cfi_startproc
        movq    %rdi, %rax
        andq    $-16, %rax              /* 16-byte aligned top */
        subq    $80, %rax               /* frame (64) + 16 above the return address:
                                           the trampoline runs with rsp % 16 == 0 */
        stmxcsr (%rax)                  /* the creator's control state */
        fnstcw  4(%rax)
        movq    $0, 8(%rax)             /* r15 */
        movq    $0, 16(%rax)            /* r14 */
        movq    $0, 24(%rax)            /* r13 */
        movq    $0, 32(%rax)            /* r12 */
        movq    $0, 40(%rax)            /* rbx */
        movq    $0, 48(%rax)            /* rbp: ends the frame-pointer chain */
        leaq    switchyard_trampoline(%rip), %rdx
        movq    %rdx, 56(%rax)          /* return address: the trampoline */
        movq    $0, 64(%rax)
        movq    $0, 72(%rax)
        ret
        .cfi_endproc
        .size   switchyard_prepare, .-switchyard_prepare

        .type   switchyard_trampoline, @function
        .p2align 4
switchyard_trampoline:
        .cfi_startproc
        .cfi_undefined rip              /* the outermost frame of a context */
        movq    %rax, %rdi              /* transfer, from switchyard_swap */
        call    switchyard_context_main
        ud2                             /* switchyard_context_main never returns */
        .cfi_endproc
        .size   switchyard_trampoline, .-switchyard_trampoline

        .section .note.GNU-stack, "", @progbits
