#include "support.hpp"

TEST_CASE("contexts() lists main first, then live contexts oldest to newest, with states") {
  test::run([](sy::Environment& env) {
    sy::ContextId a = env.create([] { sy::switch_to(0); });
    sy::ContextId b = env.create([] { sy::switch_to(0); });
    sy::ContextId c = env.create([] { sy::switch_to(0); });
    env.switch_to(b);
    std::vector<sy::ContextInfo> all = env.contexts();
    REQUIRE(all.size() == 4);
    CHECK(all[0].id == 0);
    CHECK(all[0].state == sy::ContextState::running);
    CHECK(all[1].id == a);
    CHECK(all[1].state == sy::ContextState::created);
    CHECK(all[2].id == b);
    CHECK(all[2].state == sy::ContextState::suspended);
    CHECK(all[3].id == c);
    CHECK_FALSE(all[3].canceled);
    env.destroy(b);
    all = env.contexts();
    REQUIRE(all.size() == 3);
    CHECK(all[2].id == c);
    CHECK(env.state(0) == sy::ContextState::running);
    CHECK_FALSE(env.state(b).has_value());
    env.destroy(a);
    env.destroy(c);
  });
}

TEST_CASE("stats count creates, switches and destroys") {
  test::run([](sy::Environment& env) {
    sy::ContextId a = env.create([] {
      for (;;) sy::switch_to(0);
    });
    for (int i = 0; i < 10; ++i) env.switch_to(a);
    sy::ContextId b = env.create([] {});
    sy::Stats s = env.stats();
    CHECK(s.creates == 2);
    CHECK(s.switches == 20);
    CHECK(s.destroys == 0);
    CHECK(s.live_contexts == 2);
    CHECK(s.live_stacks == 2);
    env.destroy(a);
    env.destroy(b);
    s = env.stats();
    CHECK(s.destroys == 2);
    CHECK(s.live_contexts == 0);
    CHECK(s.cached_stacks == 2);
  });
}

TEST_CASE("a context sees itself running and its destroyer awaiting destroy while it unwinds") {
  test::run([](sy::Environment& env) {
    sy::ContextState main_state{}, own_state{};
    bool own_canceled = false;
    sy::ContextId id = env.create([&] {
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled&) {
        sy::Environment& e = sy::Environment::current();
        main_state = *e.state(0);
        own_state = *e.state(e.active());
        own_canceled = e.contexts().back().canceled;
        throw;
      }
    });
    env.switch_to(id);
    env.destroy(id);
    CHECK(main_state == sy::ContextState::awaiting_destroy);
    CHECK(own_state == sy::ContextState::running);
    CHECK(own_canceled);
    CHECK(env.state(0) == sy::ContextState::running);
  });
}

TEST_CASE("while create constructs the entry, the creating context reads as running") {
  // create marks its caller busy (so that a signal handler calling in is
  // caught) through the record's state; introspection must not see that.
  test::run([](sy::Environment& env) {
    struct Probe {
      sy::Environment* env;
      std::vector<std::optional<sy::ContextState>>* seen;
      Probe(sy::Environment* e, std::vector<std::optional<sy::ContextState>>* s) : env(e), seen(s) {}
      Probe(const Probe& other) : env(other.env), seen(other.seen) {
        seen->push_back(env->state(env->active()));
        seen->push_back(env->contexts().front().state);
      }
      void operator()() const {}
    };
    std::vector<std::optional<sy::ContextState>> seen;
    const Probe probe(&env, &seen);
    sy::ContextId in_main = env.create(probe);  // copies the probe inside create
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == sy::ContextState::running);
    CHECK(seen[1] == sy::ContextState::running);
    // And from a context: its own state, while it creates another.
    seen.clear();
    sy::ContextId creator = env.create([&env, &probe] {
      sy::ContextId inner = env.create(probe);
      env.destroy(inner);
      sy::switch_to(0);
    });
    env.switch_to(creator);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == sy::ContextState::running);
    CHECK(env.state(creator) == sy::ContextState::suspended);
    CHECK(env.state(0) == sy::ContextState::running);
    env.destroy(creator);
    env.destroy(in_main);
  });
}
