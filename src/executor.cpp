// Executor: environments as Boost.Fiber fibers on one thread, under our own
// scheduling algorithm, which never migrates and which carries the
// per-environment thread state (the running environment and the C++
// exception state) across every fiber switch.
#include "switchyard/executor.hpp"

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/algo/round_robin.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/properties.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>
#include <boost/fiber/scheduler.hpp>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "switchyard/environment.hpp"

#if defined(SWITCHYARD_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace switchyard {
namespace detail {

namespace {

thread_local Executor* tls_executor = nullptr;

std::string thread_name(std::thread::id id) {
  std::ostringstream out;
  out << id;
  return out.str();
}

[[noreturn]] void fatal(const char* what) noexcept {
  std::fprintf(stderr, "switchyard: fatal: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace

void fatal_forced_unwind_in_environment() noexcept {
  fatal("pthread_exit or pthread_cancel inside an environment of an Executor: the environment runs on a fiber's "
        "stack, not the thread's, so the thread cannot end from there (end the environment, then the thread)");
}

namespace {

bool in_worker_fiber() noexcept {
  return boost::fibers::context::active()->is_context(boost::fibers::type::worker_context);
}

/// What follows a fiber between its runs: the environment that was running
/// on it and its C++ exception state (libstdc++ keeps both per thread).
struct FiberSlot final : boost::fibers::fiber_properties {
  explicit FiberSlot(boost::fibers::context* ctx) noexcept : fiber_properties(ctx) {
#if defined(SWITCHYARD_TSAN)
    // A new fiber (worker or dispatcher) gets its own TSan fiber; the
    // thread's main context records its own when it first leaves.
    if (!ctx->is_context(boost::fibers::type::main_context)) owned_tsan_fiber = __tsan_create_fiber(0);
    tsan_fiber = owned_tsan_fiber;
#endif
  }
  ~FiberSlot() override {
#if defined(SWITCHYARD_TSAN)
    if (owned_tsan_fiber != nullptr) __tsan_destroy_fiber(owned_tsan_fiber);
#endif
  }
  Environment* environment = nullptr;
  ExceptionState eh;
  bool environment_fiber = false;  // runs an environment of the executor (fiber_main)
  // The TSan fiber to resume this fiber on: the one that was current when it
  // left, which is a core context's when the environment parked inside one.
  void* tsan_fiber = nullptr;
  void* owned_tsan_fiber = nullptr;
};

// True on a fiber that runs one of an executor's environments (spawned or
// submitted): waiting there for the executor to drain waits for itself.
bool in_environment_fiber() noexcept {
  if (!in_worker_fiber()) return false;
  auto* slot = static_cast<FiberSlot*>(boost::fibers::context::active()->get_properties());
  return slot != nullptr && slot->environment_fiber;
}

}  // namespace

/// FIFO scheduling of the owner thread's fibers (as round_robin), plus the
/// hand-over of thread state at every switch. pick_next() is the one place
/// that knows both sides of a fiber switch: Boost.Fiber calls it on the
/// outgoing fiber (context::active()) and resumes what it returns.
class ExecutorAlgorithm final : public boost::fibers::algo::algorithm {
 public:
  void awakened(boost::fibers::context* ctx) noexcept override {
    slot(ctx);
    ctx->ready_link(queue_);
    if (ctx->is_context(boost::fibers::type::worker_context)) ++ready_workers_;
  }

  // No sanitizer instrumentation here: the TSan fiber switch is announced
  // in hand_over, and no instrumented frame may return between that and
  // Boost.Fiber's jump (it would pop the next fiber's shadow stack).
  __attribute__((no_sanitize("thread"))) boost::fibers::context* pick_next() noexcept override {
    if (queue_.empty()) return nullptr;
    boost::fibers::context* next = &queue_.front();
    queue_.pop_front();
    if (next->is_context(boost::fibers::type::worker_context)) --ready_workers_;
    if (!detaching_) hand_over(eh_, boost::fibers::context::active(), next);
    return next;
  }

  bool has_ready_fibers() const noexcept override { return !queue_.empty(); }

  void suspend_until(std::chrono::steady_clock::time_point const& deadline) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      cv_.wait(lock, [this] { return notified_; });
    } else {
      cv_.wait_until(lock, deadline, [this] { return notified_; });
    }
    notified_ = false;
  }

  void notify() noexcept override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      notified_ = true;
    }
    cv_.notify_all();
  }

  /// Worker fibers (environments and other fibers) ready to run.
  std::size_t ready_workers() const noexcept { return ready_workers_; }
  /// Set before the algorithm is replaced: set_algo drains us with
  /// pick_next() without switching.
  void detach() noexcept { detaching_ = true; }

 private:
  static FiberSlot* slot(boost::fibers::context* ctx) noexcept {
    auto* props = static_cast<FiberSlot*>(ctx->get_properties());
    if (props == nullptr) {
      props = new (std::nothrow) FiberSlot(ctx);
      if (props == nullptr) fatal("executor: out of memory for a fiber's thread-state slot");
      ctx->set_properties(props);
    }
    return props;
  }

  __attribute__((no_sanitize("thread"))) static void hand_over(ExceptionState* eh, boost::fibers::context* from,
                                                              boost::fibers::context* to) noexcept {
    FiberSlot* out = slot(from);
    FiberSlot* in = slot(to);
    out->environment = tls_current;
    out->eh = *eh;
    tls_current = in->environment;
    *eh = in->eh;
#if defined(SWITCHYARD_TSAN)
    out->tsan_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(in->tsan_fiber, 0);
#endif
  }

  // The owner thread's C++ exception state (constructed on that thread).
  ExceptionState* const eh_ = thread_exception_state();
  boost::fibers::scheduler::ready_queue_type queue_;
  std::size_t ready_workers_ = 0;
  bool detaching_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool notified_ = false;
};

// --- EnvironmentState -------------------------------------------------------

bool EnvironmentState::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_ == Status::done || status_ == Status::released;
}

void EnvironmentState::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  auto finished = [this] { return status_ == Status::done || status_ == Status::released; };
  if (finished()) return;
  if (std::this_thread::get_id() != owner_) {
    thread_cv_.wait(lock, finished);
  } else if (fiber_ != nullptr && fiber_ == boost::fibers::context::active()) {
    throw Error(errc::invalid_argument,
                "EnvironmentHandle: the environment waits for its own end, which would never come (it waits on its "
                "own fiber)");
  } else if (in_worker_fiber()) {
    fiber_cv_.wait(lock, finished);  // parks this environment; the others run
  } else {
    throw Error(errc::invalid_argument,
                "EnvironmentHandle: the environment has not finished, and waiting for it on the executor's thread "
                "outside its environments would never return; run the executor first");
  }
}

void EnvironmentState::start(const void* fiber) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = Status::running;
  fiber_ = fiber;
}

void EnvironmentState::finish(std::exception_ptr failure) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    failure_ = std::move(failure);
    status_ = Status::done;
  }
  thread_cv_.notify_all();
  fiber_cv_.notify_all();
}

void EnvironmentState::release() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = Status::released;
  }
  thread_cv_.notify_all();
  fiber_cv_.notify_all();
}

void EnvironmentState::rethrow_if_failed() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (status_ == Status::released) {
    throw Error(errc::no_environment, "the environment was released by Executor::shutdown before it started");
  }
  if (failure_) {
    std::exception_ptr failure = failure_;
    lock.unlock();
    std::rethrow_exception(failure);
  }
}

}  // namespace detail

// --- Executor ---------------------------------------------------------------

Executor::Executor() : owner_(std::this_thread::get_id()) {
  if (detail::tls_executor != nullptr) {
    throw Error(errc::already_running,
                "Executor: thread " + detail::thread_name(owner_) + " already has an executor (one per thread)");
  }
  algorithm_ = new detail::ExecutorAlgorithm();
  boost::fibers::context::active()->get_scheduler()->set_algo(algorithm_);
  detail::tls_executor = this;
}

Executor::~Executor() {
  if (std::this_thread::get_id() != owner_) {
    detail::fatal("Executor destroyed on a thread other than its owner thread");
  }
  if (running_) detail::fatal("Executor destroyed inside its own run()");
  // The owner may drive the fibers by yielding instead of run(): then
  // running_ is false, and shutdown() would park this environment until it
  // ended itself, forever (the yielding owner spun at 100% CPU).
  if (detail::in_environment_fiber()) {
    detail::fatal("Executor destroyed inside one of its own environments (it would wait for that environment to end)");
  }
  try {
    shutdown();
  } catch (...) {
    if (!std::current_exception()) {  // not a C++ exception: a forced unwind
      detail::fatal("Executor::shutdown in the destructor met pthread_exit or pthread_cancel: it cannot wait for the "
                    "environments");
    }
    detail::fatal("Executor::shutdown failed in the destructor");
  }
  algorithm_->detach();
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
  detail::tls_executor = nullptr;
}

Executor* Executor::try_current() noexcept { return detail::tls_executor; }

void Executor::check_owner(const char* what) const {
  if (std::this_thread::get_id() != owner_) {
    throw Error(errc::wrong_thread, std::string("Executor::") + what + ": executor of thread " +
                                        detail::thread_name(owner_) + " used from thread " +
                                        detail::thread_name(std::this_thread::get_id()));
  }
}

void Executor::launch_owned(std::unique_ptr<detail::EnvironmentJob> job) {
  check_owner("spawn");
  {
    std::lock_guard<std::mutex> lock(m_);
    if (closed_) {
      throw Error(errc::unsupported, "Executor::spawn: the executor is closed (close() or shutdown() was called)");
    }
    ++live_;
  }
  launch(std::move(job));
}

void Executor::enqueue(std::unique_ptr<detail::EnvironmentJob> job) {
  {
    std::lock_guard<std::mutex> lock(m_);
    if (closed_) {
      throw Error(errc::unsupported, "Executor::submit: the executor is closed (close() or shutdown() was called)");
    }
    queue_.push_back(std::move(job));
  }
  wake_.notify_all();
}

// `live_` was counted by the caller. The fiber owns the job.
void Executor::launch(std::unique_ptr<detail::EnvironmentJob> job) {
  detail::EnvironmentJob* raw = job.get();
  auto body = [this, owned = std::shared_ptr<detail::EnvironmentJob>(std::move(job))]() noexcept {
    fiber_main(*owned);
  };
  if (raw->options.stack_size > max_stack_size) {
    // Boost.Fiber's stack allocators round the size up unchecked: refuse
    // sizes whose rounding could wrap before they get there.
    {
      std::lock_guard<std::mutex> lock(m_);
      --live_;
    }
    throw Error(errc::resource_exhausted, "Executor: a stack of " + std::to_string(raw->options.stack_size) +
                                              " bytes cannot be mapped (at most " + std::to_string(max_stack_size) +
                                              ")");
  }
  try {
    const std::size_t size = raw->options.stack_size < min_stack_size ? min_stack_size : raw->options.stack_size;
    if (raw->options.guard_pages) {
      boost::fibers::fiber(std::allocator_arg, boost::fibers::protected_fixedsize_stack(size), std::move(body))
          .detach();
    } else {
      boost::fibers::fiber(std::allocator_arg, boost::fibers::fixedsize_stack(size), std::move(body)).detach();
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(m_);
      --live_;
    }
    throw Error(errc::resource_exhausted, "Executor: no memory or stack for the environment's fiber");
  }
}

void Executor::fiber_main(detail::EnvironmentJob& job) noexcept {
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(m_);
    stopping = stopping_;
  }
  if (stopping) {
    job.state().release();  // shut down before it started: never runs
  } else {
    boost::fibers::context* self = boost::fibers::context::active();
    if (auto* slot = static_cast<detail::FiberSlot*>(self->get_properties())) slot->environment_fiber = true;
    job.state().start(self);
    job.run();
  }
  {
    std::lock_guard<std::mutex> lock(m_);
    --live_;
  }
  wake_.notify_all();
}

// Launches queued submissions; `lock` holds m_ on entry and on return.
bool Executor::launch_queued(std::unique_lock<std::mutex>& lock) {
  bool any = false;
  while (!queue_.empty()) {
    std::unique_ptr<detail::EnvironmentJob> job = std::move(queue_.front());
    queue_.pop_front();
    ++live_;
    lock.unlock();
    try {
      launch(std::move(job));
    } catch (...) {
      lock.lock();
      throw;
    }
    lock.lock();
    any = true;
  }
  return any;
}

namespace {
/// Marks the owner thread as inside run()/serve()/run_until_idle().
class RunningScope {
 public:
  RunningScope(bool& running, const char* what) : running_(running) {
    if (running_) throw Error(errc::invalid_argument, std::string("Executor::") + what + ": already running (not reentrant)");
    running_ = true;
  }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;
  ~RunningScope() { running_ = false; }

 private:
  bool& running_;
};
}  // namespace

void Executor::check_outside_environments(const char* what) const {
  if (detail::in_environment_fiber()) {
    throw Error(errc::invalid_argument, std::string("Executor::") + what +
                                            ": called from inside one of the executor's environments, which it would "
                                            "wait for (call it from the owner thread outside them)");
  }
}

void Executor::loop(Mode mode) {
  const char* what = mode == Mode::run ? "run" : "serve";
  check_owner(what);
  check_outside_environments(what);
  RunningScope scope(running_, what);
  std::unique_lock<std::mutex> lock(m_);
  for (;;) {
    launch_queued(lock);
    if (live_ == 0 && (mode == Mode::run || closed_)) return;
    wake_.wait(lock);  // the environments run meanwhile
  }
}

void Executor::run() { loop(Mode::run); }
void Executor::serve() { loop(Mode::serve); }

void Executor::run_until_idle() {
  check_owner("run_until_idle");
  check_outside_environments("run_until_idle");
  RunningScope scope(running_, "run_until_idle");
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(m_);
      launch_queued(lock);
    }
    if (algorithm_->ready_workers() == 0) return;
    boost::this_fiber::yield();  // every ready fiber runs once before we are back
  }
}

void Executor::close() {
  {
    std::lock_guard<std::mutex> lock(m_);
    closed_ = true;
  }
  wake_.notify_all();
}

void Executor::shutdown() {
  check_owner("shutdown");
  check_outside_environments("shutdown");
  if (running_) throw Error(errc::invalid_argument, "Executor::shutdown: called inside run()");
  std::deque<std::unique_ptr<detail::EnvironmentJob>> unstarted;
  {
    std::lock_guard<std::mutex> lock(m_);
    closed_ = true;
    stopping_ = true;
    unstarted.swap(queue_);
  }
  for (auto& job : unstarted) job->state().release();
  unstarted.clear();
  stop_.request_stop();  // runs the stop callbacks, here on the owner thread
  stop_cv_.notify_all();
  run();
}

std::size_t Executor::pending() const {
  std::lock_guard<std::mutex> lock(m_);
  return live_ + queue_.size();
}

bool Executor::sleep_for(std::chrono::steady_clock::duration duration) {
  check_owner("sleep_for");
  std::unique_lock<std::mutex> lock(m_);
  return !stop_cv_.wait_for(lock, duration, [this] { return stopping_; });
}

}  // namespace switchyard
