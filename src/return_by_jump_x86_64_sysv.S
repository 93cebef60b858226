/* The out-of-line switch entry points of the C API and <wasix/context.h>
 * (x86-64, native switch only): sy_switch_to and wasix_context_switch.
 *
 * A switch resumes the other side in its own caller, so the `ret` of an
 * out-of-line switch function returns to a different place than the CPU's
 * return predictor expects (the caller that entered it on the other side):
 * one mispredicted return per switch. These wrappers call the body (which
 * switches and returns normally: both sides share that call site, so its
 * return is predicted) and then return to their own caller with an indirect
 * jump, which the branch history predicts. The return predictor keeps one
 * stale entry per call; nothing is unbalanced inside the switch.
 */
        .text

.macro RETURN_BY_JUMP name, body
        .globl  \name
        .type   \name, @function
        .p2align 4
\name:
        .cfi_startproc
        subq    $8, %rsp                /* rsp % 16 == 0 at the call */
        .cfi_def_cfa_offset 16
        call    \body                   /* arguments pass through */
        addq    $8, %rsp
        .cfi_def_cfa_offset 8
        popq    %rcx                    /* our return address; eax/rax hold the result */
        .cfi_def_cfa_offset 0
        .cfi_register rip, rcx
        jmp     *%rcx
        .cfi_endproc
        .size   \name, .-\name
.endm

        RETURN_BY_JUMP sy_switch_to, switchyard_sy_switch_to_body
        RETURN_BY_JUMP wasix_context_switch, switchyard_wasix_context_switch_body

        .section .note.GNU-stack, "", @progbits
