/* The native stack switch for x86-64, System V psABI (Linux).
 *
 * void *switchyard_swap(void **save, void *const *resume, void *transfer)
 *   `save` and `resume` point at two context records (struct Context,
 *   include/switchyard/detail/context.hpp; `sp` is their first field): the
 *   one leaving and the one to resume. Suspends the running code: stores
 *   what the psABI makes callee-saved (rbx, rbp, r12-r15), a copy of its
 *   return address (the resume address) and its stack pointer (at that
 *   return address) in the leaving record. Then loads the same from the
 *   resumed record and continues there, as the return of the swap that
 *   suspended it. Returns `transfer` on the resumed side.
 *
 *   The suspended state lives in the record's first cache line, not on the
 *   stack: resuming a cold context reads that line (and the next, with the
 *   control state) at addresses known at once, instead of reading the
 *   record to learn where on the stack the registers are.
 *
 *   Each side of a switch is a normal call that later returns: with `ret`
 *   when both sides called from the same site (then the return predictor is
 *   right and stays balanced: an out-of-line caller that calls the swap
 *   from one place, as the C API and <wasix/context.h> do in sanitizer
 *   builds, pays no mispredicted return inside the switch), with an
 *   indirect jump when they did not (see .Lreturn).
 *
 *   Floating-point control state (the control bits of MXCSR and the x87
 *   control word; MXCSR's status flags, bits 0-5, are caller-saved and not
 *   part of it) lives in the records too. The caller stores the leaving
 *   side's (StackSwitch::save_fp) at the top of its switch: a load right
 *   after stmxcsr waits for it, so the store is made well ahead and this
 *   code only reads it back, at its end. A resume loads MXCSR or the x87
 *   control word only when the control state differs, and then keeps the
 *   current status flags: two contexts whose sticky flags differ switch as
 *   fast as two whose flags match (ldmxcsr with a changed value costs about
 *   70 ns on some CPUs).
 *
 * int switchyard_swap_tail(void **save, void *const *resume, void *transfer,
 *                          void *landing, uint64_t cargo)
 *   The same switch for an out-of-line entry point that tail-calls it
 *   (sy_switch_to, wasix_context_switch): entered with its caller's return
 *   address on top of the stack. It suspends with `landing` as the resume
 *   address, and with `cargo` in a slot below the caller's return address,
 *   where the stack pointer is saved. A later swap that resumes it drops the
 *   slot (as it drops a copied return address) and jumps to `landing` (a
 *   stub of src/out_of_line_switch_x86_64_sysv.S), which finishes the
 *   landing and returns to the caller: the caller's call and that return
 *   are the only ones, with no second function's frame and return in
 *   between. Always resumes the other side by jump: its own `ret` could not
 *   be predicted, having no call of its own.
 *
 * void switchyard_prepare(void **record, void *top)
 *   Makes the record resumable on the stack that ends at `top`: the first
 *   swap to it enters switchyard_trampoline with the stack pointer 16-byte
 *   aligned below `top` (at most 32 bytes below), which calls
 *   switchyard_context_main(transfer) and never returns. Writes nothing to
 *   the stack.
 */
        .set    RECORD_SP, 0
        .set    RECORD_SAVED, 8         /* rbx rbp r12 r13 r14 r15 */
        .set    RECORD_RESUME, 56
        .set    RECORD_FP_MXCSR, 64     /* uint32_t Context::fp_mxcsr */
        .set    RECORD_FP_X87, 68       /* uint16_t Context::fp_x87 */
        .set    MXCSR_CONTROL, 0xffc0   /* DAZ is bit 6; flags are bits 0-5 */
        .set    MXCSR_FLAGS, 0x3f

        .text

        .globl  switchyard_swap
        .hidden switchyard_swap
        .type   switchyard_swap, @function
        .p2align 4
.macro SUSPEND                          /* into the record at rdi; r9: the resume address */
        movq    %rbx, RECORD_SAVED+0(%rdi)
        movq    %rbp, RECORD_SAVED+8(%rdi)
        movq    %r12, RECORD_SAVED+16(%rdi)
        movq    %r13, RECORD_SAVED+24(%rdi)
        movq    %r14, RECORD_SAVED+32(%rdi)
        movq    %r15, RECORD_SAVED+40(%rdi)
        movq    %r9, RECORD_RESUME(%rdi)
        movq    %rsp, RECORD_SP(%rdi)
.endm

switchyard_swap:
        .cfi_startproc
        movq    (%rsp), %r9             /* our resume address: the return address */
        SUSPEND                         /* sp at the return address */
.Lresume:
        movq    RECORD_SP(%rsi), %rsp   /* now on the resumed stack */
        movq    RECORD_SAVED+0(%rsi), %rbx
        movq    RECORD_SAVED+8(%rsi), %rbp
        movq    RECORD_SAVED+16(%rsi), %r12
        movq    RECORD_SAVED+24(%rsi), %r13
        movq    RECORD_SAVED+32(%rsi), %r14
        movq    RECORD_SAVED+40(%rsi), %r15
        movq    RECORD_RESUME(%rsi), %r8
        movq    %rdx, %rax              /* the resumed side returns `transfer` */
        movzwl  RECORD_FP_X87(%rdi), %ecx  /* x87 control word: load only if it differs */
        cmpw    RECORD_FP_X87(%rsi), %cx
        jne     .Lload_fpcw
.Lfpcw_done:
        movl    RECORD_FP_MXCSR(%rdi), %ecx  /* the current MXCSR, stored by the caller */
        movl    RECORD_FP_MXCSR(%rsi), %edx  /* the resumed side's */
        xorl    %ecx, %edx
        testl   $MXCSR_CONTROL, %edx    /* control bits differ? */
        jnz     .Lload_mxcsr
.Lreturn:
        /* Return to the resumed side. When it was suspended from the same
           call site as ours, `ret` is what the return predictor expects; from
           elsewhere (an inlined switch_to in another function), `ret` would
           be mispredicted every time, while an indirect jump is predicted
           from the branch history (Boost.Context always jumps; its ret-less
           switch leaves out-of-line callers' returns mispredicted instead). */
        cmpq    %r9, %r8
        jne     .Ljump
        ret                             /* to the same address, read from its stack */
.Ljump:
        addq    $8, %rsp                /* as its ret would */
        jmp     *%r8                    /* the copy in its record: no wait for the stack line */

.Lload_mxcsr:                           /* saved control bits, current flags */
        xorl    %ecx, %edx              /* the resumed side's MXCSR again */
        andl    $MXCSR_CONTROL, %edx
        andl    $MXCSR_FLAGS, %ecx
        orl     %ecx, %edx
        movl    %edx, -16(%rsp)         /* below the resumed side's return address: dead frame */
        ldmxcsr -16(%rsp)
        jmp     .Lreturn
.Lload_fpcw:
        fldcw   RECORD_FP_X87(%rsi)
        jmp     .Lfpcw_done
        .cfi_endproc
        .size   switchyard_swap, .-switchyard_swap

        .globl  switchyard_swap_tail
        .hidden switchyard_swap_tail
        .type   switchyard_swap_tail, @function
        .p2align 4
switchyard_swap_tail:
        .cfi_startproc
        pushq   %r8                     /* cargo, in the slot a resume drops */
        .cfi_adjust_cfa_offset 8
        movq    %rcx, %r9               /* the resume address: the landing stub */
        SUSPEND                         /* sp at the cargo slot */
        xorl    %r9d, %r9d              /* equal to no resume address: resume by jump */
        jmp     .Lresume
        .cfi_endproc
        .size   switchyard_swap_tail, .-switchyard_swap_tail

        .globl  switchyard_prepare
        .hidden switchyard_prepare
        .type   switchyard_prepare, @function
        .p2align 4
switchyard_prepare:
        .cfi_startproc
        andq    $-16, %rsi              /* 16-byte aligned top */
        subq    $24, %rsi               /* a return address slot (never read: the first
                                           resume jumps), then rsp % 16 == 0 as after a return */
        movq    %rsi, RECORD_SP(%rdi)
        xorl    %eax, %eax
        movq    %rax, RECORD_SAVED+0(%rdi)
        movq    %rax, RECORD_SAVED+8(%rdi)   /* rbp = 0 ends the frame-pointer chain */
        movq    %rax, RECORD_SAVED+16(%rdi)
        movq    %rax, RECORD_SAVED+24(%rdi)
        movq    %rax, RECORD_SAVED+32(%rdi)
        movq    %rax, RECORD_SAVED+40(%rdi)
        leaq    switchyard_trampoline(%rip), %rax
        movq    %rax, RECORD_RESUME(%rdi)
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
