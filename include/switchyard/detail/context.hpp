// The record of one context. Internal: reached only through Environment.
#pragma once

#include <boost/context/fiber.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "switchyard/errors.hpp"

namespace switchyard {

/// Where a context is in its life.
enum class ContextState : std::uint8_t {
  created,           ///< suspended, entry has not run yet
  running,           ///< the active context
  suspended,         ///< suspended in switch_to
  awaiting_destroy,  ///< suspended in destroy(), waiting for its target to unwind
};

const char* to_string(ContextState state) noexcept;

namespace detail {

/// Mirrors libstdc++'s __cxa_eh_globals (caught-exception chain and the
/// uncaught count), which is per thread; we keep one per context and swap it
/// on every switch so that exception state is per context.
struct ExceptionState {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

/// One stack mapping handed out by StackPool. `top` is the highest address
/// (stacks grow down); `size` the usable bytes below it.
struct Stack {
  void* top = nullptr;
  std::size_t size = 0;
};

class Context {
 public:
  explicit Context(ContextId id) noexcept : id(id) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  virtual ~Context() = default;

  /// Runs the entry on the context's own stack. The callable is moved onto
  /// that stack first, so its captures are destroyed there (at the end, or
  /// by the unwind of a destroy).
  virtual void run() = 0;
  /// True for contexts whose frames must never be unwound (C API): destroy
  /// then releases the stack without resuming it.
  virtual bool foreign_frames() const noexcept { return false; }

  // The unblocker: the suspended continuation, valid while the context is
  // suspended after its first run. Resuming consumes it.
  boost::context::fiber cont;
  ContextId id;
  ContextState state = ContextState::created;
  bool canceled = false;        // destroy() has started on this context
  bool cancel_pending = false;  // ContextCanceled not yet raised on landing
  bool cancel_defused = false;  // ContextCanceled::defuse() was called
  ContextId awaiting = 0;       // while awaiting_destroy: the target
  Context* destroyer = nullptr; // who called destroy() on us
  Stack stack;
  ExceptionState eh;
  // Creation order list, for teardown (newest first) and introspection.
  Context* older = nullptr;
  Context* newer = nullptr;
  // Sanitizer bookkeeping; present in every build so the layout never
  // depends on compiler flags.
  void* asan_fake_stack = nullptr;
  const void* asan_bottom = nullptr;
  std::size_t asan_size = 0;
  void* tsan_fiber = nullptr;
};

/// The main context: the thread's own stack, never run through run().
class MainContext final : public Context {
 public:
  MainContext() noexcept : Context(main_context_id) { state = ContextState::running; }
  void run() override {}
};

template <class F>
class EntryContext final : public Context {
 public:
  template <class G>
  EntryContext(ContextId id, G&& entry) : Context(id), entry_(std::in_place, std::forward<G>(entry)) {}

  void run() override {
    F entry = std::move(*entry_);
    entry_.reset();
    std::invoke(entry);
  }

 private:
  std::optional<F> entry_;
};

/// A context whose entry is a C function. C frames have no destructors and
/// may have no unwind tables, so it is never unwound: destroy() drops it.
class ForeignContext final : public Context {
 public:
  ForeignContext(ContextId id, void (*entry)(void*), void* arg) noexcept : Context(id), entry_(entry), arg_(arg) {}
  void run() override { entry_(arg_); }
  bool foreign_frames() const noexcept override { return true; }

 private:
  void (*entry_)(void*);
  void* arg_;
};

}  // namespace detail
}  // namespace switchyard
