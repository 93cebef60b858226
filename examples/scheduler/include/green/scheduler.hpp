// green: a small green-thread scheduler built only on switchyard's public
// API (run_main, Environment::current, create, switch_to, destroy, active).
// See the README ("Example: a green-thread scheduler") for how it maps onto those calls.
//
// Everything here belongs to one host thread. The scheduler is a switchyard
// context of its own; each green thread runs on a worker context; a worker
// that finishes a green thread switches back to the scheduler, which either
// hands it the next green thread to start or destroys it. Entries never
// return, as switchyard requires.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <switchyard/switchyard.hpp>

namespace green {

using Clock = std::chrono::steady_clock;

/// Thrown by join() for a green thread that cancel() ended.
class Canceled : public std::runtime_error {
 public:
  Canceled() : std::runtime_error("green thread was canceled") {}
};

/// Thrown by run() when green threads are left blocked (on channels or
/// joins) with nothing ready or asleep that could wake them. Those threads
/// were canceled first, so their RAII has run.
class Deadlock : public std::runtime_error {
 public:
  explicit Deadlock(std::size_t blocked);
  std::size_t blocked() const noexcept { return blocked_; }

 private:
  std::size_t blocked_;
};

class Scheduler;

namespace detail {

class Thread;

/// A FIFO of parked green threads, linked through the threads themselves:
/// a thread is parked in at most one queue at a time, so pushing and
/// removing (on cancel) take no allocation and O(1) time.
class ThreadQueue {
 public:
  ThreadQueue() = default;
  ThreadQueue(const ThreadQueue&) = delete;
  ThreadQueue& operator=(const ThreadQueue&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  void push_back(Thread& thread) noexcept { insert_before(thread, nullptr); }
  void push_front(Thread& thread) noexcept { insert_before(thread, head_); }
  Thread& pop_front() noexcept;          // precondition: !empty()
  void remove(Thread& thread) noexcept;  // precondition: thread is in this queue

 private:
  void insert_before(Thread& thread, Thread* next) noexcept;  // next == nullptr: at the back
  Thread* head_ = nullptr;
  Thread* tail_ = nullptr;
};

/// Green threads parked until some condition holds (a free slot in a
/// channel, a thread's end). Wakes are FIFO. Belongs to the scheduler of
/// the thread that uses it; not thread-safe.
class WaitQueue {
 public:
  /// Parks the running green thread until a notify wakes it. Callers loop
  /// on their condition: a wake is a hint, not a guarantee.
  /// Must be called from a green thread.
  void wait();
  /// Makes the longest waiter ready (no-op when nobody waits).
  void notify_one();
  void notify_all();
  bool empty() const noexcept { return waiters_.empty(); }

 private:
  friend class green::Scheduler;
  ThreadQueue waiters_;
};

enum class State : std::uint8_t {
  ready,     ///< in the ready queue (never started, yielded or woken)
  running,   ///< the green thread on the CPU
  waiting,   ///< parked in a WaitQueue
  sleeping,  ///< parked in the timer queue
  finished,  ///< its body returned or threw
  canceled,  ///< cancel() ended it
};

/// The record of one green thread, shared by the scheduler and handles.
class Thread {
 public:
  Thread() = default;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  virtual ~Thread() = default;

  bool ended() const noexcept { return state == State::finished || state == State::canceled; }
  State state = State::ready;

 private:
  friend class green::Scheduler;
  friend class ThreadQueue;
  friend class WaitQueue;

  /// Runs the body on the worker's stack and stores its result or failure.
  /// Lets ContextCanceled through: that is cancel() unwinding the worker.
  virtual void run() = 0;
  /// Drops the body of a thread canceled before it started.
  virtual void discard() noexcept = 0;

  switchyard::ContextId context = 0;  // the worker running it; 0 before it starts
  ThreadQueue* queue = nullptr;       // while ready or waiting: the queue it is in
  Thread* prev = nullptr;             // links in that queue
  Thread* next = nullptr;
  WaitQueue* woken_by = nullptr;      // ready after a notify, not yet resumed
  std::multimap<Clock::time_point, Thread*>::iterator timer;  // while sleeping
  WaitQueue joiners;
  // A live green thread holds its own record, so that dropping every
  // handle does not end it; the reference goes when it ends.
  std::shared_ptr<Thread> keep_alive;
  Thread* older = nullptr;  // the scheduler's list of live threads
  Thread* newer = nullptr;
};

/// A green thread whose body returns T.
template <class T>
class Task : public Thread {
 public:
  using Value = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  std::optional<Value> value;
  std::exception_ptr failure;
  bool taken = false;  // join() moved the value out
};

template <class T, class F>
class TaskOf final : public Task<T> {
 public:
  template <class G>
  explicit TaskOf(G&& body) : body_(std::in_place, std::forward<G>(body)) {}

 private:
  void run() override {
    // Moved onto the worker's stack, so captures die there: at the end,
    // or in the unwind of a cancel.
    F body = std::move(*body_);
    body_.reset();
    try {
      if constexpr (std::is_void_v<T>) {
        body();
        this->value.emplace();
      } else {
        this->value.emplace(body());
      }
    } catch (const switchyard::ContextCanceled&) {
      throw;  // must reach the worker's entry (docs/SEMANTICS.md: Cancellation)
    } catch (...) {
      this->failure = std::current_exception();
    }
  }
  void discard() noexcept override { body_.reset(); }

  std::optional<F> body_;
};

}  // namespace detail

/// Refers to a green thread; copyable. Keeps its result alive after the
/// thread ended, so join() may come late.
template <class T>
class Handle {
 public:
  Handle() = default;
  bool valid() const noexcept { return task_ != nullptr; }
  /// The green thread finished or was canceled.
  bool done() const noexcept { return task_ != nullptr && task_->ended(); }

 private:
  friend class Scheduler;
  std::shared_ptr<detail::Task<T>> task_;
};

template <class F>
using ResultOf = std::invoke_result_t<std::decay_t<F>&>;

/// Counters of one scheduler.
struct Stats {
  std::uint64_t spawned = 0;           ///< green threads spawned
  std::uint64_t contexts_created = 0;  ///< worker contexts created (reuse keeps this small)
  std::size_t live = 0;                ///< green threads not ended yet
};

/// Runs green threads on the calling thread, inside a switchyard
/// environment. At most one scheduler exists per thread at a time.
class Scheduler {
 public:
  /// Must be constructed on the main context of a switchyard environment
  /// (inside run_main). Throws switchyard::Error{no_environment} outside
  /// one, std::logic_error if this thread already has a scheduler.
  Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  /// The scheduler of the calling thread; std::logic_error if none.
  static Scheduler& current();

  /// Spawns `root` and runs green threads until every one has ended. Returns
  /// what `root` returned or rethrows its failure. Throws Deadlock if
  /// threads are left blocked forever. Call it from the main context, not
  /// from a green thread.
  template <class F>
  ResultOf<F> run(F&& root) {
    check_main_context();
    Handle<ResultOf<F>> handle = spawn(std::forward<F>(root));
    run_until_idle();
    return take(*handle.task_);
  }

  /// Creates a green thread running `fn()`. It starts when the scheduler
  /// gets to it (FIFO), not now; no stack is taken until then.
  template <class F>
  Handle<ResultOf<F>> spawn(F&& fn) {
    auto task = std::make_shared<detail::TaskOf<ResultOf<F>, std::decay_t<F>>>(std::forward<F>(fn));
    Handle<ResultOf<F>> handle;
    handle.task_ = task;
    admit(std::move(task));
    return handle;
  }

  /// Lets every other ready green thread run once, then returns.
  /// Must be called from a green thread (std::logic_error otherwise).
  void yield();

  /// Waits for the thread to end and returns its result (moved out: one
  /// join takes it), or rethrows its failure, or throws Canceled. If the
  /// thread is ready, it runs next; when it ends, the joiner runs next. So
  /// a tree of spawns and joins runs depth first, like the recursion it
  /// models. Must be called from a green thread, not on itself.
  template <class T>
  T join(const Handle<T>& handle) {
    if (!handle.valid()) throw std::invalid_argument("green::join: empty handle");
    wait_for(*handle.task_);
    return take(*handle.task_);
  }

  /// Parks the running green thread until `deadline` (FIFO among equal
  /// deadlines). While every green thread sleeps, the host thread sleeps.
  void sleep_until(Clock::time_point deadline);
  void sleep_for(Clock::duration duration) { sleep_until(Clock::now() + duration); }

  /// Ends a green thread. One that never started is discarded (its body
  /// destroyed, never run); a started one is switchyard::destroy()ed: its
  /// pending switch unwinds with ContextCanceled and its RAII runs before
  /// cancel returns. Its joiners then get Canceled. Returns false if it had
  /// already ended. A thread cannot cancel itself (std::logic_error).
  template <class T>
  bool cancel(const Handle<T>& handle) {
    if (!handle.valid()) throw std::invalid_argument("green::cancel: empty handle");
    return cancel_thread(*handle.task_);
  }

  Stats stats() const noexcept { return stats_; }

 private:
  friend class detail::WaitQueue;
  using Thread = detail::Thread;

  template <class T>
  static T take(detail::Task<T>& task) {
    if (task.state == detail::State::canceled) throw Canceled();
    if (task.failure) std::rethrow_exception(task.failure);
    if (task.taken) throw std::logic_error("green::join: the result was already taken by another join");
    task.taken = true;
    if constexpr (!std::is_void_v<T>) return std::move(*task.value);
  }

  void check_main_context() const;
  void admit(std::shared_ptr<Thread> thread);
  void run_until_idle();
  void wait_for(Thread& target);
  bool cancel_thread(Thread& thread);
  void end(Thread& thread, detail::State how);
  void shutdown() noexcept;

  /// The running green thread; std::logic_error when called elsewhere.
  Thread& running();
  /// Suspends the running green thread; returns when it is dispatched again.
  void park() { env_.switch_to(scheduler_context_); }
  void make_ready(Thread& thread, bool next = false);
  void dispatch(Thread& thread);
  void wake_sleepers();
  [[noreturn]] void scheduler_loop();
  [[noreturn]] void worker_loop();

  switchyard::Environment& env_;
  switchyard::ContextId scheduler_context_ = 0;
  Thread* running_ = nullptr;
  detail::ThreadQueue ready_;
  std::multimap<Clock::time_point, Thread*> timers_;
  std::vector<switchyard::ContextId> idle_;  // parked workers, reused newest first
  std::size_t idle_limit_;
  Thread* newest_ = nullptr;  // live threads, newest first
  Stats stats_;
};

// Shorthands on Scheduler::current().

/// Runs `root` as the first green thread of a new scheduler, in a new
/// switchyard environment on this thread (run_main with `options`).
template <class F>
ResultOf<F> run(F&& root, const switchyard::Options& options = {}) {
  return switchyard::run_main([&]() -> ResultOf<F> {
    Scheduler scheduler;
    return scheduler.run(std::forward<F>(root));
  }, options);
}
template <class F>
Handle<ResultOf<F>> spawn(F&& fn) {
  return Scheduler::current().spawn(std::forward<F>(fn));
}
inline void yield() { Scheduler::current().yield(); }
template <class T>
T join(const Handle<T>& handle) {
  return Scheduler::current().join(handle);
}
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> duration) {
  Scheduler::current().sleep_for(std::chrono::ceil<Clock::duration>(duration));
}
inline void sleep_until(Clock::time_point deadline) { Scheduler::current().sleep_until(deadline); }
template <class T>
bool cancel(const Handle<T>& handle) {
  return Scheduler::current().cancel(handle);
}

}  // namespace green
