/* WASIX-compatible context switching, natively, on top of switchyard.
 *
 * A program written for WASIX's context API (as run by wasmer) builds
 * against this header unchanged and behaves as it does there:
 *
 * - Every thread has an environment from its first call on, with no set-up:
 *   the thread's own stack is the main context, ID 0 (wasix_context_main).
 *   When the thread exits, its remaining contexts and stacks are released.
 *   If the thread already runs a switchyard environment (switchyard::run_main
 *   or sy_run_main), the calls act on that one instead.
 * - The functions return 0, or -1 with errno set. EINVAL: switching to a
 *   context that is not suspended (unknown, destroyed, finished); destroying
 *   the active or the main context; a NULL pointer or entrypoint. ENOMEM: no
 *   memory or stack mapping is left for a new context. ENOTSUP: the running
 *   switchyard environment is in disabled mode.
 * - Switching to the active context is a no-op; destroying an unknown or
 *   already deleted context succeeds as a no-op.
 * - Destroying a context releases its stack without running any more of its
 *   code (like a trap discarding a guest stack): nothing on that stack is
 *   cleaned up, so free what a context owns before destroying it.
 * - Entrypoints must not return. One that does ends the program: a message
 *   naming the context goes to stderr, stdio is flushed and the process exits
 *   with code 129. (In an environment an embedder made with run_main, the
 *   embedder decides instead: see the README, "Embedding".)
 * - A C++ exception that leaves an entrypoint is rethrown in the main context
 *   from its pending wasix_context_switch, so wasix_context_switch may throw
 *   when called from C++. Build C code that calls it with -fexceptions (or
 *   at least with unwind tables, the default on x86_64 and aarch64 Linux) if
 *   such an exception must pass through its frames.
 * - A successful call never changes errno, the first one of a process
 *   included.
 * - The implicit environment belongs to the stack that made it. Under a
 *   switchyard::Executor that is one Boost.Fiber fiber: a call from another
 *   fiber of the thread outside any environment fails with EBUSY. After the
 *   release at thread exit (for calls from later thread_local destructors)
 *   no new environment is made: wasix_context_create fails with ECANCELED,
 *   switching to main is a no-op, other switches are EINVAL, destroy is a
 *   no-op (destroying main: EINVAL).
 * - pthread_exit and pthread_cancel pass through these functions untouched.
 * - exit() from any context ends the process normally and flushes stdio.
 * - The default context stack is 1 MiB with a 256 KiB guard region below it.
 *
 * Compiled for wasm32 (clang --target=wasm32-wasi), the header declares the
 * WASIX imports instead and defines the same functions on top of them; see
 * below, and README "WebAssembly guests".
 */
#ifndef WASIX_CONTEXT_H
#define WASIX_CONTEXT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A context's ID, valid in the environment (thread) that created it. */
typedef uint64_t wasix_context_id_t;

#if defined(__wasm32__) || defined(__wasi__)
/* WebAssembly guests (clang --target=wasm32-wasi): the same four functions,
 * as inline wrappers over the WASIX imports a host provides (module
 * "wasix_32v1", as wasmer defines them; switchyard-wasm implements them on
 * switchyard contexts). Each import returns a WASI errno (0 on success);
 * the wrappers store it in errno, whose values in wasi-libc are the WASI
 * ones, and return -1, or 0 on success. A function pointer is a table index
 * in wasm32, so the entrypoint travels as such. */
#include <errno.h>

__attribute__((import_module("wasix_32v1"), import_name("context_create"))) int32_t
__wasix_import_context_create(wasix_context_id_t *new_context_ptr, void (*entrypoint)(void));
__attribute__((import_module("wasix_32v1"), import_name("context_switch"))) int32_t
__wasix_import_context_switch(wasix_context_id_t target_context_id);
__attribute__((import_module("wasix_32v1"), import_name("context_destroy"))) int32_t
__wasix_import_context_destroy(wasix_context_id_t context_id);

#define wasix_context_main (__wasix_context_main())

static inline int __wasix_context_result(int32_t wasi_errno) {
  if (wasi_errno == 0) return 0;
  errno = (int)wasi_errno;
  return -1;
}

/* The main context of the guest: 0. */
static inline wasix_context_id_t __wasix_context_main(void) { return 0; }

/* Errors: EINVAL (NULL pointer or entrypoint, or an entrypoint that is not a
 * `void (void)` function), ENOMEM (no linear memory left for the context's
 * shadow stack). */
static inline int wasix_context_create(wasix_context_id_t *context_id, void (*entrypoint)(void)) {
  if (!context_id || !entrypoint) return __wasix_context_result(EINVAL);
  return __wasix_context_result(__wasix_import_context_create(context_id, entrypoint));
}

/* Errors: EINVAL (target not suspended: unknown, destroyed or finished). */
static inline int wasix_context_switch(wasix_context_id_t target_context_id) {
  return __wasix_context_result(__wasix_import_context_switch(target_context_id));
}

/* Errors: EINVAL (the active context or the main context). */
static inline int wasix_context_destroy(wasix_context_id_t context_id) {
  return __wasix_context_result(__wasix_import_context_destroy(context_id));
}

#else /* native */

/* The ID of the main context of the calling thread's environment: 0.
 * Exported by the library; with GCC and Clang the header also gives an
 * inline body (GNU extern inline: no symbol of its own, the address is still
 * the library's), so `wasix_context_switch(wasix_context_main)` passes 0
 * instead of making a call first, which a switch loop would otherwise pay
 * on every round trip. */
#define wasix_context_main (__wasix_context_main())
wasix_context_id_t __wasix_context_main(void);
/* (The library's own definition is compiled without the inline body.) */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(SWITCHYARD_DEFINES_WASIX_CONTEXT_MAIN)
extern __inline__ __attribute__((__gnu_inline__, __always_inline__)) wasix_context_id_t __wasix_context_main(void) {
  return 0;
}
#endif

/* Creates a suspended context that runs entrypoint() on its own stack the
 * first time it is switched to, and stores its ID in *context_id. IDs start
 * at 1 and are never reused within a thread's environment.
 * Errors: EINVAL (context_id or entrypoint NULL), ENOMEM, ENOTSUP. */
int wasix_context_create(wasix_context_id_t *context_id, void (*entrypoint)(void));

/* Suspends the active context and resumes target_context_id where it was
 * suspended (or at its entrypoint). Returns when some context switches back.
 * Errors: EINVAL (target not suspended: unknown, destroyed or finished; the
 * caller keeps running), ENOTSUP. */
int wasix_context_switch(wasix_context_id_t target_context_id);

/* Destroys a suspended context and releases its stack.
 * Errors: EINVAL (the active context or the main context). */
int wasix_context_destroy(wasix_context_id_t context_id);

#endif /* native */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASIX_CONTEXT_H */
