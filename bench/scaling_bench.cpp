// Cost against the number of live suspended contexts (1k, 100k, 1M): switch
// round trip (round robin over all of them), create+destroy and
// create+park+destroy with all of them live, and the resident memory each
// one costs. Raw Boost.Context round robin over the same number is the
// reference for the switch.
//
// Every case uses 16 KiB stacks without guard pages: with guard pages each
// stack is two mappings that the kernel cannot merge, and the default
// vm.max_map_count (65530) stops a process at about 32k live contexts.
// The population is built inside the benchmark function, so each case has a
// fixed iteration count: Google Benchmark then calls it once per repetition
// instead of once per probe of the iteration count.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <switchyard/switchyard.hpp>
#include <vector>

#include "bench_support.hpp"

namespace bench {

std::size_t resident_bytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int read = std::fscanf(statm, "%lu %lu", &size, &resident);
  std::fclose(statm);
  return read == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace bench

namespace {

namespace sy = switchyard;
namespace ctx = boost::context;

constexpr std::size_t scaling_stack_size = std::size_t{16} << 10;

sy::Options scaling_options() {
  sy::Options o;
  o.stack_size = scaling_stack_size;
  o.guard_pages = false;
  return o;
}

// The baseline for the resident-memory counter: free heap pages are given
// back first, so that records reusing them are counted as new memory.
std::size_t resident_baseline() {
  ::malloc_trim(0);
  return bench::resident_bytes();
}

void report_population(benchmark::State& state, std::size_t live, std::size_t resident_before) {
  const std::size_t resident_after = bench::resident_bytes();
  const double per_context =
      resident_after > resident_before ? static_cast<double>(resident_after - resident_before) / live : 0.0;
  state.counters["live"] = static_cast<double>(live);
  state.counters["rss_per_context"] =
      benchmark::Counter(per_context, benchmark::Counter::kDefaults, benchmark::Counter::OneK::kIs1024);
}

// Fills `ids` with contexts that have each run once and now wait in
// switch_to(main): live and suspended, as a guest's green threads are.
void populate(sy::Environment& env, std::vector<sy::ContextId>& ids) {
  for (sy::ContextId& id : ids) {
    id = env.create([&env] {
      for (;;) env.switch_to(sy::main_context_id);
    });
  }
  for (sy::ContextId id : ids) env.switch_to(id);
}

// Where a population reports its resident memory: Google Benchmark
// counters, or nowhere (instruction counting).
struct StateLoopWithCounters : bench::StateLoop {
  void populated(std::size_t live, std::size_t resident_before) { report_population(state, live, resident_before); }
};
struct CountLoopQuiet : bench::CountLoop {
  void populated(std::size_t, std::size_t) {}
};

// Runs `body(env, ids)` with `live` suspended contexts; the vector of IDs is
// touched before the baseline so that it is not counted per context.
template <class Loop, class Body>
void with_population(Loop& loop, std::size_t live, Body&& body) {
  sy::run_main(
      [&] {
        sy::Environment& env = sy::Environment::current();
        std::vector<sy::ContextId> ids(live);
        const std::size_t before = resident_baseline();
        populate(env, ids);
        loop.populated(live, before);
        if (env.live_contexts() != live) throw std::runtime_error("population incomplete");
        body(env, ids);
      },
      scaling_options());
}

template <class Loop>
void switchyard_switch(Loop& loop, std::size_t live) {
  with_population(loop, live, [&](sy::Environment& env, const std::vector<sy::ContextId>& ids) {
    std::size_t next = 0;
    loop.run([&] {
      env.switch_to(ids[next]);
      if (++next == ids.size()) next = 0;
    });
  });
}

template <class Loop>
void switchyard_create_destroy(Loop& loop, std::size_t live) {
  with_population(loop, live, [&](sy::Environment& env, const std::vector<sy::ContextId>&) {
    loop.run([&] { env.destroy(env.create([] {})); });
  });
}

template <class Loop>
void switchyard_create_park_destroy(Loop& loop, std::size_t live) {
  with_population(loop, live, [&](sy::Environment& env, const std::vector<sy::ContextId>&) {
    loop.run([&] {
      const sy::ContextId id = env.create([&env] { env.switch_to(sy::main_context_id); });
      env.switch_to(id);
      env.destroy(id);
    });
  });
}

// Raw Boost.Context: the same population (16 KiB stacks from
// fixedsize_stack, no guard pages), resumed round robin by the main stack.
template <class Loop>
void boost_context_switch(Loop& loop, std::size_t live) {
  std::vector<ctx::fiber> fibers(live);
  bool stop = false;
  const std::size_t before = resident_baseline();
  ctx::fixedsize_stack stacks(scaling_stack_size);
  for (ctx::fiber& fiber : fibers) {
    fiber = ctx::fiber{std::allocator_arg, stacks, [&stop](ctx::fiber&& caller) {
                         while (!stop) caller = std::move(caller).resume();
                         return std::move(caller);
                       }};
    fiber = std::move(fiber).resume();
  }
  loop.populated(live, before);
  std::size_t next = 0;
  loop.run([&] {
    fibers[next] = std::move(fibers[next]).resume();
    if (++next == live) next = 0;
  });
  stop = true;
  for (ctx::fiber& fiber : fibers) fiber = std::move(fiber).resume();
}

// Instruction counts (and callgrind's cache simulation) of the switch at
// this many live contexts.
constexpr std::size_t counted_live = 100'000;

}  // namespace

namespace bench {

// A case both ways: timed with the population of the benchmark's argument,
// counted (kernel) at counted_live.
#define SY_SCALING_CASE(name, body, iterations, round_robin)    \
  Case {                                                        \
    name,                                                       \
        [](benchmark::State& state) {                           \
          StateLoopWithCounters loop{{state}};                  \
          body(loop, static_cast<std::size_t>(state.range(0))); \
        },                                                      \
        [](bench::CountLoop& base) {                            \
          CountLoopQuiet loop{base};                            \
          body(loop, counted_live);                             \
        },                                                      \
        iterations, round_robin                                 \
  }

void register_scaling_benchmarks(bool smoke) {
  const std::vector<std::int64_t> populations =
      smoke ? std::vector<std::int64_t>{1000, 100000} : std::vector<std::int64_t>{1000, 100000, 1000000};
  struct Case {
    const char* name;
    void (*timed)(benchmark::State&);
    void (*counted)(CountLoop&);
    std::int64_t iterations;  // at least this many; the switch cases pass over every context
    bool round_robin;         // a switch case: also a kernel for instruction counts
  };
  const Case cases[] = {
      SY_SCALING_CASE("scaling_switch/switchyard", switchyard_switch, 2'000'000, true),
      SY_SCALING_CASE("scaling_switch/boost_context_fiber", boost_context_switch, 2'000'000, true),
      SY_SCALING_CASE("scaling_create_destroy/switchyard", switchyard_create_destroy, 1'000'000, false),
      SY_SCALING_CASE("scaling_create_park_destroy/switchyard", switchyard_create_park_destroy, 200'000, false),
  };
  for (const Case& c : cases) {
    for (std::int64_t live : populations) {
      std::int64_t iterations = c.iterations;
      if (c.round_robin) iterations = std::max(iterations, 3 * live);
      if (smoke) iterations = c.round_robin ? live : 10'000;
      benchmark::RegisterBenchmark(c.name, c.timed)->Arg(live)->Iterations(iterations);
    }
    if (c.round_robin) kernels().push_back({std::string(c.name) + "/" + std::to_string(counted_live), c.counted});
  }
}

}  // namespace bench
