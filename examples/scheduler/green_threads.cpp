// green_threads: the green-thread scheduler of examples/scheduler at work.
//
//   green_threads [--pipeline [WORKERS [ITEMS]]]   producer -> workers -> consumer over channels
//   green_threads --skynet N                       the skynet benchmark with N leaves
//   green_threads --cancel                         cancel a sleeping and a blocked thread
//
// Every mode checks its result and exits non-zero when it is wrong.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "green/channel.hpp"
#include "green/scheduler.hpp"
#include "skynet.hpp"

namespace {

using namespace std::chrono_literals;
using Millis = std::chrono::duration<double, std::milli>;

std::int64_t parse_count(const char* text, const char* what) {
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || value < 1) {
    std::fprintf(stderr, "green_threads: %s must be a positive integer, got '%s'\n", what, text);
    std::exit(2);
  }
  return value;
}

// A producer feeds the numbers 1..items to `workers` green threads, which
// square them and pass them on to one consumer that adds them up.
int pipeline(int workers, std::int64_t items) {
  struct Outcome {
    std::int64_t sum;
    std::vector<std::int64_t> per_worker;
  };
  const Outcome outcome = green::run([workers, items] {
    green::Channel<std::int64_t> jobs(8);
    green::Channel<std::pair<int, std::int64_t>> results(8);
    auto producer = green::spawn([&] {
      for (std::int64_t i = 1; i <= items; ++i) jobs.send(i);
      jobs.close();
    });
    std::vector<green::Handle<void>> crew;
    for (int w = 0; w < workers; ++w) {
      crew.push_back(green::spawn([&, w] {
        while (std::optional<std::int64_t> job = jobs.recv()) {
          green::yield();  // stands for a long job, which lets others run now and then
          results.send({w, *job * *job});
        }
      }));
    }
    auto consumer = green::spawn([&] {
      Outcome totals{0, std::vector<std::int64_t>(workers)};
      while (auto result = results.recv()) {
        totals.sum += result->second;
        ++totals.per_worker[result->first];
      }
      return totals;
    });
    green::join(producer);
    for (auto& worker : crew) green::join(worker);
    results.close();  // every worker is done: the consumer drains and ends
    return green::join(consumer);
  });
  const std::int64_t expected = items * (items + 1) * (2 * items + 1) / 6;
  std::printf("pipeline: 1 producer -> %d workers -> 1 consumer, %lld items\n", workers,
              static_cast<long long>(items));
  for (int w = 0; w < workers; ++w) {
    std::printf("  worker %d squared %lld items\n", w, static_cast<long long>(outcome.per_worker[w]));
  }
  const bool ok = outcome.sum == expected;
  std::printf("pipeline: sum of squares %lld (expected %lld): %s\n", static_cast<long long>(outcome.sum),
              static_cast<long long>(expected), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}

int skynet(std::int64_t leaves) {
  // Workers are reused, so few stacks are ever made: small ones suffice,
  // and they keep their guard pages.
  switchyard::Options options;
  options.stack_size = 32 << 10;
  green::Stats stats;
  const std::clock_t cpu_start = std::clock();
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t sum = green::run([leaves, &stats] {
    const std::int64_t sum = green::workload::skynet(0, leaves);
    stats = green::Scheduler::current().stats();
    return sum;
  }, options);
  const Millis elapsed = std::chrono::steady_clock::now() - start;
  const double cpu_ms = 1e3 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const std::int64_t expected = leaves * (leaves - 1) / 2;
  const bool ok = sum == expected;
  std::printf("skynet %lld: sum %lld (expected %lld): %s\n", static_cast<long long>(leaves),
              static_cast<long long>(sum), static_cast<long long>(expected), ok ? "ok" : "WRONG");
  // CPU time too: on a shared machine the wall time includes other processes' turns.
  const double threads = static_cast<double>(stats.spawned);
  std::printf("skynet: %llu green threads on %llu contexts in %.1f ms (%.1f ms CPU): %.1f ns per green thread "
              "(%.1f ns CPU)\n",
              static_cast<unsigned long long>(stats.spawned), static_cast<unsigned long long>(stats.contexts_created),
              elapsed.count(), cpu_ms, elapsed.count() * 1e6 / threads, cpu_ms * 1e6 / threads);
  return ok ? 0 : 1;
}

// Counts destructor runs, so we can see the RAII of canceled threads run.
struct Announce {
  const char* who;
  int* runs;
  ~Announce() {
    ++*runs;
    std::printf("  ~Announce(%s): RAII ran on the canceled thread's stack\n", who);
  }
};

int cancellation() {
  int unwound = 0;
  int canceled = 0;
  const auto start = std::chrono::steady_clock::now();
  green::run([&] {
    green::Channel<int> silent(1);  // nobody ever sends on it
    auto sleeper = green::spawn([&] {
      Announce guard{"sleeper", &unwound};
      green::sleep_for(1h);
      return 1;
    });
    auto receiver = green::spawn([&] {
      Announce guard{"receiver", &unwound};
      return silent.recv().value_or(-1);
    });
    green::sleep_for(10ms);  // both are parked by now
    std::printf("cancel: sleeper asleep for an hour, receiver blocked on an empty channel\n");
    for (auto* handle : {&sleeper, &receiver}) {
      green::cancel(*handle);
      try {
        green::join(*handle);
      } catch (const green::Canceled& e) {
        ++canceled;
        std::printf("  join: %s\n", e.what());
      }
    }
  });
  const Millis elapsed = std::chrono::steady_clock::now() - start;
  const bool ok = canceled == 2 && unwound == 2 && elapsed < 1s;
  std::printf("cancel: %d threads canceled, %d destructors ran, %.1f ms: %s\n", canceled, unwound, elapsed.count(),
              ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "--pipeline";
    if (mode == "--skynet" && argc == 3) return skynet(parse_count(argv[2], "N"));
    if (mode == "--cancel" && argc == 2) return cancellation();
    if (mode == "--pipeline" && argc <= 4) {
      const int workers = argc > 2 ? static_cast<int>(parse_count(argv[2], "WORKERS")) : 4;
      const std::int64_t items = argc > 3 ? parse_count(argv[3], "ITEMS") : 10000;
      return pipeline(workers, items);
    }
    std::fprintf(stderr, "usage: green_threads [--pipeline [WORKERS [ITEMS]]] | --skynet N | --cancel\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "green_threads: %s\n", e.what());
    return 1;
  }
}
