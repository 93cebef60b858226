/* For bench/switch_price_bench.cpp only: src/switch_x86_64_sysv.S's swap
 * without its floating-point compare (same record layout, same return
 * path), to price that compare. Not a usable switch: it keeps no control
 * state. */
        .text
        .globl  bench_swap_without_fp
        .type   bench_swap_without_fp, @function
        .p2align 4
bench_swap_without_fp:
        .cfi_startproc
        movq    (%rsp), %r9
        movq    %rbx, 8(%rdi)
        movq    %rbp, 16(%rdi)
        movq    %r12, 24(%rdi)
        movq    %r13, 32(%rdi)
        movq    %r14, 40(%rdi)
        movq    %r15, 48(%rdi)
        movq    %r9, 56(%rdi)
        movq    %rsp, 0(%rdi)
        movq    0(%rsi), %rsp
        movq    8(%rsi), %rbx
        movq    16(%rsi), %rbp
        movq    24(%rsi), %r12
        movq    32(%rsi), %r13
        movq    40(%rsi), %r14
        movq    48(%rsi), %r15
        movq    56(%rsi), %r8
        movq    %rdx, %rax
        cmpq    %r9, %r8
        jne     1f
        ret
1:      addq    $8, %rsp
        jmp     *%r8
        .cfi_endproc
        .size   bench_swap_without_fp, .-bench_swap_without_fp
        .section .note.GNU-stack, "", @progbits
