// The switch of the out-of-line entry points (sy_switch_to and
// wasix_context_switch): Environment::switch_to split at its fast path, so
// that the fast path runs outside any exception handler and the caller's
// handler wraps only what may throw (the whole switch_to when the fast path
// does not apply, or what a landing has to deliver: a cancellation, a
// context's failure).
//
// With the native x86-64 switch and no sanitizer (SWITCHYARD_TAIL_SWITCH
// and no SWITCHYARD_ASAN/TSAN: SWITCHYARD_OUT_OF_LINE_TAIL), an entry point
// ends its fast path with a tail call of the swap (try_plain_leave, then
// jump_tail): the context later lands in a stub of
// src/out_of_line_switch_x86_64_sysv.S, which returns to the entry point's
// caller itself, by a predicted jump, or calls the entry point's attention
// function. Otherwise the fast path is try_fast, and the entry point's own
// return follows the landing.
#pragma once

#include "switchyard/environment.hpp"

namespace switchyard::detail {

#if defined(SWITCHYARD_TAIL_SWITCH) && !defined(SWITCHYARD_ASAN) && !defined(SWITCHYARD_TSAN)
#define SWITCHYARD_OUT_OF_LINE_TAIL 1
#endif

struct OutOfLineSwitch {
  using Result = Environment::Fast;
  /// switch_to's fast path on the thread's environment, without exceptions.
  /// `done`: switched, and this context landed again. `attention`: landed,
  /// and the landing has something to deliver: call attend(). `slow`:
  /// nothing happened (also when the thread runs no environment); the caller
  /// takes the whole switch_to, which decides.
  SWITCHYARD_ALWAYS_INLINE static Result try_fast(ContextId target) noexcept {
    Environment* env = Environment::try_current();
    if (SWITCHYARD_UNLIKELY(env == nullptr)) return Result::slow;
    return env->switch_fast(target);
  }
  /// What a landing that asked for attention delivers. May throw what
  /// switch_to throws.
  static void attend() { detail::tls_current->on_attention(); }

  /// The fast path up to its swap: the target's record when nothing but the
  /// swap is left (the leave is marked: finish with jump_tail at once), else
  /// nullptr with nothing changed (take the whole switch_to).
  SWITCHYARD_ALWAYS_INLINE static Context* try_plain_leave(ContextId target, Environment*& env,
                                                            Context*& self) noexcept {
    env = Environment::try_current();
    if (SWITCHYARD_UNLIKELY(env == nullptr)) return nullptr;
    Context* next = env->fast_target(target, self);
    if (SWITCHYARD_UNLIKELY(next == nullptr || !env->plain_leave())) return nullptr;
    env->mark_leave(self);
    return next;
  }

  /// An entry point's whole switch, its fast path without an exception
  /// handler. `Api` gives its result type (`result`, 0 on success) and its
  /// `rest(landed, target)`, which runs inside the entry point's handler:
  /// the whole switch_to when the fast path does not apply (landed false),
  /// or what a landing delivers (landed true). In tail builds `Api` also
  /// points at its landing stub (`landing`), whose attention function calls
  /// rest(true, cargo).
  template <class Api>
  SWITCHYARD_ALWAYS_INLINE static typename Api::result run(ContextId target, std::uint64_t cargo) {
    using R = typename Api::result;
#if defined(SWITCHYARD_OUT_OF_LINE_TAIL)
    Environment* env;
    Context* self;
    if (Context* next = try_plain_leave(target, env, self)) {
      // A tail call: the stub returns to our caller.
      return static_cast<R>(
          StackSwitch::jump_tail(env->sw_, self, next, reinterpret_cast<void*>(Api::landing), cargo));
    }
    return Api::rest(false, target);
#else
    (void)cargo;
    const Result result = try_fast(target);
    if (SWITCHYARD_LIKELY(result == Result::done)) return R{};
    return Api::rest(result == Result::attention, target);
#endif
  }
};

}  // namespace switchyard::detail
