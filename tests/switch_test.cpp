#include "support.hpp"

#include <vector>

TEST_CASE("switch_to runs the target and returns when someone switches back") {
  test::run([](sy::Environment& env) {
    std::vector<int> trace;
    sy::ContextId a = 0, b = 0;
    a = env.create([&] {
      trace.push_back(1);
      CHECK(sy::active() == a);
      sy::switch_to(b);
      trace.push_back(3);
      sy::switch_to(0);
    });
    b = env.create([&] {
      trace.push_back(2);
      sy::switch_to(a);
    });
    env.switch_to(a);
    trace.push_back(4);
    CHECK(trace == std::vector<int>{1, 2, 3, 4});
    CHECK(env.active() == 0);
    CHECK(env.state(a) == sy::ContextState::suspended);
    CHECK(env.state(b) == sy::ContextState::suspended);
    env.destroy(a);
    env.destroy(b);
  });
}

TEST_CASE("switching to yourself is a no-op") {
  test::run([](sy::Environment& env) {
    std::uint64_t before = env.stats().switches;
    env.switch_to(0);
    CHECK(env.stats().switches == before);
    sy::ContextId id = env.create([&] {
      sy::switch_to(sy::active());
      sy::switch_to(0);
    });
    env.switch_to(id);
    CHECK(env.active() == 0);
    env.destroy(id);
  });
}

TEST_CASE("unknown, finished and destroyed targets are switch_target_missing and change nothing") {
  test::run([](sy::Environment& env) {
    auto expect_missing = [&](sy::ContextId target) {
      try {
        env.switch_to(target);
        FAIL("switch_to did not throw");
      } catch (const sy::Error& e) {
        CHECK(e.code() == sy::errc::switch_target_missing);
        CHECK(std::string(e.what()).find(std::to_string(target)) != std::string::npos);
      }
      CHECK(env.active() == 0);
    };
    expect_missing(77);
    sy::ContextId destroyed = env.create([] {});
    env.destroy(destroyed);
    expect_missing(destroyed);
    sy::ContextId failed = env.create([] { throw 1; });
    CHECK_THROWS_AS(env.switch_to(failed), int);
    expect_missing(failed);
    CHECK(env.live_contexts() == 0);

    // And from inside a context: the caller keeps running.
    bool kept_running = false;
    sy::ContextId id = env.create([&] {
      try {
        sy::switch_to(12345);
      } catch (const sy::Error& e) {
        kept_running = e.code() == sy::errc::switch_target_missing && sy::active() != 0;
      }
      sy::switch_to(0);
    });
    env.switch_to(id);
    CHECK(kept_running);
    env.destroy(id);
  });
}

TEST_CASE("a long chain of switches keeps locals intact on every stack") {
  test::run([](sy::Environment& env) {
    constexpr int n = 50;
    std::vector<sy::ContextId> ids(n);
    long total = 0;
    for (int i = 0; i < n; ++i) {
      ids[i] = env.create([&, i] {
        long mine = i * 1000L;
        for (;;) {
          total += mine;
          sy::switch_to(i + 1 < n ? ids[i + 1] : 0);
        }
      });
    }
    for (int round = 0; round < 20; ++round) env.switch_to(ids[0]);
    long expected = 0;
    for (int i = 0; i < n; ++i) expected += i * 1000L;
    CHECK(total == expected * 20);
    // Per round: main -> first, n - 1 hand-offs, last -> main.
    CHECK(env.stats().switches == static_cast<std::uint64_t>(20 * (n + 1)));
    for (sy::ContextId id : ids) env.destroy(id);
  });
}

TEST_CASE("switch_to from a non-main context to main and back") {
  test::run([](sy::Environment& env) {
    int step = 0;
    sy::ContextId id = env.create([&] {
      for (;;) {
        ++step;
        sy::switch_to(0);
      }
    });
    for (int i = 0; i < 1000; ++i) env.switch_to(id);
    CHECK(step == 1000);
    env.destroy(id);
  });
}
