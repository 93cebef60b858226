#include "switchyard/environment.hpp"
#include "switchyard/detail/exception_state.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <mutex>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>

#include "switchyard/logging.hpp"
#include "switchyard/run_main.hpp"

namespace switchyard {

namespace detail {

thread_local constinit Environment* tls_current = nullptr;

namespace {
std::atomic<std::uint64_t> environment_serials{1};

std::string thread_name(std::thread::id id) {
  std::ostringstream out;
  out << id;
  return out.str();
}

std::string describe(const Context* context) {
  return "context " + std::to_string(context->id) + " (" + to_string(detail::reported_state(context->state)) + ")";
}
}  // namespace

void throw_not_current(const Environment* environment) {
  const std::thread::id here = std::this_thread::get_id();
  std::string message = "environment of thread " + thread_name(environment->owner());
  if (environment->owner() != here) {
    message += " used from thread " + thread_name(here);
    if (tls_current != nullptr) message += ", which runs an environment of its own";
  } else {
    // Same thread, but not the running environment: it has been left (its
    // run_main is running a nested executor, or it is being torn down).
    message += " is not the environment running on this thread now";
  }
  throw Error(errc::wrong_thread, message);
}

void fatal_dropped_cancel(ContextId id, const char* how) noexcept {
  // The message goes to stderr directly as well: the logger may be off.
  std::fprintf(stderr,
               "switchyard: fatal: context %llu was canceled, but its ContextCanceled was dropped without being "
               "propagated (%s). Let ContextCanceled propagate to the entry, or call defuse() on it to swallow it "
               "deliberately.\n",
               static_cast<unsigned long long>(id), how);
  std::fflush(stderr);
  try {
    switchyard::logger()->critical("context {}: ContextCanceled dropped without being propagated ({})", id, how);
  } catch (...) {
  }
  std::abort();
}

namespace {
std::terminate_handler previous_terminate = nullptr;

// A ContextCanceled that meets a noexcept boundary (a context parked in
// switch_to inside a destructor) ends in std::terminate: say which context
// and why before the C++ runtime's generic message (death_test.cpp).
[[noreturn]] void on_terminate() noexcept {
  if (std::exception_ptr current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const ContextCanceled& canceled) {
      std::fprintf(stderr,
                   "switchyard: fatal: context %llu was canceled while parked in switch_to inside a noexcept function "
                   "(a destructor, or a function marked noexcept): its ContextCanceled cannot propagate from there, "
                   "so the process ends. Do not switch away from destructors of a context that may be destroyed.\n",
                   static_cast<unsigned long long>(canceled.id()));
      std::fflush(stderr);
      std::abort();
    } catch (...) {
    }
  }
  if (previous_terminate != nullptr) previous_terminate();
  std::abort();
}
}  // namespace

void install_terminate_handler() noexcept {
  static std::once_flag once;
  std::call_once(once, [] { previous_terminate = std::set_terminate(on_terminate); });
}

}  // namespace detail

const char* to_string(ContextState state) noexcept {
  switch (state) {
    case ContextState::created: return "created";
    case ContextState::running: return "running";
    case ContextState::suspended: return "suspended";
    case ContextState::awaiting_destroy: return "awaiting destroy";
  }
  return "unknown";
}

using detail::Context;
using detail::StackSwitch;

Environment::Environment(const Options& options)
    : log_(nullptr),
      log_owner_(switchyard::logger()),
      serial_(detail::environment_serials.fetch_add(1, std::memory_order_relaxed)),
      owner_(std::this_thread::get_id()),
      options_(options),
      pool_(options.stack_size, options.guard_pages, options.guard_size, options.stack_cache) {
  log_ = log_owner_.get();
  // Report what the stacks really are; sizes that cannot be mapped stay as
  // given, and every create() says so.
  if (pool_.usable_size() != 0) {
    options_.stack_size = pool_.usable_size();
    options_.guard_size = pool_.guard_size();
  }
  sw_.current = &main_;
  sw_.eh_globals = detail::thread_exception_state();
  table_.insert(main_context_id, &main_);
  StackSwitch::init_main(&main_);
  detail::install_terminate_handler();
  log_->debug("environment {} started on thread {} (stack {} bytes, guard {} bytes, cache {}, {})", serial_,
              detail::thread_name(owner_), options_.stack_size, options_.guard_pages ? options_.guard_size : 0,
              options_.stack_cache, options_.enabled ? "enabled" : "disabled");
}

Environment::~Environment() = default;

void detail::throw_no_environment() {
  throw Error(errc::no_environment, "no switchyard environment on thread " +
                                        detail::thread_name(std::this_thread::get_id()) + " (call it inside run_main)");
}

ContextId Environment::next_id_checked() {
  if (!options_.enabled) {
    throw Error(errc::unsupported, "create: contexts are disabled in this environment (Options::enabled = false)");
  }
  return next_id_++;
}

void Environment::throw_null_entry() {
  throw Error(errc::invalid_argument, "create: the entry is a null function pointer or an empty function object");
}

ContextId Environment::create_c(void (*entry)(void*), void* arg) {
  check_current();
  BusyScope busy(*this, "create");
  if (entry == nullptr) throw Error(errc::invalid_argument, "create_c: the entry function is NULL");
  Context* context = new_context(next_id_checked());
  detail::install_c_entry(context, entry, arg);
  return commit_context(context);
}

// A stack with a fresh record at its top. Nothing else is touched yet.
Context* Environment::new_context(ContextId id) {
  void* top;
  try {
    top = pool_.acquire(id);
  } catch (...) {
    log_->warn("create: no stack for context {}: out of memory, mapping limit or unmappable size", id);
    throw;
  }
  return ::new (top) Context(id);
}

void Environment::drop_new_context(Context* context) noexcept { pool_.release(context); }

ContextId Environment::commit_context(Context* context) {
  const ContextId id = context->id;
  try {
    table_.insert(id, context);
  } catch (const std::bad_alloc&) {
    context->discard(context);
    drop_new_context(context);
    log_->warn("create: no memory for the ID table entry of context {}", id);
    throw Error(errc::resource_exhausted, "out of memory growing the context table for context " + std::to_string(id));
  }
  StackSwitch::prepare(context, context, pool_.stack_bytes());
  context->older = newest_;
  if (newest_ != nullptr) newest_->newer = context;
  newest_ = context;
  ++counters_.creates;
  ++counters_.live_contexts;
  log_->trace("create context {}", id);
  return id;
}

void Environment::fatal_reentered(const char* call) const noexcept {
  std::fprintf(stderr,
               "switchyard: fatal: %s called in context %llu while a switch_to, create or destroy of its environment "
               "was in progress: a signal handler interrupted that call and made another. switch_to, create and "
               "destroy are not async-signal-safe.\n",
               call, static_cast<unsigned long long>(sw_.current->id));
  std::fflush(stderr);
  std::abort();
}

void Environment::switch_slow(ContextId target) {
  check_current();
  check_not_busy("switch_to");
  Context* self = sw_.current;
  if (self->canceled) throw_canceled(self);
  Context* next = table_.find(target);
  if (next == self) return;  // switching to yourself is a no-op
  if (!options_.enabled) {
    throw Error(errc::unsupported, "switch_to " + std::to_string(target) +
                                       ": contexts are disabled in this environment (Options::enabled = false)");
  }
  if (next == nullptr) {
    throw Error(errc::switch_target_missing,
                "switch_to " + std::to_string(target) + ": no such context (never created, finished or destroyed)");
  }
  throw Error(errc::switch_target_missing,
              "switch_to " + std::to_string(target) + ": " + detail::describe(next) + ", expected suspended");
}

bool Environment::switch_careful(Context* self, Context* next) noexcept {
  try {
    log_->trace("switch {} -> {}", self->id, next->id);
  } catch (...) {
  }
  return StackSwitch::jump(sw_, self, next);
}

void Environment::throw_canceled(Context* self) {
  log_->debug("context {}: raising ContextCanceled", self->id);
  throw cancellation_of(self);
}

// The ContextCanceled of `self`: every one raised in a context shares the
// context's token (made on the first), so it is one cancellation.
ContextCanceled Environment::cancellation_of(Context* self) noexcept {
  if (self->cancel_token == nullptr) self->cancel_token = ContextCanceled::new_token();
  return ContextCanceled(self->id, serial_, static_cast<ContextCanceled::Token*>(self->cancel_token));
}

// Reached after a landing whose record asks for attention: take back the
// lander's parked exception state, reap the context that just ended, then
// deliver what is pending for the lander.
void Environment::on_attention() {
  Context* self = sw_.current;
  self->attention = false;
  StackSwitch::take_parked(self, sw_.eh_globals);
  if (dead_ != nullptr) {
    reap(dead_);
    dead_ = nullptr;
  }
  if (self->cancel_pending) {
    self->cancel_pending = false;
    // Thrown here, not through throw_canceled(): both unwind phases walk
    // every frame between the throw and run_context's handler, and one frame
    // less is about 3k instructions per destroy (docs/PERFORMANCE.md).
    log_->debug("context {}: raising ContextCanceled", self->id);
    throw cancellation_of(self);
  }
  if (self == &main_ && failure_) {
    std::exception_ptr failure = std::move(failure_);
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
}

// Removes an ended or released context from the table, the creation-order
// list and the live count; its record and stack are dealt with by the caller.
void Environment::forget(Context* context) noexcept {
  table_.erase(context->id);
  if (context->newer != nullptr) context->newer->older = context->older;
  if (context->older != nullptr) context->older->newer = context->newer;
  if (newest_ == context) newest_ = context->older;
  context->older = context->newer = nullptr;
  --counters_.live_contexts;
}

// Releases the stack of a context that has left the table; its record, at
// the stack's top, goes with it.
void Environment::reap(Context* dead) noexcept {
  ContextCanceled::release_token(static_cast<ContextCanceled::Token*>(dead->cancel_token));
  StackSwitch::release(dead);
  pool_.release(dead);
}

// Releases a context with nothing to unwind: one that never started (its
// entry is discarded here, on the destroyer's stack), or one of C frames,
// whose stack is dropped without being resumed.
void Environment::release_without_unwind(Context* context) noexcept {
  if (context->state == ContextState::created) {
    context->discard(context);
  } else {
    // A C context parked inside a catch handler holds caught exceptions in
    // its saved state; nothing will end those handlers now.
    detail::release_caught_exceptions(context->eh);
  }
  forget(context);
  reap(context);
}

namespace {

[[noreturn]] void fatal_internal(const char* what, ContextId id) noexcept {
  std::fprintf(stderr, "switchyard: fatal internal error: %s (context %llu)\n", what,
               static_cast<unsigned long long>(id));
  std::abort();
}

[[noreturn]] void fatal_forced_unwind(ContextId id) noexcept {
  std::fprintf(stderr,
               "switchyard: fatal: pthread_exit or pthread_cancel in context %llu: a thread can only end from its "
               "main context (a context's stack is not the thread's), so the process aborts\n",
               static_cast<unsigned long long>(id));
  std::abort();
}

std::string describe_exception(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (const ContextCanceled& c) {
    return "ContextCanceled of context " + std::to_string(c.id());
  } catch (...) {
    return "an exception of unknown type";
  }
}

}  // namespace

// What a context runs on its own stack, between its first landing and its
// last leave: the entry, then the decision of who runs next.
Context* Environment::run_context(Context* self) noexcept {
  Outcome outcome = Outcome::returned;
  std::exception_ptr failure;
  try {
    if (self->attention) on_attention();
    self->run(self);
  } catch (const ContextCanceled& canceled) {
    if (self->canceled && canceled.id() == self->id) {
      canceled.arrived();
      outcome = Outcome::canceled;
    } else {
      outcome = Outcome::failed;
      failure = std::current_exception();
    }
  } catch (...) {
    // No exception_ptr: a forced unwind (pthread_exit, pthread_cancel),
    // which cannot end the thread from a context's stack. (A handler for
    // abi::__forced_unwind& would bind a reference to null: UBSan.)
    failure = std::current_exception();
    if (!failure) fatal_forced_unwind(self->id);
    outcome = Outcome::failed;
  }
  return finish(self, outcome, std::move(failure));
}

// Decides who runs after `self` ended and records what they must be told.
// A canceled context hands back to its destroyer; any other ends in main,
// whose pending switch_to rethrows the failure (or EntrypointReturned).
Context* Environment::finish(Context* self, Outcome outcome, std::exception_ptr failure) noexcept {
  Context* next;
  if (self->canceled) {
    next = self->destroyer;
    if (outcome != Outcome::canceled && !self->cancel_defused) {
      detail::fatal_dropped_cancel(self->id, outcome == Outcome::returned
                                                 ? "it was caught and not rethrown, and the entry returned"
                                                 : "it was replaced by another exception");
    }
    if (outcome == Outcome::failed) destroy_failure_ = std::move(failure);
    log_->debug("context {} unwound after cancel", self->id);
  } else {
    next = &main_;
    if (outcome == Outcome::returned) {
      log_->debug("context {} returned from its entrypoint", self->id);
      try {
        failure_ = std::make_exception_ptr(EntrypointReturned(self->id));
      } catch (...) {
        failure_ = std::current_exception();
      }
    } else {
      try {
        log_->debug("context {} failed: {}", self->id, describe_exception(failure));
      } catch (...) {
      }
      failure_ = std::move(failure);
    }
  }
  if (next == nullptr || (next->state != ContextState::suspended && next->state != ContextState::awaiting_destroy)) {
    fatal_internal("no suspended context to return to", self->id);
  }
  forget(self);
  dead_ = self;
  next->attention = true;
  return next;  // it marks itself running when it lands
}

bool Environment::destroy(ContextId target) {
  check_current();
  check_not_busy("destroy");
  if (target == main_context_id) {
    throw Error(errc::invalid_argument, "destroy: the main context (0) cannot be destroyed");
  }
  Context* victim = table_.find(target);
  if (victim == nullptr) return false;
  Context* self = sw_.current;
  if (victim == self) {
    throw Error(errc::invalid_argument,
                "destroy: context " + std::to_string(target) + " cannot destroy itself (it is the active context)");
  }
  if (victim->state == ContextState::awaiting_destroy) {
    throw Error(errc::invalid_argument, "destroy: context " + std::to_string(target) + " is waiting for destroy(" +
                                            std::to_string(victim->awaiting) + ") to finish");
  }
  ++counters_.destroys;
  if (victim->state == ContextState::created) {
    log_->debug("destroy context {} (never started)", target);
    release_without_unwind(victim);
    return true;
  }
  if (victim->foreign) {
    log_->debug("destroy context {} (C frames: released without unwinding)", target);
    release_without_unwind(victim);
    return true;
  }
  log_->debug("destroy context {}: canceling", target);
  victim->canceled = true;
  victim->cancel_pending = true;
  victim->destroyer = self;
  self->state = ContextState::awaiting_destroy;  // not running: a signal handler calling in is caught
  self->awaiting = target;
  victim->attention = true;
  StackSwitch::save_fp(self);
  if (StackSwitch::jump(sw_, self, victim)) on_attention();
  // The victim has unwound and its record was reaped at our landing.
  self->awaiting = 0;
  if (destroy_failure_) {
    std::exception_ptr failure = std::move(destroy_failure_);
    destroy_failure_ = nullptr;
    std::rethrow_exception(failure);
  }
  return true;
}

void Environment::defuse(ContextId id, std::uint64_t serial) noexcept {
  if (serial != serial_) return;
  if (Context* context = table_.find(id); context != nullptr && context->canceled) context->cancel_defused = true;
}

// Always makes progress: each pass ends one context, so teardown ends.
// It runs with this environment installed as the thread's current one: the
// implicit WASIX environment is released at thread exit, when the thread may
// be on another Boost.Fiber fiber, whose current environment is not this one
// (destroy() then threw wrong_thread and teardown retried it forever)
// [executor.basics: "a WASIX call from a plain fiber ..."]. A context that
// destroy() still refuses (none is known to be reachable now: this is the
// guarantee of progress) is released without unwinding (no more of its code
// runs; what its stack holds is not destroyed), with a line on stderr.
std::exception_ptr Environment::teardown() noexcept {
  Environment* const previous = detail::tls_current;
  detail::tls_current = this;
  // Main may now run on another stack than the one that made the
  // environment (a fiber that has ended): destroys switch back to this one.
  if (sw_.current == &main_) StackSwitch::init_main(&main_);
  std::exception_ptr first_failure;
  if (newest_ != nullptr) log_->debug("teardown: destroying {} live contexts, newest first", counters_.live_contexts);
  while (newest_ != nullptr) {
    Context* const victim = newest_;
    const ContextId id = victim->id;
    try {
      destroy(id);
    } catch (...) {
      // A failure of the context's unwind (it defused and threw) is the
      // caller's to see; a refusal (the context is still there) is not.
      if (table_.find(id) != victim && !first_failure) first_failure = std::current_exception();
    }
    if (table_.find(id) == victim) {
      std::fprintf(stderr,
                   "switchyard: teardown of environment %llu could not destroy context %llu (%s); releasing it "
                   "without unwinding its stack\n",
                   static_cast<unsigned long long>(serial_), static_cast<unsigned long long>(id),
                   to_string(detail::reported_state(victim->state)));
      if (victim == sw_.current) {
        forget(victim);  // its stack runs code now: leave it mapped, drop only the record's links
      } else {
        release_without_unwind(victim);
      }
    }
  }
  log_->debug("environment {} ended: {} creates, {} switches, {} destroys", serial_, counters_.creates,
              counters_.switches, counters_.destroys);
  detail::tls_current = previous;
  return first_failure;
}

std::size_t Environment::live_contexts() const {
  check_current();
  return counters_.live_contexts;
}

std::optional<ContextState> Environment::state(ContextId id) const {
  check_current();
  if (const Context* context = table_.find(id)) return detail::reported_state(context->state);
  return std::nullopt;
}

std::vector<ContextInfo> Environment::contexts() const {
  check_current();
  std::vector<ContextInfo> result;
  result.reserve(counters_.live_contexts + 1);
  result.push_back({main_.id, detail::reported_state(main_.state), false});
  const Context* oldest = newest_;
  while (oldest != nullptr && oldest->older != nullptr) oldest = oldest->older;
  for (const Context* c = oldest; c != nullptr; c = c->newer) result.push_back({c->id, detail::reported_state(c->state), c->canceled});
  return result;
}

Stats Environment::stats() const {
  check_current();
  Stats stats = counters_;
  stats.live_stacks = pool_.in_use();
  stats.cached_stacks = pool_.cached();
  return stats;
}

namespace detail {

MainScope::MainScope(const Options& options) {
  if (Environment* running = tls_current) {
    throw Error(errc::already_running, "run_main: thread " + thread_name(std::this_thread::get_id()) +
                                           " already runs environment " + std::to_string(running->serial_) +
                                           " (run_main cannot nest)");
  }
  // Making an environment succeeds without touching errno (the logger, the
  // signal handler and the alternate stack may set it on their way).
  const int saved_errno = errno;
  try {
    environment_ = new Environment(options);
  } catch (const std::bad_alloc&) {
    throw Error(errc::resource_exhausted, "run_main: out of memory creating the environment");
  }
  tls_current = environment_;
  errno = saved_errno;
}

void MainScope::finish(std::exception_ptr failure) {
  finished_ = true;
  std::exception_ptr teardown_failure = environment_->teardown();
  if (failure) std::rethrow_exception(failure);
  if (teardown_failure) std::rethrow_exception(teardown_failure);
}

MainScope::~MainScope() {
  if (!finished_) environment_->teardown();
  // Under an Executor, another fiber's environment may be current when the
  // implicit WASIX environment is released: leave that one installed.
  if (tls_current == environment_) tls_current = nullptr;
  delete environment_;
}

bool MainScope::in_main_context() const noexcept { return environment_->sw_.current == &environment_->main_; }

}  // namespace detail
}  // namespace switchyard

extern "C" void switchyard_context_main(void* record) noexcept {
  using switchyard::Environment;
  Environment& env = *switchyard::detail::tls_current;
  auto* self = static_cast<switchyard::detail::Context*>(record);
  switchyard::detail::StackSwitch::land_first(env.sw_, self);
  switchyard::detail::Context* next = env.run_context(self);
  switchyard::detail::StackSwitch::exit_to(env.sw_, self, next);
}
