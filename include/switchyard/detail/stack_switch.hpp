// The switch room: the one place that switches stacks. This header holds
// the inline switch and every sanitizer and valgrind annotation around it;
// the register save, stack swap and first entry are one small assembly file
// per architecture (src/switch_x86_64_sysv.S, src/switch_aarch64_aapcs.S),
// or Boost.Context's fcontext for every other one (StackSwitch::swap below,
// and src/switch_boost.cpp for a context's first frame;
// -DSWITCHYARD_SWITCH_BACKEND=boost). The C API's and <wasix/context.h>'s
// x86-64 switch ends in a tail call of the swap (jump_tail) and lands in a
// stub of src/out_of_line_switch_x86_64_sysv.S. It knows contexts and
// stacks, not IDs or policy: who runs next and where a failure goes are the
// Environment's.
//
// Protocol: the switching side stores its floating-point control state in
// its record (save_fp, x86-64), marks itself suspended, records the target
// in `current`, parks its C++ exception state in its record if it has any
// (and marks its record for attention), and calls switchyard_swap, which
// stores its stack pointer in its record (the unblocker), resumes the
// target's and hands the target its own record. The landing side marks
// itself running through that record and tells the caller whether its
// record asks for attention (its parked exception state to take back, a
// dead context to reap, a cancellation or a failure to deliver): nothing
// from before the swap is needed after it, so a caller keeps no register
// across it for the switch's sake.
#pragma once

#include <cstdint>

#include "switchyard/config.hpp"
#include "switchyard/detail/context.hpp"

#if defined(SWITCHYARD_SWITCH_BACKEND_BOOST)
#include <boost/context/detail/fcontext.hpp>
#endif

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
/// flags alone); aarch64 keeps a frame on the stack, with FPCR, handled the
/// same way. Returns `transfer` of the swap that later resumes this one
/// (the switch passes the resumed context's own record). The Boost backend
/// has no such function: its swap is StackSwitch::swap, inline.
void* switchyard_swap(void** save, void* const* resume, void* transfer) noexcept;
/// switchyard_swap for an out-of-line entry point that tail-calls it
/// (native x86-64 only; see src/switch_x86_64_sysv.S): the context resumes
/// at `landing`, which finishes the landing and returns to the entry
/// point's caller; `cargo` is for the landing's attention function.
int switchyard_swap_tail(void** save, void* const* resume, void* transfer, void* landing, std::uint64_t cargo) noexcept;
/// Makes the record whose `sp` field is `record` resumable on the stack that
/// ends at `top` (16-byte aligned; at most 256 bytes below it are used): its
/// first swap enters switchyard_context_main(transfer).
void switchyard_prepare(void** record, void* top);
/// What a context runs on its own stack (defined by the Environment); its
/// argument is its own record. Never returns: a context's end is a last
/// swap away.
[[noreturn]] void switchyard_context_main(void* self) noexcept;
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
  /// The context that left last, for AddressSanitizer's landing (written in
  /// every build so that the layout never depends on compiler flags).
  Context* leaving = nullptr;
};

struct StackSwitch {
#if defined(SWITCHYARD_SWITCH_BACKEND_BOOST)
  /// The Boost backend's switchyard_swap (same contract), on Boost.Context's
  /// fcontext. Inline, because a swap in a function of its own returns to
  /// the other side's caller after a landing while the return predictor
  /// expects this side's: one mispredicted return per switch (measured: a
  /// round trip of 28 ns against 11 ns for the jump inline). Boost's jump
  /// hands the lander the jumper's suspended context; the lander stores it
  /// where the jumper asked (Handoff::save). On aarch64 Boost keeps no
  /// FPCR, so it is kept here (written only when it differs); on x86-64
  /// Boost reloads the whole MXCSR on every jump (docs/SEMANTICS.md).
  struct Handoff {
    void** save;     // where the lander stores the jumper's context
    void* transfer;  // what the swap returns on the resumed side

    /// The lander's half of a jump (after the swap's, and in a context's
    /// first frame): stores the jumper's context where it asked, and returns
    /// the jumper's `transfer`.
    static void* land(const boost::context::detail::transfer_t& from) noexcept {
      auto* arrived = static_cast<Handoff*>(from.data);
      *arrived->save = from.fctx;
      return arrived->transfer;
    }
  };
  SWITCHYARD_ALWAYS_INLINE static void* swap(void** save, void* const* resume, void* transfer) noexcept {
    namespace bctx = boost::context::detail;
#if defined(__aarch64__)
    std::uint64_t fpcr;
    asm volatile("mrs %0, fpcr" : "=r"(fpcr));
#endif
    Handoff handoff{save, transfer};
    void* result = Handoff::land(bctx::jump_fcontext(static_cast<bctx::fcontext_t>(*resume), &handoff));
#if defined(__aarch64__)
    std::uint64_t now;
    asm volatile("mrs %0, fpcr" : "=r"(now));
    if (now != fpcr) asm volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
    return result;
  }
#else
  SWITCHYARD_ALWAYS_INLINE static void* swap(void** save, void* const* resume, void* transfer) noexcept {
    return switchyard_swap(save, resume, transfer);
  }
#endif

  /// Makes `context` resumable on the stack whose usable `size` bytes end at
  /// `top`: its first switch enters switchyard_context_main.
  static void prepare(Context* context, void* top, std::size_t size) noexcept;

  /// Stores the running context's floating-point control state in `self`,
  /// for the swap to compare and for its own later resume. Called at the top
  /// of a switch, ahead of the bookkeeping: reading MXCSR back right after
  /// stmxcsr stalls, and the swap reads it only at its end. Nothing between
  /// this and the swap may change the control state.
  /// (The Boost backend keeps the control state in Boost's frame: nothing
  /// to do here.)
  SWITCHYARD_ALWAYS_INLINE static void save_fp([[maybe_unused]] Context* self) noexcept {
#if defined(__x86_64__) && !defined(SWITCHYARD_SWITCH_BACKEND_BOOST)
    asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(self->fp_mxcsr), "=m"(self->fp_x87));
#endif
  }

  /// Suspends `self` and runs `next`; returns when `self` is resumed. The
  /// caller has set self's state (not running) and called save_fp(self);
  /// `next` marks itself running when it lands. Returns self->attention:
  /// the caller then deals with the landing (Environment::on_attention,
  /// which first calls take_parked()). No object
  /// with a destructor lives in this frame, so an exception the caller
  /// raises after a landing needs no cleanup pad here.
  static bool jump(SwitchState& state, Context* self, Context* next) {
    if (SWITCHYARD_UNLIKELY(!bare(state))) park_exceptions(self, state.eh_globals);
    return jump_bare(state, self, next);
  }
  /// Whether the running code holds no C++ exception state (it is neither in
  /// a catch block nor unwinding): then it may leave by jump_bare. Almost
  /// every switch does.
  SWITCHYARD_ALWAYS_INLINE static bool bare(const SwitchState& state) noexcept { return state.eh_globals->empty(); }
  /// jump() for a caller that checked bare(): the inline fast path, which
  /// then calls nothing but the swap and so keeps nothing in a register
  /// across it.
  SWITCHYARD_ALWAYS_INLINE static bool jump_bare(SwitchState& state, Context* self, Context* next) noexcept {
    state.current = next;
    before_leave(state, self, next, &self->asan_fake_stack);
    // The swap hands the lander its own record: `self` again, in a register,
    // with nothing kept across the call.
    auto* landed = static_cast<Context*>(swap(&self->sp, &next->sp, next));
    landed->state = ContextState::running;
    after_land(state, landed);
    return SWITCHYARD_UNLIKELY(landed->attention);
  }

  /// jump_bare for an out-of-line entry point that ends with it, as a tail
  /// call (native x86-64 without sanitizers: their landing hooks need C++
  /// after the swap). The context lands in `landing`, a stub that marks it
  /// running and returns to the entry point's caller, or tail-calls the
  /// entry point's attention function with `cargo` when its record asks
  /// for attention (src/out_of_line_switch_x86_64_sysv.S).
  SWITCHYARD_ALWAYS_INLINE static int jump_tail(SwitchState& state, Context* self, Context* next, void* landing,
                                                std::uint64_t cargo) noexcept {
    state.current = next;
    return switchyard_swap_tail(&self->sp, &next->sp, next, landing, cargo);
  }

  /// A context leaving inside a catch block or during unwinding keeps the
  /// thread's exception state in its record, and asks for attention at its
  /// landing; the thread's is emptied for the context that lands (see
  /// ExceptionState).
  SWITCHYARD_COLD static void park_exceptions(Context* self, ExceptionState* eh) noexcept;
  /// At a landing that asked for attention, first of all: gives the thread
  /// back the lander's parked exception state, if any.
  static void take_parked(Context* self, ExceptionState* eh) noexcept {
    if (SWITCHYARD_UNLIKELY(!self->eh.empty())) {
      *eh = self->eh;
      self->eh = ExceptionState{};
    }
  }

  /// First landing on a context's own stack, in switchyard_context_main.
  static void land_first(SwitchState& state, Context* self) noexcept;
  /// The last leave of a context that ended: runs `next`, never returns. The
  /// caller has set next->attention so that the lander reaps `self` (its
  /// stack is released there, off this stack).
  [[noreturn]] static void exit_to(SwitchState& state, Context* self, Context* next) noexcept;

  /// Sanitizer bookkeeping for the main context, and for a context whose
  /// record goes away.
  static void init_main(Context* main) noexcept;
  static void release(Context* context) noexcept;

 private:
  SWITCHYARD_ALWAYS_INLINE static void before_leave([[maybe_unused]] SwitchState& state,
                                                    [[maybe_unused]] Context* self, [[maybe_unused]] Context* next,
                                                    [[maybe_unused]] void** fake_stack) noexcept {
#if defined(SWITCHYARD_ASAN)
    state.leaving = self;
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
    Context* from = state.leaving;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &from->asan_bottom, &from->asan_size);
#endif
  }
};

}  // namespace switchyard::detail
