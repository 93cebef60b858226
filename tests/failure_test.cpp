#include "support.hpp"

#include <stdexcept>

TEST_CASE("an exception leaving a context's entry is rethrown in main's pending switch_to") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create([] {
      test::Tracked t(1);
      throw std::runtime_error("context blew up");
    });
    CHECK_THROWS_WITH_AS(env.switch_to(id), "context blew up", std::runtime_error);
    CHECK(env.active() == 0);
    CHECK(env.live_contexts() == 0);
    CHECK(test::Tracked::alive == 0);
  });
}

TEST_CASE("a failure in a context that main did not switch to directly still reaches main") {
  test::run([](sy::Environment& env) {
    sy::ContextId b = env.create([] { throw 42; });
    sy::ContextId a = env.create([&] {
      sy::switch_to(b);
      FAIL("a must not be resumed by b's failure");
    });
    try {
      env.switch_to(a);
      FAIL("no failure");
    } catch (int value) {
      CHECK(value == 42);
    }
    CHECK(env.state(a) == sy::ContextState::suspended);
    CHECK_FALSE(env.state(b).has_value());
    env.destroy(a);
  });
}

TEST_CASE("an entry that returns is EntrypointReturned in main") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create([] {});
    try {
      env.switch_to(id);
      FAIL("no EntrypointReturned");
    } catch (const sy::EntrypointReturned& e) {
      CHECK(e.id() == id);
      CHECK(std::string(e.what()).find(std::to_string(id)) != std::string::npos);
    }
    CHECK(env.live_contexts() == 0);
    // The environment stays usable.
    sy::ContextId next = env.create([] { sy::switch_to(0); });
    env.switch_to(next);
    env.destroy(next);
  });
}

TEST_CASE("an entry returning after a switch chain ends in main, not in its last switcher") {
  test::run([](sy::Environment& env) {
    sy::ContextId b = env.create([] {});
    sy::ContextId a = env.create([&] {
      sy::switch_to(b);
      FAIL("a resumed");
    });
    CHECK_THROWS_AS(env.switch_to(a), sy::EntrypointReturned);
    env.destroy(a);
  });
}

TEST_CASE("main catches a failure and goes on creating and switching") {
  test::run([](sy::Environment& env) {
    for (int i = 0; i < 100; ++i) {
      sy::ContextId id = env.create([i] {
        if (i % 2) throw std::logic_error("odd");
        sy::switch_to(0);
      });
      if (i % 2) {
        CHECK_THROWS_AS(env.switch_to(id), std::logic_error);
      } else {
        env.switch_to(id);
        env.destroy(id);
      }
    }
    CHECK(env.live_contexts() == 0);
  });
}
