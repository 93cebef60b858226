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
  /// switch_to without exceptions on the thread's environment: true when
  /// done. Otherwise `env` (null: the thread runs none) and `result` say
  /// what is left; the caller passes them to finish() inside its handler.
  SWITCHYARD_ALWAYS_INLINE static bool try_fast(ContextId target, Environment*& env, Result& result) noexcept {
    env = Environment::try_current();
    result = Result::slow;
    if (SWITCHYARD_UNLIKELY(env == nullptr)) return false;
    result = env->switch_fast(target);
    return SWITCHYARD_LIKELY(result == Result::done);
  }
  /// The rest of switch_to after a fast path that was not done
  /// (Environment::switch_rest). May throw what switch_to throws.
  static void finish(Environment& env, Result result, ContextId target) { env.switch_rest(result, target); }
};

}  // namespace switchyard::detail
