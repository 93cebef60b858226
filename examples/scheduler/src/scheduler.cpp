#include "green/scheduler.hpp"

#include <string>
#include <thread>

namespace green {
namespace {

thread_local Scheduler* tls_scheduler = nullptr;

}  // namespace

using detail::State;
using detail::Thread;

Deadlock::Deadlock(std::size_t blocked)
    : std::runtime_error("green::run: " + std::to_string(blocked) +
                         " green threads were blocked (on channels or joins) with nothing ready or asleep to "
                         "wake them; they were canceled"),
      blocked_(blocked) {}

// --- ThreadQueue and WaitQueue ------------------------------------------------

void detail::ThreadQueue::insert_before(Thread& thread, Thread* next) noexcept {
  thread.queue = this;
  thread.next = next;
  thread.prev = next != nullptr ? next->prev : tail_;
  (thread.prev != nullptr ? thread.prev->next : head_) = &thread;
  (next != nullptr ? next->prev : tail_) = &thread;
}

Thread& detail::ThreadQueue::pop_front() noexcept {
  Thread& thread = *head_;
  remove(thread);
  return thread;
}

void detail::ThreadQueue::remove(Thread& thread) noexcept {
  (thread.prev != nullptr ? thread.prev->next : head_) = thread.next;
  (thread.next != nullptr ? thread.next->prev : tail_) = thread.prev;
  thread.queue = nullptr;
  thread.prev = thread.next = nullptr;
}

void detail::WaitQueue::wait() {
  Scheduler& scheduler = Scheduler::current();
  Thread& self = scheduler.running();
  waiters_.push_back(self);
  self.state = State::waiting;
  scheduler.park();
  self.woken_by = nullptr;
}

void detail::WaitQueue::notify_one() {
  if (waiters_.empty()) return;
  Thread& thread = waiters_.pop_front();
  thread.woken_by = this;
  Scheduler::current().make_ready(thread);
}

void detail::WaitQueue::notify_all() {
  while (!waiters_.empty()) notify_one();
}

// --- Scheduler: set-up and the calls green threads make -----------------------

Scheduler::Scheduler() : env_(switchyard::Environment::current()), idle_limit_(env_.options().stack_cache) {
  if (tls_scheduler != nullptr) throw std::logic_error("green::Scheduler: this thread already has a scheduler");
  tls_scheduler = this;
}

Scheduler::~Scheduler() {
  shutdown();
  tls_scheduler = nullptr;
}

Scheduler& Scheduler::current() {
  if (tls_scheduler == nullptr) throw std::logic_error("green: no scheduler on this thread (call inside green::run)");
  return *tls_scheduler;
}

Thread& Scheduler::running() {
  // active() also catches the scheduler and main contexts, and a green
  // thread that is being canceled (running_ is then its canceller).
  if (running_ == nullptr || env_.active() != running_->context) {
    throw std::logic_error("green: this call must come from a running green thread (context " +
                           std::to_string(env_.active()) + " is not one)");
  }
  return *running_;
}

void Scheduler::admit(std::shared_ptr<Thread> thread) {
  Thread& t = *thread;
  t.keep_alive = std::move(thread);
  t.older = newest_;
  if (newest_ != nullptr) newest_->newer = &t;
  newest_ = &t;
  ++stats_.spawned;
  ++stats_.live;
  make_ready(t);
}

void Scheduler::make_ready(Thread& thread, bool next) {
  thread.state = State::ready;
  if (next) {
    ready_.push_front(thread);
  } else {
    ready_.push_back(thread);
  }
}

void Scheduler::yield() {
  make_ready(running());
  park();
}

void Scheduler::sleep_until(Clock::time_point deadline) {
  Thread& self = running();
  self.timer = timers_.emplace(deadline, &self);  // after equal deadlines: FIFO
  self.state = State::sleeping;
  park();
}

void Scheduler::wait_for(Thread& target) {
  Thread& self = running();
  if (&target == &self) throw std::logic_error("green::join: a green thread cannot join itself");
  if (target.state == State::ready) {
    ready_.remove(target);
    make_ready(target, /*next=*/true);
  }
  while (!target.ended()) target.joiners.wait();
}

bool Scheduler::cancel_thread(Thread& thread) {
  if (thread.ended()) return false;
  if (&thread == running_ && env_.active() == thread.context) {
    throw std::logic_error("green::cancel: a green thread cannot cancel itself; return or throw instead");
  }
  if (thread.queue != nullptr) thread.queue->remove(thread);  // ready or waiting
  if (thread.state == State::sleeping) timers_.erase(thread.timer);
  // Woken but it will never consume the wake: pass it on, or a channel
  // could hold a value while a receiver waits
  // (channel_test: "a canceled receiver passes its wake-up on").
  if (thread.state == State::ready && thread.woken_by != nullptr) thread.woken_by->notify_one();
  const switchyard::ContextId context = thread.context;
  thread.state = State::canceled;
  thread.context = 0;
  if (context != 0) {
    env_.destroy(context);  // unwinds its stack: RAII runs now, on that stack
  } else {
    thread.discard();
  }
  end(thread, State::canceled);
  return true;
}

// Records the end of a thread and hands the CPU to its joiners next.
void Scheduler::end(Thread& thread, State how) {
  thread.state = how;
  thread.context = 0;
  if (thread.newer != nullptr) thread.newer->older = thread.older;
  if (thread.older != nullptr) thread.older->newer = thread.newer;
  if (newest_ == &thread) newest_ = thread.older;
  thread.older = thread.newer = nullptr;
  --stats_.live;
  while (!thread.joiners.empty()) make_ready(thread.joiners.waiters_.pop_front(), /*next=*/true);
  std::shared_ptr<Thread> last = std::move(thread.keep_alive);  // may free the record on return
}

// --- The scheduler context and the workers ------------------------------------

void Scheduler::check_main_context() const {
  if (env_.active() != switchyard::main_context_id) {
    throw std::logic_error("green::Scheduler::run must be called from the main context, not from context " +
                           std::to_string(env_.active()));
  }
}

void Scheduler::run_until_idle() {
  scheduler_context_ = env_.create([this] { scheduler_loop(); });
  std::exception_ptr failure;
  try {
    env_.switch_to(scheduler_context_);  // returns when nothing is ready or asleep
  } catch (...) {
    failure = std::current_exception();  // the scheduler itself failed (e.g. no stack for a worker)
  }
  const std::size_t blocked = stats_.live;
  shutdown();
  if (failure) std::rethrow_exception(failure);
  if (blocked != 0) throw Deadlock(blocked);
}

// Cancels what is left, newest first, then destroys the parked workers and
// the scheduler context. Each destroy unwinds a stack, so RAII runs.
void Scheduler::shutdown() noexcept {
  while (newest_ != nullptr) {
    std::shared_ptr<Thread> hold = newest_->keep_alive;
    cancel_thread(*newest_);
  }
  for (switchyard::ContextId worker : idle_) env_.destroy(worker);
  idle_.clear();
  if (scheduler_context_ != 0) env_.destroy(scheduler_context_);
  scheduler_context_ = 0;
}

// The scheduler context's entry: dispatch ready threads in FIFO order, wake
// sleepers on time, sleep the host thread when only sleepers are left.
void Scheduler::scheduler_loop() {
  for (;;) {
    while (idle_.size() > idle_limit_) {
      env_.destroy(idle_.back());
      idle_.pop_back();
    }
    if (!timers_.empty()) wake_sleepers();
    if (!ready_.empty()) {
      dispatch(ready_.pop_front());
    } else if (!timers_.empty()) {
      std::this_thread::sleep_until(timers_.begin()->first);  // a real sleep, no spinning
    } else {
      env_.switch_to(switchyard::main_context_id);  // nothing can run: run() takes over
    }
  }
}

void Scheduler::wake_sleepers() {
  const Clock::time_point now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Thread& sleeper = *timers_.begin()->second;
    timers_.erase(timers_.begin());
    make_ready(sleeper);
  }
}

void Scheduler::dispatch(Thread& thread) {
  if (thread.context == 0) {
    if (idle_.empty()) {
      thread.context = env_.create([this] { worker_loop(); });
      ++stats_.contexts_created;
    } else {
      thread.context = idle_.back();
      idle_.pop_back();
    }
  }
  running_ = &thread;
  thread.state = State::running;
  env_.switch_to(thread.context);
  running_ = nullptr;
}

// A worker context's entry. It runs one green thread after another and never
// returns: after each, it parks as idle, and the scheduler either hands it
// the next thread to start or destroys it.
void Scheduler::worker_loop() {
  const switchyard::ContextId self = env_.active();
  for (;;) {
    Thread& thread = *running_;
    thread.run();  // a cancel unwinds from in here, out of this loop
    end(thread, State::finished);
    idle_.push_back(self);
    park();
  }
}

}  // namespace green
