// Spawn, ordering, yield, join and failures.
#include <memory>
#include <stdexcept>
#include <thread>

#include "skynet.hpp"
#include "support.hpp"

using test::Log;

TEST_CASE("threads start in spawn order and yield round robin") {
  Log log;
  test::run([&] {
    for (const char* name : {"a", "b", "c"}) {
      green::spawn([&log, name] {
        for (int round = 1; round <= 3; ++round) {
          log(name + std::to_string(round));
          green::yield();
        }
      });
    }
    log("root done");  // spawn does not switch: the root finishes first
  });
  CHECK(log.lines == std::vector<std::string>{"root done", "a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3"});
}

TEST_CASE("run returns the root's result and waits for every thread") {
  Log log;
  int result = 0;
  test::run([&] {
    result = green::Scheduler::current().stats().live == 1 ? 7 : -1;
    green::spawn([&] {
      green::yield();
      log("orphan ran");
    });
  });
  CHECK(result == 7);
  CHECK(log.lines == std::vector<std::string>{"orphan ran"});

  const int answer = green::run([] { return 6 * 7; }, test::options());
  CHECK(answer == 42);
}

TEST_CASE("join returns the result, also when it comes late") {
  test::run([] {
    auto early = green::spawn([] { return 1; });
    auto late = green::spawn([] { return std::make_unique<int>(2); });  // move-only result
    CHECK(green::join(early) == 1);
    while (!late.done()) green::yield();
    std::unique_ptr<int> value = green::join(late);
    REQUIRE(value != nullptr);
    CHECK(*value == 2);
    CHECK_THROWS_AS(green::join(late), std::logic_error);  // one join takes the value
  });
}

TEST_CASE("join runs a ready thread next and hands back to the joiner when it ends") {
  Log log;
  test::run([&] {
    auto a = green::spawn([&] { log("a"); });
    auto b = green::spawn([&] { log("b"); });
    green::join(b);
    log("root after join");
    green::join(a);
  });
  CHECK(log.lines == std::vector<std::string>{"b", "root after join", "a"});
}

TEST_CASE("a failure is rethrown by every join and by run for the root") {
  test::run([] {
    auto failing = green::spawn([]() -> int { throw std::runtime_error("boom"); });
    auto fine = green::spawn([] { return 3; });
    for (int attempt = 0; attempt < 2; ++attempt) {
      CHECK_THROWS_WITH_AS(green::join(failing), "boom", std::runtime_error);
    }
    CHECK(green::join(fine) == 3);
    green::spawn([] { throw std::runtime_error("nobody joins me"); });  // stored, not fatal
  });
  CHECK_THROWS_WITH_AS(green::run([] { throw std::domain_error("root failed"); }, test::options()), "root failed",
                       std::domain_error);
  CHECK(switchyard::mapped_stacks() == 0);
}

TEST_CASE("misuse is a logic_error") {
  CHECK_THROWS_AS(green::yield(), std::logic_error);  // no scheduler on this thread
  test::run([] {
    green::Handle<void> self;
    self = green::spawn([&self] {
      CHECK_THROWS_AS(green::join(self), std::logic_error);
      CHECK_THROWS_AS(green::cancel(self), std::logic_error);
      green::Scheduler& scheduler = green::Scheduler::current();
      const auto spawned = scheduler.stats().spawned;
      CHECK_THROWS_AS(scheduler.run([] {}), std::logic_error);  // run() belongs to the main context
      CHECK(scheduler.stats().spawned == spawned);
    });
    CHECK_THROWS_AS(green::join(green::Handle<int>{}), std::invalid_argument);
    green::join(self);
  });
  switchyard::run_main([] {
    green::Scheduler scheduler;
    CHECK_THROWS_AS(green::Scheduler(), std::logic_error);  // one per thread
    CHECK_THROWS_AS(green::yield(), std::logic_error);      // main is not a green thread
    CHECK_THROWS_AS(green::sleep_for(std::chrono::milliseconds(1)), std::logic_error);
  });
  CHECK_THROWS_AS(green::Scheduler(), switchyard::Error);  // no environment
}

TEST_CASE("finished threads leave their worker context for the next spawn") {
  switchyard::Options options = test::options();
  options.stack_cache = 2;
  test::run([] {
    for (int i = 0; i < 100; ++i) CHECK(green::join(green::spawn([i] { return i; })) == i);
    // The root's worker plus one that ran all hundred, one after another.
    CHECK(green::Scheduler::current().stats().contexts_created == 2);

    // Ten at once need ten workers; of the idle ones only stack_cache stay.
    std::vector<green::Handle<void>> sleepers;
    for (int i = 0; i < 10; ++i) sleepers.push_back(green::spawn([] { green::sleep_for(std::chrono::milliseconds(1)); }));
    for (auto& sleeper : sleepers) green::join(sleeper);
    green::yield();  // let the scheduler trim the idle list
    // The scheduler, the root's worker, and at most two idle workers.
    CHECK(switchyard::Environment::current().live_contexts() <= 4);
    CHECK(green::Scheduler::current().stats().contexts_created == 11);
  }, options);
}

TEST_CASE("with stack_cache 0 every finished worker is destroyed") {
  switchyard::Options options = test::options();
  options.stack_cache = 0;
  test::run([] {
    for (int i = 0; i < 10; ++i) CHECK(green::join(green::spawn([i] { return i; })) == i);
    CHECK(green::Scheduler::current().stats().contexts_created == 11);
    CHECK(switchyard::Environment::current().live_contexts() == 2);  // the scheduler and the root's worker
  }, options);
}

TEST_CASE("schedulers on two host threads are independent") {
  std::int64_t sums[2] = {0, 0};
  std::vector<std::thread> hosts;
  for (std::int64_t& sum : sums) {
    hosts.emplace_back([&sum] { sum = green::run([] { return green::workload::skynet(0, 10000); }, test::options()); });
  }
  for (auto& host : hosts) host.join();
  CHECK(sums[0] == 49995000);
  CHECK(sums[1] == 49995000);
}

TEST_CASE("skynet over 1000 leaves sums to 499500 and keeps few contexts") {
  test::run([] {
    std::int64_t sum = 0;
    auto root = green::spawn([&] {
      const std::int64_t parts = 10;
      std::vector<green::Handle<std::int64_t>> children;
      for (std::int64_t i = 0; i < parts; ++i) {
        children.push_back(green::spawn([i] {
          std::int64_t s = 0;
          std::vector<green::Handle<std::int64_t>> leaves;
          for (std::int64_t j = 0; j < 100; ++j) leaves.push_back(green::spawn([i, j] { return i * 100 + j; }));
          for (auto& leaf : leaves) s += green::join(leaf);
          return s;
        }));
      }
      for (auto& child : children) sum += green::join(child);
    });
    green::join(root);
    CHECK(sum == 499500);
    // Depth first: one context per level, not one per thread.
    CHECK(green::Scheduler::current().stats().contexts_created <= 4);
    CHECK(green::Scheduler::current().stats().spawned == 1 + 1 + 10 + 1000);
  });
}
