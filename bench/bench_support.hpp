// Shared pieces of the switchyard_bench binary.
//
// Every benchmark body is written once, as `template <class Loop> void
// body(Loop& loop)` that calls `loop.run([&] { one iteration; })`, and runs
// in two ways:
//  - StateLoop: timed by Google Benchmark (the normal run);
//  - CountLoop: a fixed number of iterations between callgrind client
//    requests (`--sy_instructions` under valgrind --tool=callgrind), which
//    gives instruction counts that do not depend on the noise of this VM.
// SY_BENCHMARK registers a body both ways; SY_BENCHMARK_TIMED only with
// Google Benchmark (for bodies whose instruction count means nothing, e.g.
// two OS threads).
#pragma once

#include <benchmark/benchmark.h>
#include <valgrind/callgrind.h>

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

/// Iterations timed by Google Benchmark.
struct StateLoop {
  benchmark::State& state;
  template <class F>
  void run(F&& iteration) {
    for (auto _ : state) iteration();
  }
};

/// Iterations counted by callgrind: warm up (caches, stack pools, lazy
/// initialisation), zero the counters, run `iterations`, dump the counts
/// under `name` (callgrind.out.<pid>.<n>, "Trigger: Client Request: name").
/// Outside valgrind the client requests are no-ops.
struct CountLoop {
  const char* name;
  std::size_t iterations;
  static constexpr std::size_t warmup = 1000;
  template <class F>
  void run(F&& iteration) {
    for (std::size_t i = 0; i < warmup; ++i) iteration();
    CALLGRIND_ZERO_STATS;
    for (std::size_t i = 0; i < iterations; ++i) iteration();
    CALLGRIND_DUMP_STATS_AT(name);
  }
};

/// A body registered for instruction counting.
struct Kernel {
  std::string name;
  void (*run)(CountLoop& loop);
};

/// Every registered kernel, in registration order.
inline std::vector<Kernel>& kernels() {
  static std::vector<Kernel> all;
  return all;
}

struct KernelRegistration {
  KernelRegistration(const char* name, void (*run)(CountLoop&)) { kernels().push_back({name, run}); }
};

/// Registers the benchmarks whose cost depends on the number of live
/// contexts (scaling_bench.cpp), and kernels for their switch at 100k live.
/// `smoke`: 1k and 100k live with few iterations; otherwise 1k, 100k and 1M
/// with enough iterations to pass over every context several times.
void register_scaling_benchmarks(bool smoke);

/// Resident set size of the process, in bytes (/proc/self/statm).
std::size_t resident_bytes();

}  // namespace bench

#define SY_BENCH_CAT2(a, b) a##b
#define SY_BENCH_CAT(a, b) SY_BENCH_CAT2(a, b)

/// Registers `body` (a function template over Loop) as a timed benchmark and
/// as a callgrind kernel under `name`. Evaluates to the Benchmark*, so that
/// options can follow: SY_BENCHMARK("x", f)->UseRealTime();
#define SY_BENCHMARK(name, body)                                                                                       \
  static ::bench::KernelRegistration SY_BENCH_CAT(sy_kernel_, __LINE__){name,                                          \
                                                                        [](::bench::CountLoop& loop) { body(loop); }}; \
  static ::benchmark::internal::Benchmark* SY_BENCH_CAT(sy_benchmark_, __LINE__) [[maybe_unused]] =                    \
      ::benchmark::RegisterBenchmark(name, [](::benchmark::State& state) {                                             \
        ::bench::StateLoop loop{state};                                                                                \
        body(loop);                                                                                                    \
      })

/// Registers `body` as a timed benchmark only.
#define SY_BENCHMARK_TIMED(name, body)                                                              \
  static ::benchmark::internal::Benchmark* SY_BENCH_CAT(sy_benchmark_, __LINE__) [[maybe_unused]] = \
      ::benchmark::RegisterBenchmark(name, [](::benchmark::State& state) {                          \
        ::bench::StateLoop loop{state};                                                             \
        body(loop);                                                                                 \
      })
