// The switch room: the one place that switches stacks. This header holds
// the inline switch and every sanitizer and valgrind annotation around it;
// the register save, stack swap and first entry are one small assembly file
// per architecture (src/switch_x86_64_sysv.S, src/switch_aarch64_aapcs.S),
// or Boost.Context's fcontext for every other one (src/switch_boost.cpp,
// -DSWITCHYARD_SWITCH_BACKEND=boost). It knows contexts and stacks, not IDs
// or policy: who runs next and where a failure goes are the Environment's.
//
// Protocol: the switching side stores its floating-point control state in
// its record (save_fp, x86-64), marks itself suspended, records the target
// in `current`, parks its C++ exception state in its record if it has any,
// and calls switchyard_swap, which stores its stack pointer in its record
// (the unblocker), resumes the target's and returns there the record of the
// context that switched. The landing side marks itself running, takes back
// its parked exception state and tells the caller whether `attention` is set
// (a dead context to reap, a cancellation or a failure to deliver).
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
/// Suspends the running code (callee-saved registers, resume address, stack
/// pointer) into the record whose `sp` field is `save` and resumes the one
/// whose `sp` field is `resume`. On x86-64 the suspended state is kept in
/// the record itself (Context::saved, Context::resume), and the swap reads
/// both records' floating-point control fields, loading MXCSR or the x87
/// control word only when the control state differs (never for status
/// flags alone); aarch64 and the Boost backend keep a frame on the stack
/// (aarch64: with FPCR, handled the same way). Returns `transfer` of the
/// swap that later resumes this one (the switch passes the switcher's
/// record).
void* switchyard_swap(void** save, void* const* resume, void* transfer);
/// Makes the record whose `sp` field is `record` resumable on the stack that
/// ends at `top` (16-byte aligned; at most 256 bytes below it are used): its
/// first swap enters switchyard_context_main(transfer).
void switchyard_prepare(void** record, void* top);
/// What a context runs on its own stack (defined by the Environment); its
/// argument is the record of the context that first switched to it. Never
/// returns: a context's end is a last swap away.
[[noreturn]] void switchyard_context_main(void* from) noexcept;
}

namespace switchyard::detail {

inline ExceptionState* thread_exception_state() noexcept {
  return reinterpret_cast<ExceptionState*>(__cxxabiv1::__cxa_get_globals());
}

/// The per-thread switching state of one environment; its first member, so
/// the switch touches one cache line of it.
struct SwitchState {
  Context* current = nullptr;          // the running context
  ExceptionState* eh_globals = nullptr;  // this thread's C++ exception state
  bool attention = false;              // set by policy: look at the landing
};

struct StackSwitch {
  /// Makes `context` resumable on the stack whose usable `size` bytes end at
  /// `top`: its first switch enters switchyard_context_main.
  static void prepare(Context* context, void* top, std::size_t size) noexcept;

  /// Stores the running context's floating-point control state in `self`,
  /// for the swap to compare and for its own later resume. Called at the top
  /// of a switch, ahead of the bookkeeping: reading MXCSR back right after
  /// stmxcsr stalls, and the swap reads it only at its end. Nothing between
  /// this and the swap may change the control state.
  SWITCHYARD_ALWAYS_INLINE static void save_fp([[maybe_unused]] Context* self) noexcept {
#if defined(__x86_64__)
    asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(self->fp_mxcsr), "=m"(self->fp_x87));
#endif
  }

  /// Suspends `self` and runs `next`; returns when `self` is resumed. The
  /// caller has set self's state (not running) and called save_fp(self);
  /// `next` marks itself running when it lands. Returns
  /// state.attention. No object with a destructor lives in this frame, so an
  /// exception the caller raises after a landing needs no cleanup pad here.
  SWITCHYARD_ALWAYS_INLINE static bool jump(SwitchState& state, Context* self, Context* next) {
    state.current = next;
    if (SWITCHYARD_UNLIKELY(!state.eh_globals->empty())) park_exceptions(self, state.eh_globals);
    before_leave(self, next, &self->asan_fake_stack);
    auto* from = static_cast<Context*>(switchyard_swap(&self->sp, &next->sp, self));
    self->state = ContextState::running;
    // eh_globals is read again, not kept across the swap: one register fewer
    // to save in an out-of-line caller (the C API, <wasix/context.h>).
    if (SWITCHYARD_UNLIKELY(!self->eh.empty())) unpark_exceptions(self, state.eh_globals);
    after_land(from, self);
    return SWITCHYARD_UNLIKELY(state.attention);
  }

  /// A context leaving inside a catch block or during unwinding keeps the
  /// thread's exception state in its record; the thread's is emptied for the
  /// context that lands (see ExceptionState).
  SWITCHYARD_COLD static void park_exceptions(Context* self, ExceptionState* eh) noexcept;
  SWITCHYARD_COLD static void unpark_exceptions(Context* self, ExceptionState* eh) noexcept;

  /// First landing on a context's own stack, in switchyard_context_main;
  /// `from` is the context that switched to it.
  static void land_first(SwitchState& state, Context* self, Context* from) noexcept;
  /// The last leave of a context that ended: runs `next`, never returns. The
  /// caller has set state.attention so that the lander reaps `self` (its
  /// stack is released there, off this stack).
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
  SWITCHYARD_ALWAYS_INLINE static void after_land([[maybe_unused]] Context* from,
                                                  [[maybe_unused]] Context* self) noexcept {
#if defined(SWITCHYARD_ASAN)
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &from->asan_bottom, &from->asan_size);
#endif
  }
};

}  // namespace switchyard::detail
