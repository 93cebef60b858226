// The switch room: the one place that switches stacks. This header holds
// the inline switch and every sanitizer and valgrind annotation around it;
// the register save, stack swap and first entry are one small assembly file
// per architecture (src/switch_x86_64_sysv.S, src/switch_aarch64_aapcs.S),
// or Boost.Context's fcontext for every other one (src/switch_boost.cpp,
// -DSWITCHYARD_SWITCH_BACKEND=boost). It knows contexts and stacks, not IDs
// or policy: who runs next and where a failure goes are the Environment's.
//
// Protocol: the switching side records itself in `from`, the target in
// `current`, saves its C++ exception state into its record and calls
// switchyard_swap, which stores its stack pointer in its record (the
// unblocker) and resumes the target's. The landing side restores its own
// exception state and tells the caller whether `attention` is set (a dead
// context to reap, a cancellation or a failure to deliver).
#pragma once

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

extern "C" {
/// Suspends the running stack (callee-saved registers, floating-point
/// control state, resume address), stores its stack pointer in *save and
/// resumes the stack whose pointer is `resume`. Returns `transfer` of the
/// swap that later resumes this stack. Never loads MXCSR/FPCR when only
/// status flags differ.
void* switchyard_swap(void** save, void* resume, void* transfer);
/// Lays out a first frame below `top` (16-byte aligned; the frame needs at
/// most 256 bytes) that a swap resumes into switchyard_context_main(transfer),
/// with the caller's floating-point control state. Returns its stack pointer.
void* switchyard_prepare(void* top);
/// What a context runs on its own stack (defined by the Environment). Never
/// returns: a context's end is a last swap away.
[[noreturn]] void switchyard_context_main(void* transfer) noexcept;
}

namespace switchyard::detail {

inline ExceptionState* thread_exception_state() noexcept {
  return reinterpret_cast<ExceptionState*>(__cxxabiv1::__cxa_get_globals());
}

/// The per-thread switching state of one environment; its first member, so
/// the switch touches one cache line of it.
struct SwitchState {
  Context* current = nullptr;          // the running context
  Context* from = nullptr;             // the context that last switched away
  ExceptionState* eh_globals = nullptr;  // this thread's C++ exception state
  bool attention = false;              // set by policy: look at the landing
  bool busy = false;  // inside switch_to, create or destroy: a call now came from a signal handler
};

struct StackSwitch {
  /// Makes `context` resumable on the stack whose usable `size` bytes end at
  /// `top`: its first switch enters switchyard_context_main.
  static void prepare(Context* context, void* top, std::size_t size) noexcept;

  /// Suspends `self` and runs `next`; returns when `self` is resumed. The
  /// caller has set both states. Returns state.attention. No object with a
  /// destructor lives in this frame, so an exception the caller raises after
  /// a landing needs no cleanup pad here.
  SWITCHYARD_ALWAYS_INLINE static bool jump(SwitchState& state, Context* self, Context* next) {
    state.from = self;
    state.current = next;
    ExceptionState* eh = state.eh_globals;
    self->eh = *eh;
    before_leave(self, next, &self->asan_fake_stack);
    switchyard_swap(&self->sp, next->sp, &state);
    state.busy = false;
    *eh = self->eh;
    after_land(state, self);
    return SWITCHYARD_UNLIKELY(state.attention);
  }

  /// First landing on a context's own stack, in switchyard_context_main.
  static void land_first(SwitchState& state, Context* self) noexcept;
  /// The last leave of a context that ended: runs `next`, never returns. The
  /// caller has set next's state and state.attention so that the lander
  /// reaps `self` (its stack is released there, off this stack).
  [[noreturn]] static void exit_to(SwitchState& state, Context* self, Context* next) noexcept;

  /// Sanitizer bookkeeping for the main context, and for a context whose
  /// record goes away.
  static void init_main(Context* main) noexcept;
  static void release(Context* context) noexcept;

 private:
  SWITCHYARD_ALWAYS_INLINE static void before_leave([[maybe_unused]] Context* self, [[maybe_unused]] Context* next,
                                                    [[maybe_unused]] void** fake_stack) noexcept {
#if defined(SWITCHYARD_ASAN)
    __sanitizer_start_switch_fiber(fake_stack, next->asan_bottom, next->asan_size);
#endif
#if defined(SWITCHYARD_TSAN)
    __tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
  }
  /// ASan reports the bounds of the stack we came from; record them, since
  /// main's bounds are only learned this way.
  SWITCHYARD_ALWAYS_INLINE static void after_land([[maybe_unused]] SwitchState& state,
                                                  [[maybe_unused]] Context* self) noexcept {
#if defined(SWITCHYARD_ASAN)
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &state.from->asan_bottom, &state.from->asan_size);
#endif
  }
};

}  // namespace switchyard::detail
