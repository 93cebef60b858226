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
/// its stack's mapping, right above the usable bytes (see StackPool), so
/// that switching to a cold context touches its table slot, the first cache
/// line of this record and the stack line it was suspended on. The main
/// context's record is a member of its Environment.
///
/// Hot first line: everything switch_to reads or writes.
struct alignas(64) Context {
  explicit Context(ContextId id) noexcept : id(id) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// The unblocker: the stack pointer saved by the switch while the context
  /// is suspended (created contexts: a frame that enters the trampoline).
  void* sp = nullptr;
  /// Floating-point control state as of the last leave (x86-64: MXCSR,
  /// status flags included but never restored, and the x87 control word),
  /// stored by StackSwitch::save_fp ahead of the swap, which reads both
  /// records' at these offsets. aarch64 keeps FPCR in the swap's frame.
  std::uint32_t fp_mxcsr = 0;
  /// Set by the context itself when it lands, so that between the switcher's
  /// leave and the landing no context reads as running.
  ContextState state = ContextState::created;
  bool canceled = false;        // destroy() has started on this context
  ExceptionState eh;
  ContextId id;
  // Creation order list, for teardown (newest first) and introspection.
  Context* older = nullptr;
  Context* newer = nullptr;
  std::uint16_t fp_x87 = 0;     // see fp_mxcsr
  bool cancel_pending = false;  // ContextCanceled not yet raised on landing
  bool cancel_defused = false;  // ContextCanceled::defuse() was called
  bool foreign = false;         // C frames: never unwound, released by destroy

  // Second line: entry and bookkeeping, touched at start, end and destroy.
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
/// frame that jumps the guard).
/// The last `pool_meta_size` bytes belong to StackPool.
inline constexpr std::size_t record_area_size = 512;
inline constexpr std::size_t pool_meta_size = 64;
inline constexpr std::size_t inline_entry_size = record_area_size - sizeof(Context) - pool_meta_size;
static_assert(sizeof(Context) <= 192, "the record must leave room for inline callables");
// The x86-64 swap (src/switch_x86_64_sysv.S) reads these offsets.
static_assert(offsetof(Context, sp) == 0 && offsetof(Context, fp_mxcsr) == 8 && offsetof(Context, fp_x87) == 56);

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
static_assert(offsetof(Context, foreign) < 64, "the hot fields share the record's first cache line");

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
