// Executor: many environments on one host thread, each as a Boost.Fiber fiber.
//
// A WASI-like host that serves many guest instances cannot give each one a
// thread. An Executor runs every environment it is given on the thread that
// constructed it (its owner thread): each environment is a Boost.Fiber fiber
// whose stack is the environment's main context, and whose contexts switch
// among themselves through switchyard's own switch exactly as under run_main (the
// switch path does not go through Boost.Fiber).
//
// A host call made from any context of an environment may block with
// Boost.Fiber primitives (boost::this_fiber::sleep_for, boost::fibers::future,
// buffered_channel, mutex, condition_variable): the whole environment parks
// and the executor runs the others; when the wait ends the environment
// resumes in the context that blocked. Environment::current() is always the
// environment whose fiber runs, and each environment keeps its own C++
// exception state across fiber switches, as contexts do across switch_to.
//
// The executor installs its own Boost.Fiber scheduling algorithm on the
// owner thread for its lifetime (and restores round_robin afterwards). It
// never migrates a fiber: environments stay on the owner thread. Other fibers
// launched on that thread run under it too, outside any environment.
//
// Any fiber on the owner thread may make its own environment with run_main
// (the algorithm carries the running environment per fiber, not only for
// spawned ones); spawn() is that plus an EnvironmentHandle.
//
// Sanitizers: under ThreadSanitizer the algorithm announces every fiber
// switch (__tsan_switch_to_fiber) and resumes a fiber on the TSan fiber it
// left from (a core context's, when the environment parked inside one); the
// tests/executor suites pass under it. AddressSanitizer is not told about
// Boost.Fiber's switches (the algorithm has no hook after a fiber lands, and
// Boost.Fiber is a prebuilt library), so a throw in an environment after a
// fiber switch can draw a false stack-buffer-overflow report from
// __asan_handle_no_return; the ASan build of tests/executor shows it.
//
// Link switchyard::executor (it brings Boost.Fiber); the core library
// switchyard::switchyard does not depend on Boost.Fiber.
#pragma once

#include <boost/fiber/condition_variable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

#include "switchyard/errors.hpp"
#include "switchyard/options.hpp"
#include "switchyard/run_main.hpp"

namespace switchyard {

class Executor;

namespace detail {
class ExecutorAlgorithm;
/// pthread_exit or pthread_cancel inside an environment of an executor: the
/// environment's stack is a fiber's, not the thread's, so the forced unwind
/// cannot end the thread; a fatal message and abort.
[[noreturn]] void fatal_forced_unwind_in_environment() noexcept;

/// What an EnvironmentHandle and the executor share: the outcome of one
/// environment. Owned jointly (shared_ptr), so neither side can dangle.
class EnvironmentState {
 public:
  enum class Status { pending, running, done, released };
  explicit EnvironmentState(std::thread::id owner) : owner_(owner) {}
  virtual ~EnvironmentState() = default;

  /// Blocks until done or released (see EnvironmentHandle::wait).
  void wait();
  bool finished() const;
  /// Called by the executor on its thread.
  void start(const void* fiber) noexcept;  // the environment's fiber starts running it
  void finish(std::exception_ptr failure) noexcept;
  void release() noexcept;
  void rethrow_if_failed();

 protected:
  mutable std::mutex mutex_;
  std::condition_variable thread_cv_;               // waiters on other threads
  boost::fibers::condition_variable_any fiber_cv_;  // waiters inside the executor
  Status status_ = Status::pending;
  std::exception_ptr failure_;
  std::thread::id owner_;
  const void* fiber_ = nullptr;  // the Boost.Fiber context that runs the environment
};

template <class R>
class TypedEnvironmentState final : public EnvironmentState {
 public:
  using EnvironmentState::EnvironmentState;
  std::optional<R> value;  // set on the owner thread before finish()
};
template <>
class TypedEnvironmentState<void> final : public EnvironmentState {
 public:
  using EnvironmentState::EnvironmentState;
};

/// One environment to start: runs `entry` under run_main on its fiber.
class EnvironmentJob {
 public:
  explicit EnvironmentJob(const Options& options) : options(options) {}
  virtual ~EnvironmentJob() = default;
  /// Runs the whole environment and records the outcome in the state.
  virtual void run() noexcept = 0;
  virtual EnvironmentState& state() noexcept = 0;
  Options options;
};

template <class F, class R>
class TypedEnvironmentJob final : public EnvironmentJob {
 public:
  TypedEnvironmentJob(F entry, const Options& options, std::shared_ptr<TypedEnvironmentState<R>> state)
      : EnvironmentJob(options), entry_(std::move(entry)), state_(std::move(state)) {}
  void run() noexcept override {
    std::exception_ptr failure;
    try {
      if constexpr (std::is_void_v<R>) {
        run_main(entry_, options);
      } else {
        state_->value.emplace(run_main(entry_, options));
      }
    } catch (...) {
      failure = std::current_exception();
      if (!failure) fatal_forced_unwind_in_environment();  // not a C++ exception
    }
    state_->finish(std::move(failure));
  }
  EnvironmentState& state() noexcept override { return *state_; }

 private:
  F entry_;
  std::shared_ptr<TypedEnvironmentState<R>> state_;
};
}  // namespace detail

/// The caller's side of one environment given to an Executor. Move-only.
/// It shares only the outcome with the executor (no reference to the
/// executor itself), so it may outlive the executor safely: after the
/// executor is gone the environment is either finished or was released
/// without running, and get() says which.
template <class R>
class EnvironmentHandle {
 public:
  EnvironmentHandle() = default;
  EnvironmentHandle(EnvironmentHandle&&) noexcept = default;
  EnvironmentHandle& operator=(EnvironmentHandle&&) noexcept = default;

  bool valid() const noexcept { return state_ != nullptr; }
  /// True once the environment has ended (returned, thrown, or released by
  /// shutdown before it started). Any thread.
  bool ready() const { return checked().finished(); }
  /// Waits until ready(). From another thread: blocks that thread. From an
  /// environment of the same executor: parks that environment (others run).
  /// On the owner thread outside the executor's environments it does not
  /// wait: Error{errc::invalid_argument} if not ready (run the executor).
  /// From the environment itself (any of its contexts): invalid_argument, as
  /// it would never end.
  void wait() const { checked().wait(); }
  /// Waits, then returns what the entry returned or rethrows what left it.
  /// An environment released by shutdown before it started:
  /// Error{errc::no_environment}. Call at most once (the value is moved out).
  R get() {
    auto state = std::move(state_);
    if (state == nullptr) throw Error(errc::invalid_argument, "EnvironmentHandle::get on an empty handle");
    state->wait();
    state->rethrow_if_failed();
    if constexpr (!std::is_void_v<R>) return std::move(*state->value);
  }

 private:
  friend class Executor;
  explicit EnvironmentHandle(std::shared_ptr<detail::TypedEnvironmentState<R>> state) : state_(std::move(state)) {}
  detail::EnvironmentState& checked() const {
    if (state_ == nullptr) throw Error(errc::invalid_argument, "EnvironmentHandle used after get() or move");
    return *state_;
  }
  std::shared_ptr<detail::TypedEnvironmentState<R>> state_;
};

/// Runs many environments on its owner thread (the thread that constructs
/// it). At most one Executor per thread at a time. Not copyable or movable.
///
///   switchyard::Executor ex;
///   auto h = ex.spawn([] { ...; return 7; });   // owner thread
///   ex.run();                                   // until every environment ended
///   int r = h.get();
class Executor {
 public:
  /// Binds to the calling thread and installs the scheduling algorithm.
  /// Errors: already_running if this thread already has an Executor.
  Executor();
  /// shutdown(), then restores Boost.Fiber's round_robin on the thread.
  /// Must run on the owner thread, outside run() and outside the executor's
  /// environments (else a fatal message and abort: it would wait for
  /// itself, and there is nothing sane left to do).
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Starts a new environment running `entry` (as run_main would) on a new
  /// fiber; it runs when the owner thread runs the executor (run(), serve(),
  /// run_until_idle(), or a wait of another environment). Owner thread only
  /// (Error{wrong_thread} elsewhere: use submit); also from inside an
  /// environment. Errors: unsupported after close() or shutdown().
  /// `options` are the environment's; the fiber's own stack (the main
  /// context) has options.stack_size bytes and a guard page if
  /// options.guard_pages.
  template <class F>
  auto spawn(F&& entry, const Options& options = {}) -> EnvironmentHandle<std::invoke_result_t<std::decay_t<F>&>> {
    auto [handle, job] = make_job(std::forward<F>(entry), options);
    launch_owned(std::move(job));
    return std::move(handle);
  }

  /// Thread-safe spawn: queues the environment and wakes the owner thread
  /// (condition variable, no polling); it starts in the owner's run()/serve().
  /// Errors: unsupported after close() or shutdown().
  template <class F>
  auto submit(F&& entry, const Options& options = {}) -> EnvironmentHandle<std::invoke_result_t<std::decay_t<F>&>> {
    auto [handle, job] = make_job(std::forward<F>(entry), options);
    enqueue(std::move(job));
    return std::move(handle);
  }

  /// Runs the environments until none is left and no submission is queued.
  /// Owner thread only; not reentrant (invalid_argument inside run(), and
  /// from inside one of the executor's environments, as for serve(),
  /// run_until_idle() and shutdown(): they would wait for themselves).
  /// May be called from inside a run_main on the owner thread: that
  /// environment is the current one again when run() returns.
  void run();
  /// As run(), but when nothing is left it waits for submissions, until
  /// close() has been called (from any thread).
  void serve();
  /// Runs until no environment is ready to run (all ended, sleeping or
  /// waiting), then returns. Owner thread only.
  void run_until_idle();
  /// No more spawn/submit; serve() returns once the rest has ended. Any thread.
  void close();
  /// Clean stop, owner thread, outside run(): closes; releases every
  /// environment that has not started (its handle's get() throws
  /// Error{no_environment}); requests stop (stop_token(), and the executor's
  /// sleep_for returns false at once); then runs the started environments
  /// until they have ended, so each is torn down exactly as run_main does
  /// (its contexts destroyed and unwound, its stacks released). A started
  /// environment must return once it sees the stop: one blocked forever on a
  /// Boost.Fiber primitive that nothing signals keeps shutdown waiting, since
  /// a fiber parked inside Boost.Fiber cannot be unwound from outside.
  /// Idempotent.
  void shutdown();

  /// Environments spawned or started and not yet ended, plus queued ones.
  std::size_t pending() const;
  std::thread::id owner() const noexcept { return owner_; }
  /// The stop requested by shutdown(); usable with std::stop_callback to
  /// close a channel or break a promise a host call waits on. Any thread.
  std::stop_token stop_token() const noexcept { return stop_.get_token(); }
  bool stop_requested() const noexcept { return stop_.stop_requested(); }

  /// The executor of the calling thread, or nullptr.
  static Executor* try_current() noexcept;

  /// A host-call sleep for the running environment: parks it for `duration`
  /// (others run); returns false early, at once, when shutdown() has been
  /// requested. Call from an environment (or fiber) of this thread's executor.
  bool sleep_for(std::chrono::steady_clock::duration duration);

 private:
  template <class F>
  auto make_job(F&& entry, const Options& options) const {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    static_assert(!std::is_reference_v<R>, "an environment entry given to an Executor must not return a reference");
    auto state = std::make_shared<detail::TypedEnvironmentState<R>>(owner_);
    auto job = std::make_unique<detail::TypedEnvironmentJob<std::decay_t<F>, R>>(std::forward<F>(entry), options,
                                                                                 state);
    return std::pair{EnvironmentHandle<R>(std::move(state)), std::unique_ptr<detail::EnvironmentJob>(std::move(job))};
  }
  enum class Mode { run, serve };
  void check_owner(const char* what) const;
  void check_outside_environments(const char* what) const;
  void launch_owned(std::unique_ptr<detail::EnvironmentJob> job);
  void enqueue(std::unique_ptr<detail::EnvironmentJob> job);
  void launch(std::unique_ptr<detail::EnvironmentJob> job);  // owner thread, m_ not held
  void fiber_main(detail::EnvironmentJob& job) noexcept;
  void loop(Mode mode);
  bool launch_queued(std::unique_lock<std::mutex>& lock);

  std::thread::id owner_;
  detail::ExecutorAlgorithm* algorithm_;  // owned by the thread's Boost.Fiber scheduler
  mutable std::mutex m_;                  // guards everything below
  boost::fibers::condition_variable_any wake_;  // the owner's run loop waits here
  std::deque<std::unique_ptr<detail::EnvironmentJob>> queue_;
  std::size_t live_ = 0;  // launched fibers not yet ended
  bool closed_ = false;
  bool stopping_ = false;
  bool running_ = false;
  std::stop_source stop_;
  boost::fibers::condition_variable_any stop_cv_;  // sleep_for waits here
};

}  // namespace switchyard
