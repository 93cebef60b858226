// Skynet (a 10-way tree of spawns down to N leaves, sums joined back up) on
// the example green-thread scheduler and on Boost.Fiber, one thread each.
// The counter "per_thread" is the time per green thread or fiber. Like
// every Google Benchmark rate it is CPU time: on a shared machine the wall
// time also holds other processes' turns (up to 2x on the 2-core VM where
// the README scheduler section's figures were taken). The work is single-threaded and
// never sleeps, so CPU time is its cost.
//
// Both sides are warm when timing starts: one untimed run fills the
// switchyard stack cache and the scheduler's idle workers, and Boost's
// pooled stack allocator. Stacks are 32 KiB on both sides.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>

#include <boost/fiber/all.hpp>

#include "green/scheduler.hpp"
#include "skynet.hpp"

namespace {

constexpr std::size_t stack_size = 32 << 10;

void expect_sum(benchmark::State& state, std::int64_t leaves, std::int64_t sum) {
  if (sum != leaves * (leaves - 1) / 2) state.SkipWithError("wrong skynet sum");
}

void report(benchmark::State& state, std::int64_t threads_per_run) {
  state.SetItemsProcessed(state.iterations() * threads_per_run);
  state.counters["threads"] = static_cast<double>(threads_per_run);
  state.counters["per_thread"] = benchmark::Counter(static_cast<double>(threads_per_run),
                                                    benchmark::Counter::kIsIterationInvariantRate |
                                                        benchmark::Counter::kInvert);
}

void skynet_green(benchmark::State& state) {
  const std::int64_t leaves = state.range(0);
  switchyard::Options options;
  options.stack_size = stack_size;
  switchyard::run_main([&] {
    green::Scheduler scheduler;
    const auto skynet = [leaves] { return green::workload::skynet(0, leaves); };
    std::int64_t spawned = static_cast<std::int64_t>(scheduler.stats().spawned);
    expect_sum(state, leaves, scheduler.run(skynet));  // warm-up
    spawned = static_cast<std::int64_t>(scheduler.stats().spawned) - spawned;
    for (auto _ : state) benchmark::DoNotOptimize(scheduler.run(skynet));
    report(state, spawned);
  }, options);
}

// Boost.Fiber, the same tree: each fiber spawns its children, then joins
// them in order.
template <class StackAllocator>
std::int64_t skynet_fiber(StackAllocator& stacks, std::int64_t& fibers, std::int64_t first, std::int64_t size) {
  if (size == 1) return first;
  const std::int64_t parts = size < 10 ? size : 10;
  std::array<boost::fibers::fiber, 10> children;
  std::array<std::int64_t, 10> sums{};
  for (std::int64_t i = 0; i < parts; ++i) {
    const std::int64_t lo = first + size * i / parts;
    const std::int64_t hi = first + size * (i + 1) / parts;
    children[i] = boost::fibers::fiber(std::allocator_arg, stacks, [&stacks, &fibers, &sums, i, lo, hi] {
      sums[i] = skynet_fiber(stacks, fibers, lo, hi - lo);
    });
    ++fibers;
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < parts; ++i) {
    children[i].join();
    sum += sums[i];
  }
  return sum;
}

template <class StackAllocator>
void skynet_boost_fiber(benchmark::State& state) {
  const std::int64_t leaves = state.range(0);
  StackAllocator stacks(stack_size);
  // No scheduler is installed: Boost.Fiber's default is round_robin, and
  // this thread's main fiber runs the root, as the root green thread does.
  std::int64_t fibers = 0;
  expect_sum(state, leaves, skynet_fiber(stacks, fibers, 0, leaves));  // warm-up
  const std::int64_t fibers_per_run = fibers;
  for (auto _ : state) benchmark::DoNotOptimize(skynet_fiber(stacks, fibers, 0, leaves));
  report(state, fibers_per_run);
}

}  // namespace

BENCHMARK(skynet_green)
    ->Name("skynet/green_scheduler")
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);
// The pooled allocator is Boost's fastest (stacks are reused). Not run at
// 1M leaves by default: round_robin is FIFO, so the whole tree is alive at
// once, and that run peaked at 15 GB RSS here (the green scheduler: 5 MB).
// Plain fixedsize_stack mallocs every stack and is listed for reference
// only, at the small size (~9 us per fiber on this VM, mostly in the kernel).
BENCHMARK(skynet_boost_fiber<boost::fibers::pooled_fixedsize_stack>)
    ->Name("skynet/boost_fiber_pooled_stack")
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(skynet_boost_fiber<boost::fibers::fixedsize_stack>)
    ->Name("skynet/boost_fiber_fixedsize_stack")
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
