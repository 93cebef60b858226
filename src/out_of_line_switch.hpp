// The switch of the out-of-line entry points (sy_switch_to and
// wasix_context_switch): Environment::switch_to split at its fast path, so
// that the fast path runs outside any exception handler and the caller's
// handler wraps only what may throw (the slow path, or what a landing has to
// deliver: a cancellation, a context's failure). Fewer registers to keep and
// no handler frame to set up on every switch.
#pragma once

#include "switchyard/environment.hpp"

namespace switchyard::detail {

struct OutOfLineSwitch {
  using Result = Environment::Fast;
  /// switch_to's fast path on the thread's environment, without exceptions.
  /// `done`: switched, and this context landed again. `attention`: landed,
  /// and the landing has something to deliver: call attend(). `slow`:
  /// nothing happened (also when the thread runs no environment); the caller
  /// takes the whole switch_to, which decides. Nothing from before the swap
  /// is needed after it, so a caller that passes no argument to attend()
  /// keeps no register across the switch.
  SWITCHYARD_ALWAYS_INLINE static Result try_fast(ContextId target) noexcept {
    Environment* env = Environment::try_current();
    if (SWITCHYARD_UNLIKELY(env == nullptr)) return Result::slow;
    return env->switch_fast(target);
  }
  /// What a landing that asked for attention delivers. May throw what
  /// switch_to throws.
  static void attend() { detail::tls_current->on_attention(); }
};

}  // namespace switchyard::detail
