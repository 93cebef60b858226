#include "support.hpp"

#include <atomic>
#include <sstream>
#include <future>
#include <thread>
#include <vector>

TEST_CASE("calls on an environment from another thread are wrong_thread and change nothing") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create([] { sy::switch_to(0); });
    env.switch_to(id);
    std::uint64_t switches_before = env.stats().switches;

    std::vector<std::string> messages;
    std::thread other([&] {
      auto expect_wrong_thread = [&](auto&& call) {
        try {
          call();
          messages.push_back("no error");
        } catch (const sy::Error& e) {
          messages.push_back(e.code() == sy::errc::wrong_thread ? e.what() : "wrong code");
        }
      };
      expect_wrong_thread([&] { env.switch_to(id); });
      expect_wrong_thread([&] { env.destroy(id); });
      expect_wrong_thread([&] { env.create([] {}); });
      expect_wrong_thread([&] { (void)env.active(); });
      expect_wrong_thread([&] { (void)env.stats(); });
      // A thread with an environment of its own is still the wrong thread.
      sy::run_main([&] { expect_wrong_thread([&] { env.switch_to(id); }); });
    });
    other.join();

    REQUIRE(messages.size() == 6);
    std::ostringstream owner;
    owner << env.owner();
    for (const std::string& m : messages) {
      CHECK(m.find("used from thread") != std::string::npos);
      CHECK(m.find(owner.str()) != std::string::npos);  // names the expected thread
    }
    CHECK(env.stats().switches == switches_before);
    CHECK(env.state(id) == sy::ContextState::suspended);
    CHECK(env.live_contexts() == 1);
    env.destroy(id);
  });
}

TEST_CASE("Environment::current is no_environment on a thread without one") {
  std::thread([] {
    CHECK(sy::Environment::try_current() == nullptr);
    try {
      sy::Environment::current();
      FAIL("no throw");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::no_environment);
    }
    CHECK_THROWS_AS(sy::switch_to(1), sy::Error);
  }).join();
}

TEST_CASE("4 threads run independent environments at once") {
  constexpr int threads = 4;
  constexpr int contexts = 20;
  constexpr int rounds = 2000;
  std::atomic<int> ready{0};
  std::vector<std::future<long>> results;
  for (int t = 0; t < threads; ++t) {
    results.push_back(std::async(std::launch::async, [&, t] {
      return sy::run_main([&] {
        sy::Environment& env = sy::Environment::current();
        long sum = 0;
        std::vector<sy::ContextId> ids;
        for (int c = 0; c < contexts; ++c) {
          ids.push_back(env.create([&sum, c, t] {
            for (;;) {
              sum += (t + 1) * (c + 1);
              sy::switch_to(0);
            }
          }));
        }
        // Make the threads overlap.
        ++ready;
        while (ready.load() < threads) std::this_thread::yield();
        for (int r = 0; r < rounds; ++r)
          for (sy::ContextId id : ids) env.switch_to(id);
        // Each thread sees only its own contexts, with its own IDs.
        CHECK(env.live_contexts() == static_cast<std::size_t>(contexts));
        CHECK(ids.front() == 1);
        return sum;
      });
    }));
  }
  for (int t = 0; t < threads; ++t) {
    long expected = 0;
    for (int c = 0; c < contexts; ++c) expected += (t + 1) * (c + 1);
    CHECK(results[t].get() == expected * rounds);
  }
  CHECK(sy::mapped_stacks() == 0);
}
