// The record of one context. Internal: reached only through Environment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include "switchyard/config.hpp"
#include "switchyard/errors.hpp"

namespace switchyard {

/// Where a context is in its life.
enum class ContextState : std::uint8_t {
  created,           ///< suspended, entry has not run yet
  suspended,         ///< suspended in switch_to
  running,           ///< the active context
  awaiting_destroy,  ///< suspended in destroy(), waiting for its target to unwind
};

const char* to_string(ContextState state) noexcept;

namespace detail {

/// Mirrors libstdc++'s __cxa_eh_globals (caught-exception chain and the
/// uncaught count), which is per thread. The thread's copy belongs to the
/// running context; a context that leaves with a non-empty one parks it in
/// its record (the thread's is emptied) and takes it back when it lands, so
/// that exception state is per context. Almost every switch happens outside
/// catch blocks and unwinding: then nothing is copied, only tested.
struct ExceptionState {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;

  /// One branch, not two: tested on every switch.
  bool empty() const noexcept { return (reinterpret_cast<std::uintptr_t>(caught_exceptions) | uncaught_exceptions) == 0; }
};

/// The record of a context. A context with a stack of its own keeps it in
/// its stack's mapping, right above the usable bytes (see StackPool). The
/// main context's record is a member of its Environment.
///
/// The first two cache lines (an aligned 128-byte pair, which CPUs tend to
/// fetch together) are everything a switch reads or writes. Resuming a cold
/// context reads its table slot and these two lines, at addresses known at
/// once: the native x86-64 switch keeps the suspended registers and the
/// resume address here, not on the stack, so it never waits for the record
/// to learn where the stack line is.
struct alignas(64) Context {
  explicit Context(ContextId id) noexcept : id(id) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // First line: the suspended machine state.
  /// The unblocker: the stack pointer saved by the switch while the context
  /// is suspended (x86-64: at its return address, which `resume` copies;
  /// the other switches: their frame on the stack).
  void* sp = nullptr;
  /// x86-64 native switch: rbx, rbp, r12-r15 and the resume address
  /// (src/switch_x86_64_sysv.S); unused by the other switches.
  void* saved[6] = {};
  void* resume = nullptr;

  // Second line: what a switch checks.
  /// Floating-point control state as of the last leave (x86-64: MXCSR,
  /// status flags included but never restored, and the x87 control word),
  /// stored by StackSwitch::save_fp ahead of the swap, which reads both
  /// records'. aarch64 keeps FPCR in its frame.
  std::uint32_t fp_mxcsr = 0;
  std::uint16_t fp_x87 = 0;
  /// Set by the context itself when it lands, so that between the switcher's
  /// leave and the landing no context reads as running.
  ContextState state = ContextState::created;
  bool canceled = false;  // destroy() has started on this context
  /// Set by whoever leaves something for this context's next landing to
  /// deal with (a dead context to reap, a cancellation or failure to
  /// deliver, its own parked exception state), so that a landing tests one
  /// byte of its own record and needs nothing kept from before the swap.
  bool attention = false;
  ExceptionState eh;
  ContextId id;
  // Creation order list, for teardown (newest first) and introspection.
  Context* older = nullptr;
  Context* newer = nullptr;
  bool cancel_pending = false;  // ContextCanceled not yet raised on landing
  bool cancel_defused = false;  // ContextCanceled::defuse() was called
  bool foreign = false;         // C frames: never unwound, released by destroy

  // Third line on: entry and bookkeeping, touched at start, end and destroy.
  /// Runs the entry on the context's own stack; destroys the callable when
  /// it ends, normally or by unwinding.
  void (*run)(Context*) = nullptr;
  /// Destroys the callable of a context that never ran (on the destroyer's
  /// stack).
  void (*discard)(Context*) noexcept = nullptr;
  void* entry = nullptr;  // the callable, or a C function
  void* arg = nullptr;    // the C function's argument
  void* cancel_token = nullptr;  // ContextCanceled's shared token, once raised
  ContextId awaiting = 0;        // while awaiting_destroy: the target
  Context* destroyer = nullptr;  // who called destroy() on us
  // Sanitizer bookkeeping; present in every build so the layout never
  // depends on compiler flags.
  void* asan_fake_stack = nullptr;
  const void* asan_bottom = nullptr;
  std::size_t asan_size = 0;
  void* tsan_fiber = nullptr;
};

/// The main context: the thread's own stack, never entered through the
/// trampoline; it is running from the start.
struct MainContext final : Context {
  MainContext() noexcept : Context(main_context_id) { state = ContextState::running; }
};

/// Bytes above a stack's usable area that hold its Context record and, when
/// it fits, the entry callable (larger ones go to the heap, never onto the
/// stack: a callable bigger than what is left of a small stack would be a
/// frame that jumps the guard). A multiple of 128, so that the record (at
/// the start of the area, which ends at a page boundary) starts an aligned
/// pair of cache lines.
/// The last `pool_meta_size` bytes belong to StackPool.
inline constexpr std::size_t record_area_size = 640;
inline constexpr std::size_t pool_meta_size = 64;
inline constexpr std::size_t inline_entry_size = record_area_size - sizeof(Context) - pool_meta_size;
static_assert(record_area_size % 128 == 0);
static_assert(sizeof(Context) <= 256, "the record must leave room for inline callables");
// The x86-64 swap (src/switch_x86_64_sysv.S) reads these offsets.
static_assert(offsetof(Context, sp) == 0 && offsetof(Context, saved) == 8 && offsetof(Context, resume) == 56 &&
              offsetof(Context, fp_mxcsr) == 64 && offsetof(Context, fp_x87) == 68);
static_assert(offsetof(Context, foreign) < 128, "what a switch touches stays in the record's first two lines");
// The landing stubs of the C API and <wasix/context.h>
// (src/out_of_line_switch_x86_64_sysv.S) read these.
static_assert(offsetof(Context, state) == 70 && offsetof(Context, attention) == 72 &&
              static_cast<int>(ContextState::running) == 2);

/// Whether `context` (the running one) may leave by the fast path: it is
/// running (not between a leave and a landing, nor inside create: a signal
/// handler could have interrupted either) and not canceled. Two byte
/// compares, not one wider load: the landing has just stored `state` as a
/// byte, and a wider load of it would wait for that store to retire.
SWITCHYARD_ALWAYS_INLINE bool leave_ready(const Context* context) noexcept {
  return context->state == ContextState::running && !context->canceled;
}

/// The running context's state while it is inside create (BusyScope): not
/// `running`, so that a call from a signal handler that interrupted the
/// create takes the slow path and is caught there. Reported as running.
inline constexpr ContextState running_busy = static_cast<ContextState>(0x80);
inline ContextState reported_state(ContextState state) noexcept {
  return state == running_busy ? ContextState::running : state;
}

/// Installs the callable `entry` into `context`: in the record area at
/// `slot` when it fits, else on the heap. Throws what F's constructor or
/// operator new throws, leaving the context without an entry.
template <class F, class G>
void install_entry(Context* context, void* slot, G&& entry) {
  constexpr bool fits = sizeof(F) <= inline_entry_size && alignof(F) <= alignof(Context);
  F* callable;
  if constexpr (fits) {
    callable = ::new (slot) F(std::forward<G>(entry));
  } else {
    (void)slot;
    callable = new F(std::forward<G>(entry));
  }
  context->entry = callable;
  // Destroys the callable where install_entry put it.
  static constexpr auto release = [](F* fn) noexcept {
    if constexpr (fits) {
      fn->~F();
    } else {
      delete fn;
    }
  };
  context->run = [](Context* self) {
    // Destroys the callable when the entry ends or unwinds: its captures die
    // on the context's own stack, in the context's own execution.
    struct Release {
      F* fn;
      ~Release() { release(fn); }
    } guard{static_cast<F*>(self->entry)};
    std::invoke(*guard.fn);
  };
  context->discard = [](Context* self) noexcept { release(static_cast<F*>(self->entry)); };
}

/// A context whose entry is the C function `entry(arg)`. C frames have no
/// destructors and may have no unwind tables, so it is never unwound:
/// destroy() releases its stack without resuming it.
inline void install_c_entry(Context* context, void (*entry)(void*), void* arg) noexcept {
  context->foreign = true;
  context->entry = reinterpret_cast<void*>(entry);
  context->arg = arg;
  context->run = [](Context* self) { reinterpret_cast<void (*)(void*)>(self->entry)(self->arg); };
  context->discard = [](Context*) noexcept {};
}

}  // namespace detail
}  // namespace switchyard
