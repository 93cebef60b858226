// Helpers for the scheduler tests: a run that proves nothing leaks, and
// objects that count their lives.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "green/channel.hpp"
#include "green/scheduler.hpp"

namespace test {

/// Counts destructions, so a test can prove that RAII ran exactly once.
struct Tracked {
  static inline int destroyed = 0;
  bool moved_from = false;
  Tracked() = default;
  Tracked(const Tracked&) = default;
  Tracked(Tracked&& other) noexcept { other.moved_from = true; }
  ~Tracked() {
    if (!moved_from) ++destroyed;
  }
};

/// Small stacks, so that tests with many workers stay light.
inline switchyard::Options options() {
  switchyard::Options options;
  options.stack_size = 64 << 10;
  return options;
}

/// Runs `root` on a fresh scheduler, then checks that every worker and the
/// scheduler context were destroyed and no stack mapping is left.
template <class F>
void run(F&& root, const switchyard::Options& opts = options()) {
  Tracked::destroyed = 0;
  switchyard::run_main([&] {
    {
      green::Scheduler scheduler;
      scheduler.run(root);
    }
    CHECK(switchyard::Environment::current().live_contexts() == 0);
  }, opts);
  CHECK(switchyard::mapped_stacks() == 0);
}

/// An append-only record of what happened, in order.
struct Log {
  std::vector<std::string> lines;
  void operator()(std::string line) { lines.push_back(std::move(line)); }
};

}  // namespace test
