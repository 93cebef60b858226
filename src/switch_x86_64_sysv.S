/* The native stack switch for x86-64, System V psABI (Linux).
 *
 * void *switchyard_swap(void **save, void *const *resume, void *transfer)
 *   `save` and `resume` point at the first field (the saved stack pointer)
 *   of two context records (struct Context, include/switchyard/detail/
 *   context.hpp): the one leaving and the one to resume. Suspends the
 *   running stack: pushes what the psABI makes callee-saved (rbx, rbp,
 *   r12-r15) under the return address its call pushed and stores the stack
 *   pointer in *save; then loads *resume (stored by an earlier swap, or made
 *   by switchyard_prepare) and pops the same frame there. Returns `transfer`
 *   on the resumed side.
 *
 *   Each side of a switch is a normal call that later returns: with `ret`
 *   when both sides called from the same site (then the return predictor is
 *   right and stays balanced: an out-of-line caller such as the C API or
 *   <wasix/context.h> pays no mispredicted return inside the switch), with
 *   an indirect jump when they did not (see .Lreturn).
 *
 *   Floating-point control state (the control bits of MXCSR and the x87
 *   control word; MXCSR's status flags, bits 0-5, are caller-saved and not
 *   part of it) lives in the records, at the offsets below. The caller
 *   stores the leaving side's (StackSwitch::save_fp) before the call, as
 *   early as it can: a load right after stmxcsr waits for it, so the store
 *   is made well ahead and this code only reads it back. A resume loads
 *   MXCSR or the x87 control word only when the control state differs, and
 *   then keeps the current status flags: two stacks whose sticky flags
 *   differ switch as fast as two whose flags match (ldmxcsr with a changed
 *   value costs about 70 ns on some CPUs).
 *
 * void *switchyard_prepare(void *top)
 *   Lays out a frame below `top` (16-byte aligned, at least 80 bytes of
 *   room) that switchyard_swap resumes into switchyard_trampoline, which
 *   calls switchyard_context_main(transfer) and never returns. Returns the
 *   stack pointer to store in the new context's record. (Its control state
 *   is the creator's: StackSwitch::prepare stores it in the record.)
 *
 * Frame, from the saved stack pointer upward:
 *   0: r15  8: r14  16: r13  24: r12  32: rbx  40: rbp  48: return address
 */
        .set    RECORD_FP_MXCSR, 8      /* uint32_t Context::fp_mxcsr */
        .set    RECORD_FP_X87, 56       /* uint16_t Context::fp_x87 */
        .set    MXCSR_CONTROL, 0xffc0   /* DAZ is bit 6; flags are bits 0-5 */
        .set    MXCSR_FLAGS, 0x3f

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
        movq    %rsp, (%rdi)            /* *save = this stack's resume point */
        movq    %rsp, %r8               /* the suspended frame, read below */

        movq    (%rsi), %rsp            /* now on the resumed stack */
        movq    %rdx, %rax              /* the resumed side returns `transfer` */
        movzwl  RECORD_FP_X87(%rdi), %ecx  /* x87 control word: load only if it differs */
        cmpw    RECORD_FP_X87(%rsi), %cx
        jne     .Lload_fpcw
.Lfpcw_done:
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        movl    RECORD_FP_MXCSR(%rdi), %ecx  /* the current MXCSR, stored by the caller */
        movl    RECORD_FP_MXCSR(%rsi), %esi  /* the resumed side's */
        xorl    %ecx, %esi
        testl   $MXCSR_CONTROL, %esi    /* control bits differ? */
        jnz     .Lload_mxcsr
.Lreturn:
        /* Return to the resumed side. When it was suspended from the same
           call site as ours, `ret` is what the return predictor expects; from
           elsewhere (an inlined switch_to in another function), `ret` would
           be mispredicted every time, while an indirect jump is predicted
           from the branch history (Boost.Context always jumps; its ret-less
           switch leaves out-of-line callers' returns mispredicted instead). */
        movq    (%rsp), %r9             /* the resumed side's return address */
        cmpq    48(%r8), %r9            /* ours */
        jne     .Ljump
        ret
.Ljump:
        addq    $8, %rsp
        jmp     *%r9

.Lload_mxcsr:                           /* saved control bits, current flags */
        xorl    %ecx, %esi              /* the resumed side's MXCSR again */
        andl    $MXCSR_CONTROL, %esi
        andl    $MXCSR_FLAGS, %ecx
        orl     %ecx, %esi
        movl    %esi, -16(%rsp)         /* below the return address: dead frame */
        ldmxcsr -16(%rsp)
        jmp     .Lreturn
.Lload_fpcw:
        fldcw   RECORD_FP_X87(%rsi)
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
        subq    $72, %rax               /* frame (56) + 16 above the return address:
                                           the trampoline runs with rsp % 16 == 0 */
        movq    $0, 0(%rax)             /* r15 */
        movq    $0, 8(%rax)             /* r14 */
        movq    $0, 16(%rax)            /* r13 */
        movq    $0, 24(%rax)            /* r12 */
        movq    $0, 32(%rax)            /* rbx */
        movq    $0, 40(%rax)            /* rbp: ends the frame-pointer chain */
        leaq    switchyard_trampoline(%rip), %rdx
        movq    %rdx, 48(%rax)          /* return address: the trampoline */
        movq    $0, 56(%rax)
        movq    $0, 64(%rax)
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
