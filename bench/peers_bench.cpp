// The peers of switch/switchyard, measured the same way: one iteration is
// a round trip, two hand-offs, between the benchmark's side and one peer.
#include <ucontext.h>

#include <boost/context/fiber.hpp>
#include <boost/fiber/all.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "bench_support.hpp"

namespace {

namespace ctx = boost::context;
namespace fibers = boost::fibers;

// Raw boost::context::fiber ping-pong: the floor.
template <class Loop>
void boost_context_round_trip(Loop& loop) {
  bool stop = false;
  ctx::fiber peer{[&stop](ctx::fiber&& caller) {
    while (!stop) caller = std::move(caller).resume();
    return std::move(caller);
  }};
  peer = std::move(peer).resume();  // parks in its loop
  loop.run([&] { peer = std::move(peer).resume(); });
  stop = true;
  peer = std::move(peer).resume();  // returns: peer is empty again
}

// Boost.Fiber: the thread's main fiber and one more yield to each other
// through the round-robin scheduler.
template <class Loop>
void boost_fiber_yield(Loop& loop) {
  bool stop = false;
  fibers::fiber peer([&stop] {
    while (!stop) boost::this_fiber::yield();
  });
  loop.run([] { boost::this_fiber::yield(); });
  stop = true;
  peer.join();
}

// Boost.Fiber with a fresh one-shot promise per switch: each suspended side
// holds a promise (its unblocker); switching resolves the other side's and
// waits on a new one of its own. This is the one-shot-channel design that
// the Boost.Context continuation replaced.
template <class Loop>
void boost_fiber_promise(Loop& loop) {
  fibers::promise<void>* unblocker[2] = {nullptr, nullptr};
  bool stop = false;
  auto hand_off = [&unblocker](int self, int other) {
    fibers::promise<void> mine;
    fibers::future<void> resumed = mine.get_future();
    unblocker[self] = &mine;
    std::exchange(unblocker[other], nullptr)->set_value();
    resumed.get();
  };
  fibers::fiber peer([&] {
    fibers::promise<void> first;
    fibers::future<void> started = first.get_future();
    unblocker[1] = &first;
    started.get();
    while (!stop) hand_off(1, 0);
    std::exchange(unblocker[0], nullptr)->set_value();
  });
  while (unblocker[1] == nullptr) boost::this_fiber::yield();
  loop.run([&] { hand_off(0, 1); });
  stop = true;
  hand_off(0, 1);
  peer.join();
}

// POSIX swapcontext (it saves and restores the signal mask: a system call
// per switch). makecontext passes only ints, so the state is global.
ucontext_t main_ucontext;
ucontext_t peer_ucontext;

void swapcontext_peer() {
  for (;;) swapcontext(&peer_ucontext, &main_ucontext);
}

void checked_swapcontext(ucontext_t* from, ucontext_t* to) {
  if (swapcontext(from, to) != 0) {
    std::perror("swapcontext");
    std::abort();
  }
}

template <class Loop>
void posix_swapcontext(Loop& loop) {
  constexpr std::size_t stack_size = 256 << 10;
  auto stack = std::make_unique<char[]>(stack_size);
  if (getcontext(&peer_ucontext) != 0) std::abort();
  peer_ucontext.uc_stack.ss_sp = stack.get();
  peer_ucontext.uc_stack.ss_size = stack_size;
  peer_ucontext.uc_link = nullptr;
  makecontext(&peer_ucontext, swapcontext_peer, 0);
  checked_swapcontext(&main_ucontext, &peer_ucontext);  // parks in its loop
  loop.run([] { checked_swapcontext(&main_ucontext, &peer_ucontext); });
  // The peer stays parked; its frames hold nothing to release.
}

// Two OS threads, the benchmark's and one more, handing a turn back and
// forth with a mutex and a condition variable.
template <class Loop>
void thread_condvar(Loop& loop) {
  std::mutex mutex;
  std::condition_variable changed;
  int turn = 0;  // 1: the peer's turn
  bool stop = false;
  std::thread peer([&] {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return turn == 1 || stop; });
      if (stop) return;
      turn = 0;
      changed.notify_one();
    }
  });
  loop.run([&] {
    std::unique_lock lock(mutex);
    turn = 1;
    changed.notify_one();
    changed.wait(lock, [&] { return turn == 0; });
  });
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  changed.notify_one();
  peer.join();
}

}  // namespace

SY_BENCHMARK("switch/boost_context_fiber", boost_context_round_trip);
SY_BENCHMARK("switch/boost_fiber_yield", boost_fiber_yield);
SY_BENCHMARK("switch/boost_fiber_promise_per_switch", boost_fiber_promise);
SY_BENCHMARK("switch/posix_swapcontext", posix_swapcontext);
// Waiting threads use no CPU: wall-clock time is the only meaningful one.
SY_BENCHMARK_TIMED("switch/std_thread_condvar", thread_condvar)->UseRealTime();
