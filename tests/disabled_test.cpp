#include "support.hpp"

TEST_CASE("disabled mode: the environment exists with only main, contexts are unsupported") {
  sy::Options options;
  options.enabled = false;
  int result = sy::run_main([] {
    sy::Environment& env = sy::Environment::current();
    CHECK(&env == sy::Environment::try_current());
    CHECK(env.active() == 0);
    CHECK_FALSE(env.options().enabled);
    try {
      env.create([] {});
      FAIL("create worked");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::unsupported);
    }
    for (sy::ContextId target : {sy::ContextId{1}, sy::ContextId{2}, sy::ContextId{99}}) {
      try {
        env.switch_to(target);
        FAIL("switch_to worked");
      } catch (const sy::Error& e) {
        CHECK(e.code() == sy::errc::unsupported);
      }
    }
    env.switch_to(0);  // yourself: still a no-op
    CHECK_FALSE(env.destroy(1));  // nothing has that ID
    CHECK_THROWS_AS(env.destroy(0), sy::Error);
    CHECK(env.live_contexts() == 0);
    CHECK(env.stats().creates == 0);
    return 3;
  }, options);
  CHECK(result == 3);
  CHECK(sy::mapped_stacks() == 0);
}

TEST_CASE("disabled mode runs the entry directly on the caller's stack") {
  sy::Options options;
  options.enabled = false;
  int outer = 0;
  const char* outer_address = reinterpret_cast<const char*>(&outer);
  std::ptrdiff_t distance = sy::run_main([&] {
    int inner = 0;
    return outer_address - reinterpret_cast<const char*>(&inner);
  }, options);
  CHECK(std::abs(distance) < 64 * 1024);
}
