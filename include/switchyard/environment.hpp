// Environment: one main context and the contexts it creates, on one thread.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "switchyard/config.hpp"
#include "switchyard/detail/context.hpp"
#include "switchyard/detail/context_table.hpp"
#include "switchyard/detail/stack_pool.hpp"
#include "switchyard/detail/stack_switch.hpp"
#include "switchyard/errors.hpp"
#include "switchyard/options.hpp"

namespace switchyard {

class Environment;

namespace detail {
/// The environment running on this thread (null outside run_main).
/// constinit keeps access a plain TLS load, with no init wrapper.
extern thread_local constinit Environment* tls_current;
struct StackSwitch;
class MainScope;
struct OutOfLineSwitch;  // src/out_of_line_switch.hpp: the C API and <wasix/context.h>
SWITCHYARD_COLD [[noreturn]] void throw_not_current(const Environment* environment);
SWITCHYARD_COLD [[noreturn]] void throw_no_environment();
/// Chains a std::terminate handler (once per process) that names the
/// context when a ContextCanceled meets a noexcept boundary.
void install_terminate_handler() noexcept;
/// Ends the process: context `id`'s cancellation was lost (`how`).
[[noreturn]] void fatal_dropped_cancel(ContextId id, const char* how) noexcept;
}  // namespace detail

/// Counters of an environment. The live counts exclude the main context.
struct Stats {
  std::uint64_t creates = 0;   ///< contexts created
  std::uint64_t switches = 0;  ///< successful switch_to calls that switched
  std::uint64_t destroys = 0;  ///< destroy calls that destroyed something
  std::size_t live_contexts = 0;
  std::size_t live_stacks = 0;    ///< stacks held by live contexts
  std::size_t cached_stacks = 0;  ///< released stacks kept for reuse
};

/// One context as introspection reports it.
struct ContextInfo {
  ContextId id;
  ContextState state;
  bool canceled;  ///< destroy() has started on it; it is unwinding
};

/// The state of one main context and the contexts it makes. It exists while
/// run_main runs and belongs to that thread: every member called from
/// another thread throws Error{errc::wrong_thread} and changes nothing.
/// References to it are valid only until its run_main returns.
class Environment {
 public:
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  ~Environment();

  /// The environment running on the calling thread.
  /// Throws Error{errc::no_environment} outside run_main. Inline: the free
  /// functions (switchyard::switch_to and the rest) pay one TLS load for it.
  static Environment& current() {
    Environment* environment = detail::tls_current;
    if (SWITCHYARD_UNLIKELY(environment == nullptr)) detail::throw_no_environment();
    return *environment;
  }
  /// Same, or nullptr.
  static Environment* try_current() noexcept { return detail::tls_current; }

  /// The running context's ID (0 for main).
  ContextId active() const {
    check_current();
    return sw_.current->id;
  }

  /// Creates a suspended context that will run `entry` on its own stack the
  /// first time some context switches to its ID. Does not switch. `entry`
  /// must end by being destroyed or by throwing: a normal return is
  /// EntrypointReturned in main. The environment owns the callable: it is
  /// kept beside the context's record (or on the heap when large, never on
  /// the context's stack), destroyed by the context when its entry ends or
  /// unwinds, or on the destroyer's stack if the context never started.
  /// Errors: invalid_argument (a null function pointer or an empty
  /// std::function; no ID is used), resource_exhausted (no stack or memory;
  /// nothing changes), unsupported (disabled mode), wrong_thread. An
  /// exception thrown by copying or moving `entry` propagates.
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  ContextId create(F&& entry);

  /// Creates a context whose entry is the C function `entry(arg)`. Its
  /// frames are treated as C frames, which have no destructors: destroy()
  /// releases its stack without resuming it, so no more of its code runs
  /// (as a WebAssembly trap discards a guest stack). `arg` is not owned.
  /// Used by the C API and <wasix/context.h>. Errors as for create().
  ContextId create_c(void (*entry)(void*), void* arg);

  /// Suspends the caller and runs `target`; returns when some context
  /// switches back. `target` == active(): no-op.
  /// Errors: switch_target_missing (unknown, finished or destroyed ID; the
  /// caller keeps running), unsupported (disabled mode), wrong_thread.
  /// Raises ContextCanceled if the caller is destroyed while suspended (and
  /// on every call after that), and in main rethrows the failure of a
  /// context whose entry threw or returned (EntrypointReturned).
  void switch_to(ContextId target);

  /// Cancels a suspended context. An unstarted one is discarded without
  /// running; a started one is resumed at once, its pending switch_to throws
  /// ContextCanceled, and its stack unwinds before destroy returns.
  /// Returns false (no-op) when no context has that ID any more.
  /// Errors: invalid_argument for the main context, the caller itself, or a
  /// context that is itself waiting in destroy(); wrong_thread.
  /// If the target deliberately defused its cancellation and then threw,
  /// that exception is rethrown here once the target is released.
  bool destroy(ContextId target);

  // Introspection.
  /// Live contexts, main excluded.
  std::size_t live_contexts() const;
  /// The state of a live context (main included), or nullopt.
  std::optional<ContextState> state(ContextId id) const;
  /// Every live context, main first, then oldest to newest.
  std::vector<ContextInfo> contexts() const;
  Stats stats() const;
  const Options& options() const noexcept { return options_; }
  /// The thread that owns this environment.
  std::thread::id owner() const noexcept { return owner_; }

 private:
  friend void ::switchyard_context_main(void*) noexcept;
  friend struct detail::OutOfLineSwitch;
  friend class detail::MainScope;
  friend class ContextCanceled;
  friend void detail::throw_not_current(const Environment*);

  explicit Environment(const Options& options);

  SWITCHYARD_ALWAYS_INLINE void check_current() const {
    if (SWITCHYARD_UNLIKELY(detail::tls_current != this)) detail::throw_not_current(this);
  }
  detail::Context* new_context(ContextId id);          // a stack with a record on it
  ContextId commit_context(detail::Context* context);  // table, list, first frame
  void drop_new_context(detail::Context* context) noexcept;
  ContextId next_id_checked();
  SWITCHYARD_COLD [[noreturn]] void throw_null_entry();
  /// Aborts when a call arrives while another switch_to, create or destroy
  /// of this environment is in progress (from a signal handler): the
  /// running context is inside create (detail::running_busy), or it has
  /// left and its successor has not landed yet (neither reads as running).
  void check_not_busy(const char* call) const noexcept {
    const detail::Context* running = sw_.current;
    if (SWITCHYARD_UNLIKELY(running->state != ContextState::running)) fatal_reentered(call);
  }
  SWITCHYARD_COLD [[noreturn]] void fatal_reentered(const char* call) const noexcept;
  /// Marks the running context busy for a create (after check_not_busy).
  class BusyScope {
   public:
    BusyScope(Environment& env, const char* call) noexcept : context_(env.sw_.current) {
      env.check_not_busy(call);
      context_->state = detail::running_busy;
    }
    ~BusyScope() { context_->state = ContextState::running; }
    BusyScope(const BusyScope&) = delete;
    BusyScope& operator=(const BusyScope&) = delete;

   private:
    detail::Context* context_;
  };
  detail::Context* run_context(detail::Context* self) noexcept;
  enum class Outcome { returned, canceled, failed };
  detail::Context* finish(detail::Context* self, Outcome outcome, std::exception_ptr failure) noexcept;
  SWITCHYARD_NOINLINE void switch_slow(ContextId target);
  /// switch_to's fast path, without exceptions (so that the out-of-line
  /// entry points need no handler around it): `done` when it switched and
  /// this context landed again; `attention` when the landing still needs
  /// on_attention(); `slow` when it did nothing and switch_slow decides.
  enum class Fast { done, attention, slow };
  SWITCHYARD_ALWAYS_INLINE Fast switch_fast(ContextId target) noexcept;
  /// switch_fast in parts, for the out-of-line entry points: the checks
  /// (the target's record when the running context `self` may leave for it
  /// by the fast path, else nullptr, having changed nothing but self's
  /// saved control state), whether the leave needs nothing but the swap (no
  /// trace message, no exception state to park), and the leave's
  /// bookkeeping.
  SWITCHYARD_ALWAYS_INLINE detail::Context* fast_target(ContextId target, detail::Context*& self) noexcept;
  SWITCHYARD_ALWAYS_INLINE bool plain_leave() const noexcept;
  SWITCHYARD_ALWAYS_INLINE void mark_leave(detail::Context* self) noexcept;
  /// switch_fast's switch when it logs or parks exception state; returns
  /// whether the landing asks for attention.
  SWITCHYARD_NOINLINE bool switch_careful(detail::Context* self, detail::Context* next) noexcept;
  /// The rest of switch_to after a fast path that was not done: deliver
  /// what the landing needs, or take the slow path. May throw what
  /// switch_to throws.
  SWITCHYARD_ALWAYS_INLINE void switch_rest(Fast result, ContextId target) {
    if (result == Fast::attention) {
      // Landed: the thread's current environment is this one (read again,
      // not kept across the swap: one register fewer for the caller).
      detail::tls_current->on_attention();
    } else {
      switch_slow(target);
    }
  }
  SWITCHYARD_COLD void on_attention();
  SWITCHYARD_COLD [[noreturn]] void throw_canceled(detail::Context* self);
  ContextCanceled cancellation_of(detail::Context* self) noexcept;
  void release_without_unwind(detail::Context* context) noexcept;
  void reap(detail::Context* dead) noexcept;
  void forget(detail::Context* context) noexcept;
  void defuse(ContextId id, std::uint64_t serial) noexcept;
  bool is_canceling_active(ContextId id, std::uint64_t serial) const noexcept {
    return serial == serial_ && sw_.current->id == id && sw_.current->canceled;
  }
  std::exception_ptr teardown() noexcept;

  // Hot fields first: the switch path touches only these.
  detail::SwitchState sw_;
  detail::ContextTable table_;
  spdlog::logger* log_;
  Stats counters_;
  std::shared_ptr<spdlog::logger> log_owner_;

  detail::MainContext main_;
  detail::Context* dead_ = nullptr;    // ended context awaiting reap at landing
  std::exception_ptr failure_;         // for main's pending switch_to
  std::exception_ptr destroy_failure_; // for the destroyer's pending destroy
  detail::Context* newest_ = nullptr;  // creation-order list of live contexts
  ContextId next_id_ = 1;
  std::uint64_t serial_;
  std::thread::id owner_;
  Options options_;
  detail::StackPool pool_;
};

namespace detail {
/// Entry types that can be empty: pointers, and classes such as
/// std::function that compare equal to nullptr without converting to a
/// pointer (a captureless lambda converts, and is never null).
template <class D>
concept nullable_entry = std::is_pointer_v<D> || std::is_member_pointer_v<D> ||
                         (std::is_class_v<D> && !std::is_convertible_v<const D&, bool> &&
                          requires(const D& d) {
                            { d == nullptr } -> std::convertible_to<bool>;
                          });
}  // namespace detail

template <class F>
  requires std::is_invocable_v<std::decay_t<F>&>
ContextId Environment::create(F&& entry) {
  check_current();
  BusyScope busy(*this, "create");
  // A function reference cannot be null (and comparing it warns).
  if constexpr (!std::is_function_v<std::remove_reference_t<F>> && detail::nullable_entry<std::decay_t<F>>) {
    // A null entry would only crash at address 0 on the first switch.
    if (entry == nullptr) throw_null_entry();
  }
  const ContextId id = next_id_checked();  // throws unsupported in disabled mode
  detail::Context* context = new_context(id);
  try {
    detail::install_entry<std::decay_t<F>>(context, context + 1, std::forward<F>(entry));
  } catch (...) {
    drop_new_context(context);
    try {
      throw;
    } catch (const std::bad_alloc&) {
      throw Error(errc::resource_exhausted, "out of memory for the entry of context " + std::to_string(id));
    }
  }
  return commit_context(context);
}

// Free-function shorthands on Environment::current().
inline ContextId active() { return Environment::current().active(); }
template <class F>
ContextId create(F&& entry) {
  return Environment::current().create(std::forward<F>(entry));
}
void switch_to(ContextId target);
bool destroy(ContextId target);

}  // namespace switchyard

namespace switchyard {

SWITCHYARD_ALWAYS_INLINE detail::Context* Environment::fast_target(ContextId target, detail::Context*& self) noexcept {
  if (SWITCHYARD_UNLIKELY(detail::tls_current != this)) return nullptr;  // wrong thread
  self = sw_.current;
  detail::StackSwitch::save_fp(self);  // first: the swap reads it back last
  // Main needs no lookup: its record is ours (contexts mostly switch back to
  // a scheduler in main, and each lookup load lies on the switch's critical
  // path).
  detail::Context* next = target == main_context_id ? &main_ : table_.find(target);
  // created and suspended are the two states a switch may resume.
  if (SWITCHYARD_UNLIKELY(next == nullptr || next->state > ContextState::suspended || !detail::leave_ready(self))) {
    return nullptr;
  }
  return next;
}

SWITCHYARD_ALWAYS_INLINE bool Environment::plain_leave() const noexcept {
#if !defined(SWITCHYARD_NO_LOGGING)
  if (SWITCHYARD_UNLIKELY(log_->should_log(spdlog::level::trace))) return false;
#endif
  return detail::StackSwitch::bare(sw_);
}

SWITCHYARD_ALWAYS_INLINE void Environment::mark_leave(detail::Context* self) noexcept {
  ++counters_.switches;
  // Until the target lands and marks itself running, no context reads as
  // running: a signal handler that interrupts us and calls in is caught.
  self->state = ContextState::suspended;
}

// The fast path, inline on purpose: the switch itself is a call to
// switchyard_swap, and everything around it (the ID lookup, the checks, the
// exception-state test) is a handful of instructions in the caller.
SWITCHYARD_ALWAYS_INLINE Environment::Fast Environment::switch_fast(ContextId target) noexcept {
  detail::Context* self;
  detail::Context* next = fast_target(target, self);
  if (SWITCHYARD_UNLIKELY(next == nullptr)) return Fast::slow;
  mark_leave(self);
  // A switch that needs a call besides the swap (a trace message, parking
  // exception state) is out of line as a whole: the inline path calls
  // nothing but the swap, and so keeps nothing in a register across a call.
  if (SWITCHYARD_UNLIKELY(!plain_leave())) return switch_careful(self, next) ? Fast::attention : Fast::done;
  return detail::StackSwitch::jump_bare(sw_, self, next) ? Fast::attention : Fast::done;
}

SWITCHYARD_ALWAYS_INLINE void Environment::switch_to(ContextId target) {
  const Fast result = switch_fast(target);
  if (SWITCHYARD_LIKELY(result == Fast::done)) return;
  switch_rest(result, target);
}

inline void switch_to(ContextId target) { Environment::current().switch_to(target); }
inline bool destroy(ContextId target) { return Environment::current().destroy(target); }

}  // namespace switchyard
