/* The landings of the out-of-line switch entry points of the C API and
 * <wasix/context.h> (x86-64, native switch, no sanitizer): sy_switch_to and
 * wasix_context_switch end their fast path with a tail call of
 * switchyard_swap_tail (src/out_of_line_switch.hpp), which suspends with one
 * of these stubs as the resume address. A swap that resumes the context
 * jumps here with the stack pointer at the return address of the entry
 * point's caller, the cargo (the switch's target) just below it, and rax
 * holding the context's record (the transfer). The stub does what the
 * inline switch does after a landing (the context marks itself running and
 * looks at its attention flag) and returns to that caller by an indirect
 * jump, which the branch history predicts (a `ret` would not be: the
 * caller's call was made on the other side of a switch as far as the
 * return predictor knows). When the landing needs attention, the stub
 * tail-calls the entry point's attention function with the cargo as its
 * argument; that function returns the entry point's result to the caller.
 */
        .set    RECORD_STATE, 70        /* ContextState Context::state */
        .set    RECORD_ATTENTION, 72    /* bool Context::attention */
        .set    STATE_RUNNING, 2

        .text

.macro LANDING name, attend
        .globl  \name
        .hidden \name
        .type   \name, @function
        .p2align 4
\name:
        .cfi_startproc                  /* the stack as at a function's first instruction */
        movb    $STATE_RUNNING, RECORD_STATE(%rax)
        cmpb    $0, RECORD_ATTENTION(%rax)
        jne     1f
        xorl    %eax, %eax              /* SY_OK, or 0 for WASIX */
        .cfi_remember_state
        popq    %rcx
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, rcx
        jmp     *%rcx
1:
        .cfi_restore_state
        movq    -8(%rsp), %rdi          /* the cargo, in the red zone (no signal frame writes there) */
        jmp     \attend
        .cfi_endproc
        .size   \name, .-\name
.endm

        LANDING switchyard_land_sy_switch_to, switchyard_sy_switch_to_attend
        LANDING switchyard_land_wasix_context_switch, switchyard_wasix_context_switch_attend

        .section .note.GNU-stack, "", @progbits
