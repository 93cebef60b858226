// The one place that switches stacks. Together with src/stack_switch.cpp
// (first entry and exit of a context) it holds every Boost.Context resume
// and every sanitizer annotation; nothing else touches either.
//
// Protocol: the switching side sets env.from_ = itself and env.current_ =
// target, saves its exception state and resumes the target's continuation.
// The side that lands stores the continuation it received (the switcher's)
// into env.from_->cont, which is how a suspended context's unblocker gets
// filled in, restores its own exception state, and checks env.attention_
// for the rare cases (a dead context to reap, a cancellation, a failure).
#pragma once

#include <spdlog/logger.h>

#include <exception>

#include "switchyard/config.hpp"
#include "switchyard/detail/context.hpp"

#if defined(SWITCHYARD_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(SWITCHYARD_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace __cxxabiv1 {
struct __cxa_eh_globals;
extern "C" __cxa_eh_globals* __cxa_get_globals() noexcept;
}  // namespace __cxxabiv1

namespace switchyard {
class Environment;
}

namespace switchyard::detail {

inline ExceptionState* thread_exception_state() noexcept {
  return reinterpret_cast<ExceptionState*>(__cxxabiv1::__cxa_get_globals());
}

SWITCHYARD_COLD void log_switch(spdlog::logger* log, ContextId from, ContextId to) noexcept;

struct StackSwitch {
  /// Annotations before leaving `self` for `next`.
  SWITCHYARD_ALWAYS_INLINE static void before_leave([[maybe_unused]] Context* self,
                                                    [[maybe_unused]] Context* next) noexcept {
#if defined(SWITCHYARD_ASAN)
    __sanitizer_start_switch_fiber(&self->asan_fake_stack, next->asan_bottom, next->asan_size);
#endif
#if defined(SWITCHYARD_TSAN)
    __tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
  }

  /// Annotations after landing in `self`. ASan reports the bounds of the
  /// stack we came from; record them, since main's bounds are only learned
  /// this way (and the first entry into a context may come from any context).
  SWITCHYARD_ALWAYS_INLINE static void after_land([[maybe_unused]] Environment& env,
                                                  [[maybe_unused]] Context* self) noexcept;

  /// Suspends `self` and runs `next`; returns when `self` is resumed. The
  /// caller has set both states and counted the switch. No object with a
  /// destructor lives in this frame, so ContextCanceled raised by
  /// on_attention() needs no cleanup pad here.
  SWITCHYARD_ALWAYS_INLINE static void jump(Environment& env, Context* self, Context* next);

  /// First switch into a context that never ran: builds its fiber on its
  /// preallocated stack, then jumps. Out of line (src/stack_switch.cpp).
  static void start(Environment& env, Context* self, Context* next);

  /// A context whose frames must not be unwound (C API): drop its
  /// continuation without resuming it, so no more of its code runs.
  static void abandon(Context* context) noexcept;
  /// TSan fiber bookkeeping for the main context and at reap.
  static void init_main(Context* main) noexcept;
  static void release(Context* context) noexcept;

 private:
  /// What a context runs on its own stack: first landing, the entry, then
  /// the hand-off to whoever must run next. Returns that context's
  /// continuation, which Boost.Context resumes after freeing this stack.
  static boost::context::fiber run_context(Environment& env, Context* self, boost::context::fiber&& caller) noexcept;
  enum class Outcome { returned, canceled, failed };
  static Context* finish(Environment& env, Context* self, Outcome outcome, std::exception_ptr failure) noexcept;
  /// Annotations for the last leave of a context whose stack is going away.
  static void before_exit(Context* next) noexcept;
};

}  // namespace switchyard::detail
