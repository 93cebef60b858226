// Compiler and sanitizer detection shared by the public headers.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define SWITCHYARD_ALWAYS_INLINE inline __attribute__((always_inline))
#define SWITCHYARD_NOINLINE __attribute__((noinline))
#define SWITCHYARD_COLD [[gnu::cold, gnu::noinline]]
#define SWITCHYARD_LIKELY(x) __builtin_expect(!!(x), 1)
#define SWITCHYARD_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#error "switchyard needs GCC or Clang (x86_64 or aarch64 Linux)"
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWITCHYARD_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define SWITCHYARD_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SWITCHYARD_ASAN)
#define SWITCHYARD_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(SWITCHYARD_TSAN)
#define SWITCHYARD_TSAN 1
#endif

// SWITCHYARD_NO_LOGGING removes the trace call sites from the switch path at
// compile time (used by the benchmark that prices logging at level off).
