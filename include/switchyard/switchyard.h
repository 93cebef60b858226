/* switchyard C API: cooperative contexts with integer IDs, for C (C99) and
 * for any language with a C FFI.
 *
 * Every function returns a status and never lets a C++ exception out. The
 * calls act on the calling thread's environment, the one sy_run_main (or
 * the C++ switchyard::run_main) installed there; outside one they return
 * SY_ENOENV. A failed call changes nothing, and sy_last_error() then holds
 * a message that names the context and says what happened. A successful
 * call never changes errno. pthread_exit and pthread_cancel pass through
 * every function untouched; in sy_run_main's main function they end the
 * thread after its environment is torn down (its contexts released).
 *
 * Contexts created here hold C frames, which have no destructors: destroying
 * one releases its stack without running any more of its code, as a
 * WebAssembly trap discards a guest stack. Whatever such a context malloc'd
 * and has not freed stays allocated; that is the caller's to free.
 */
#ifndef SWITCHYARD_SWITCHYARD_H
#define SWITCHYARD_SWITCHYARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A context's ID. The main context (the thread's own stack) is 0; the others
 * get 1, 2, ... from a counter that never repeats within an environment. */
typedef uint64_t sy_context_id;

typedef enum sy_status {
  SY_OK = 0,
  SY_ENOENV,         /* no environment on this thread (call inside sy_run_main) */
  SY_EWRONGTHREAD,   /* an environment used from a thread that does not own it */
  SY_ENOTARGET,      /* switch target missing: unknown, finished or destroyed */
  SY_EINVAL,         /* bad argument: NULL pointer, destroying main or yourself */
  SY_ENOTSUP,        /* disabled mode (sy_options.enabled == 0) */
  SY_EALREADY,       /* sy_run_main inside a running environment on this thread */
  SY_ENOMEM,         /* resource exhausted: no memory or no stack mapping */
  SY_ECANCELED,      /* the calling context is being destroyed (C++ contexts only) */
  SY_EENTRYRETURNED, /* a context's entry returned; see sy_last_error() */
  SY_EFAILED         /* a context failed; see sy_last_error() */
} sy_status;

/* Options of an environment. Always fill with sy_options_init() first. */
typedef struct sy_options {
  size_t stack_size; /* usable bytes per context stack; 0 means the default (1 MiB).
                        Sizes that cannot be mapped (over 1 TiB, or whose page
                        rounding overflows) make sy_create give SY_ENOMEM. */
  int guard_pages;   /* nonzero: a PROT_NONE guard region below each stack (default 1) */
  int enabled;       /* 0: disabled mode, sy_create and sy_switch_to give SY_ENOTSUP */
  size_t guard_size; /* bytes of that guard region; 0 means the default (256 KiB) */
} sy_options;

/* Fills `options` with the defaults: 1 MiB stacks, 256 KiB guard regions,
 * enabled. Does nothing when `options` is NULL. */
void sy_options_init(sy_options *options);

/* Runs main_fn(arg) as the main context (ID 0) of a new environment on the
 * calling thread and returns when it returns. Then every context still
 * alive is destroyed, newest first, and the environment is removed.
 * `options` NULL means the defaults. `*result` (if `result` is not NULL)
 * receives main_fn's return value whenever main_fn returned, also when the
 * teardown afterwards reports a failure.
 * Errors: SY_EINVAL (main_fn NULL), SY_EALREADY (the thread already runs an
 * environment), SY_ENOMEM, SY_EFAILED (teardown failed: a C++ context threw
 * while being destroyed). */
sy_status sy_run_main(int (*main_fn)(void *arg), void *arg, const sy_options *options, int *result);

/* Creates a suspended context that will run entry(arg) on its own stack the
 * first time some context switches to it, and stores its ID in `*out`. Does
 * not switch. `arg` is not owned. The entry must never return: it ends by
 * being destroyed; a return is reported to main as SY_EENTRYRETURNED.
 * Errors: SY_EINVAL (entry or out NULL), SY_ENOENV, SY_ENOTSUP, SY_ENOMEM. */
sy_status sy_create(void (*entry)(void *arg), void *arg, sy_context_id *out);

/* Suspends the calling context and runs `target`; returns when some context
 * switches back. Switching to the calling context itself is a no-op.
 * Errors: SY_ENOTARGET (unknown, finished or destroyed; the caller keeps
 * running), SY_ENOENV, SY_ENOTSUP.
 * In the main context only, after the switch: SY_EENTRYRETURNED or SY_EFAILED
 * when some context ended that way; that context is gone and sy_last_error()
 * names it. A C++ context that calls this and is destroyed while suspended
 * gets SY_ECANCELED (and again on every later call): it must then return
 * from its entry at once, which ends it quietly. */
sy_status sy_switch_to(sy_context_id target);

/* Destroys a suspended context. A context created here is released without
 * running any more of its code; a C++ context is unwound first. SY_OK also
 * when no context has that ID (unknown, finished, already destroyed): a no-op.
 * Errors: SY_EINVAL (the main context, or the calling context itself),
 * SY_ENOENV, SY_EFAILED (a C++ context threw while being unwound). */
sy_status sy_destroy(sy_context_id target);

/* Stores the running context's ID (0 for main) in `*out`.
 * Errors: SY_EINVAL (out NULL), SY_ENOENV. */
sy_status sy_active(sy_context_id *out);

/* A short name of `status`, e.g. "SY_ENOTARGET: switch target missing".
 * Never NULL, also for values that are not a sy_status. Static storage. */
const char *sy_status_str(sy_status status);

/* The calling thread's last failure message ("" before any failure). Valid
 * until the next failing call on this thread; successful calls leave it. */
const char *sy_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHYARD_SWITCHYARD_H */
