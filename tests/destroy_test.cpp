#include "support.hpp"

#include <vector>

TEST_CASE("destroying a context that never started discards its entry without running it") {
  test::run([](sy::Environment& env) {
    bool ran = false;
    {
      test::Tracked captured(7);
      sy::ContextId id = env.create([&ran, captured] { ran = true; });
      CHECK(test::Tracked::alive == 2);
      CHECK(env.destroy(id));
    }
    CHECK_FALSE(ran);
    CHECK(test::Tracked::alive == 0);
    CHECK(env.stats().destroys == 1);
  });
}

TEST_CASE("destroying a started context unwinds its stack at once: RAII runs exactly once") {
  test::run([](sy::Environment& env) {
    std::vector<int> order;
    struct Logger {
      std::vector<int>& order;
      int tag;
      ~Logger() { order.push_back(tag); }
    };
    sy::ContextId id = env.create([&] {
      test::Tracked outer(1);
      Logger first{order, 1};
      {
        test::Tracked inner(2);
        Logger second{order, 2};
        sy::switch_to(0);
        FAIL("resumed after destroy");
      }
    });
    env.switch_to(id);
    CHECK(test::Tracked::alive == 2);
    CHECK(order.empty());
    CHECK(env.destroy(id));
    // Destructors ran inside destroy(), innermost first, each once.
    CHECK(order == std::vector<int>{2, 1});
    CHECK(test::Tracked::alive == 0);
    CHECK(test::Tracked::destroyed == 2);
    CHECK(env.live_contexts() == 0);
    CHECK_FALSE(env.state(id).has_value());
  });
}

TEST_CASE("destroy of an unknown, finished or destroyed ID returns false") {
  test::run([](sy::Environment& env) {
    CHECK_FALSE(env.destroy(99));
    sy::ContextId id = env.create([] {});
    CHECK(env.destroy(id));
    CHECK_FALSE(env.destroy(id));
    sy::ContextId failing = env.create([] { throw 3; });
    CHECK_THROWS_AS(env.switch_to(failing), int);
    CHECK_FALSE(env.destroy(failing));
    CHECK(env.stats().destroys == 1);
  });
}

TEST_CASE("destroying main or yourself is invalid_argument and changes nothing") {
  test::run([](sy::Environment& env) {
    try {
      env.destroy(0);
      FAIL("no throw");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::invalid_argument);
    }
    bool self_refused = false, main_refused = false;
    sy::ContextId id = env.create([&] {
      try {
        sy::destroy(sy::active());
      } catch (const sy::Error& e) {
        self_refused = e.code() == sy::errc::invalid_argument;
      }
      try {
        sy::destroy(0);
      } catch (const sy::Error& e) {
        main_refused = e.code() == sy::errc::invalid_argument;
      }
      sy::switch_to(0);
    });
    env.switch_to(id);
    CHECK(self_refused);
    CHECK(main_refused);
    CHECK(env.state(id) == sy::ContextState::suspended);
    CHECK(env.destroy(id));
  });
}

TEST_CASE("a context can destroy another; control comes back to the destroyer") {
  test::run([](sy::Environment& env) {
    sy::ContextId victim = env.create([] {
      test::Tracked t(1);
      sy::switch_to(0);
    });
    env.switch_to(victim);
    bool destroyed = false;
    sy::ContextId killer = env.create([&] {
      CHECK(test::Tracked::alive == 1);
      destroyed = sy::destroy(victim);
      CHECK(test::Tracked::alive == 0);
      CHECK(sy::active() != 0);
      sy::switch_to(0);
    });
    env.switch_to(killer);
    CHECK(destroyed);
    CHECK(env.live_contexts() == 1);
    env.destroy(killer);
  });
}

TEST_CASE("a destroyed context's stack is released and reused") {
  test::run([](sy::Environment& env) {
    for (int i = 0; i < 200; ++i) {
      sy::ContextId id = env.create([] { sy::switch_to(0); });
      env.switch_to(id);
      env.destroy(id);
    }
    sy::Stats stats = env.stats();
    CHECK(stats.live_stacks == 0);
    CHECK(stats.cached_stacks == 1);
    CHECK(sy::mapped_stacks() == 1);
  });
}
