#include "support.hpp"

#include <stdexcept>

TEST_CASE("the pending switch_to of a destroyed context throws ContextCanceled carrying its ID") {
  test::run([](sy::Environment& env) {
    sy::ContextId seen = 0;
    bool reached_entry_end = false;
    sy::ContextId id = env.create([&] {
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled& c) {
        seen = c.id();
        throw;
      }
      reached_entry_end = true;
    });
    env.switch_to(id);
    CHECK(env.destroy(id));
    CHECK(seen == id);
    CHECK_FALSE(reached_entry_end);
  });
}

TEST_CASE("ContextCanceled passes through catch (std::exception&)") {
  test::run([](sy::Environment& env) {
    bool caught_as_std = false;
    sy::ContextId id = env.create([&] {
      try {
        sy::switch_to(0);
      } catch (const std::exception&) {
        caught_as_std = true;
      }
    });
    env.switch_to(id);
    env.destroy(id);
    CHECK_FALSE(caught_as_std);
  });
}

TEST_CASE("a canceled context that calls switch_to again gets ContextCanceled again") {
  test::run([](sy::Environment& env) {
    int cancels = 0;
    sy::ContextId other = env.create([] { sy::switch_to(0); });
    sy::ContextId id = env.create([&] {
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled&) {
        ++cancels;
        try {
          sy::switch_to(other);  // a valid target, still refused
        } catch (const sy::ContextCanceled&) {
          ++cancels;
        }
        try {
          sy::switch_to(sy::active());  // even the self no-op
        } catch (const sy::ContextCanceled&) {
          ++cancels;
        }
        throw;
      }
    });
    env.switch_to(id);
    env.destroy(id);
    CHECK(cancels == 3);
    env.destroy(other);
  });
}

TEST_CASE("destructors of a canceled context may destroy other contexts") {
  test::run([](sy::Environment& env) {
    sy::ContextId inner = env.create([] {
      test::Tracked t(2);
      sy::switch_to(0);
    });
    env.switch_to(inner);
    struct DestroyOnExit {
      sy::ContextId target;
      ~DestroyOnExit() { sy::destroy(target); }
    };
    sy::ContextId outer = env.create([&] {
      test::Tracked t(1);
      DestroyOnExit guard{inner};
      sy::switch_to(0);
    });
    env.switch_to(outer);
    CHECK(test::Tracked::alive == 2);
    env.destroy(outer);
    CHECK(test::Tracked::alive == 0);
    CHECK(env.live_contexts() == 0);
  });
}

TEST_CASE("a context waiting in destroy cannot be destroyed by its victim") {
  test::run([](sy::Environment& env) {
    sy::ContextId killer = 0;
    bool refused = false;
    struct TryDestroy {
      sy::ContextId& target;
      bool& refused;
      ~TryDestroy() {
        try {
          sy::destroy(target);
        } catch (const sy::Error& e) {
          refused = e.code() == sy::errc::invalid_argument &&
                    sy::Environment::current().state(target) == sy::ContextState::awaiting_destroy;
        }
      }
    };
    sy::ContextId victim = env.create([&] {
      TryDestroy guard{killer, refused};
      sy::switch_to(0);
    });
    env.switch_to(victim);
    killer = env.create([&] {
      sy::destroy(victim);
      sy::switch_to(0);
    });
    env.switch_to(killer);
    CHECK(refused);
    env.destroy(killer);
  });
}

TEST_CASE("defuse() lets a context swallow its cancellation deliberately") {
  test::run([](sy::Environment& env) {
    bool after_swallow = false;
    sy::ContextId id = env.create([&] {
      test::Tracked t(1);
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled& c) {
        c.defuse();
      }
      after_swallow = true;
      // Returning now ends the canceled context quietly.
    });
    env.switch_to(id);
    CHECK(env.destroy(id));
    CHECK(after_swallow);
    CHECK(test::Tracked::alive == 0);
  });
}

TEST_CASE("an exception thrown after defuse() is rethrown by destroy once the context is released") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create([&] {
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled& c) {
        c.defuse();
        throw std::runtime_error("cleanup failed");
      }
    });
    env.switch_to(id);
    CHECK_THROWS_WITH_AS(env.destroy(id), "cleanup failed", std::runtime_error);
    CHECK(env.live_contexts() == 0);
    CHECK_FALSE(env.destroy(id));
  });
}
