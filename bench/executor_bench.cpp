// The local executor against its peers, in one binary:
//  - a host-call round trip (yield, sleep_for(0)) from an environment run by
//    switchyard::Executor, against the same call from a plain Boost.Fiber
//    fiber under Boost's round_robin;
//  - one yield between two environments (a fiber switch that carries the
//    running environment and its exception state);
//  - an environment's context switch (main <-> context, one round trip per
//    iteration) while 1,000 other environments are parked, against the same
//    switch under a plain run_main.
// Standalone (its own main) so that it can be built without the rest of the
// bench directory: target executor_bench.
#include <benchmark/benchmark.h>

#include <boost/fiber/all.hpp>

#include <chrono>

#include <switchyard/executor.hpp>

namespace sy = switchyard;
using namespace std::chrono_literals;

namespace {

/// `count` environments parked on a condition variable until release().
class Parked {
 public:
  Parked(sy::Executor& ex, int count) {
    sy::Options options;
    options.stack_size = 32 << 10;
    for (int i = 0; i < count; ++i) {
      ex.spawn([this] {
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return released_; });
      }, options);
    }
  }
  void release() {
    {
      std::lock_guard<boost::fibers::mutex> lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  boost::fibers::mutex mutex_;
  boost::fibers::condition_variable cv_;
  bool released_ = false;
};

void BM_executor_yield(benchmark::State& state) {
  sy::Executor ex;
  Parked parked(ex, static_cast<int>(state.range(0)));
  ex.spawn([&] {
    for (auto _ : state) boost::this_fiber::yield();
    parked.release();
  });
  ex.run();
}
BENCHMARK(BM_executor_yield)->Arg(0)->Arg(1000);

void BM_executor_sleep0(benchmark::State& state) {
  sy::Executor ex;
  ex.spawn([&] {
    for (auto _ : state) boost::this_fiber::sleep_for(0ns);
  });
  ex.run();
}
BENCHMARK(BM_executor_sleep0);

void BM_fiber_yield(benchmark::State& state) {
  boost::fibers::fiber f([&] {
    for (auto _ : state) boost::this_fiber::yield();
  });
  f.join();
}
BENCHMARK(BM_fiber_yield);

void BM_fiber_sleep0(benchmark::State& state) {
  boost::fibers::fiber f([&] {
    for (auto _ : state) boost::this_fiber::sleep_for(0ns);
  });
  f.join();
}
BENCHMARK(BM_fiber_sleep0);

/// Two environments yielding to each other: one iteration is one switch
/// from one environment to the other and back.
void BM_executor_yield_between_environments(benchmark::State& state) {
  sy::Executor ex;
  bool done = false;
  ex.spawn([&] {
    for (auto _ : state) boost::this_fiber::yield();
    done = true;
  });
  ex.spawn([&] {
    while (!done) boost::this_fiber::yield();
  });
  ex.run();
}
BENCHMARK(BM_executor_yield_between_environments);

/// main -> context -> main, inside the running environment.
void ping_pong(benchmark::State& state) {
  sy::Environment& env = sy::Environment::current();
  sy::ContextId id = env.create([&env] {
    for (;;) env.switch_to(sy::main_context_id);
  });
  for (auto _ : state) env.switch_to(id);
}

void BM_executor_context_switch(benchmark::State& state) {
  sy::Executor ex;
  Parked parked(ex, static_cast<int>(state.range(0)));
  ex.spawn([&] {
    ping_pong(state);
    parked.release();
  });
  ex.run();
}
BENCHMARK(BM_executor_context_switch)->Arg(0)->Arg(1000);

void BM_run_main_context_switch(benchmark::State& state) { sy::run_main([&] { ping_pong(state); }); }
BENCHMARK(BM_run_main_context_switch);

}  // namespace

BENCHMARK_MAIN();
