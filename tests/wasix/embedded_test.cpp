// <wasix/context.h> next to the C++ API: what an embedder (a host such as
// examples/wasi_host) relies on, and the implicit environment's lifetime
// observed through switchyard's own counters.
#include <wasix/context.h>

#include <cerrno>
#include <thread>

#include "support.hpp"

namespace {

void parks() {
  for (;;) wasix_context_switch(wasix_context_main);
}
void returns() {}

}  // namespace

TEST_CASE("inside run_main, WASIX calls act on the embedder's environment") {
  test::run([](sy::Environment& env) {
    wasix_context_id_t id = 0;
    REQUIRE(wasix_context_create(&id, parks) == 0);
    CHECK(id == 1);
    CHECK(env.state(id) == sy::ContextState::created);
    CHECK(wasix_context_switch(id) == 0);
    CHECK(env.state(id) == sy::ContextState::suspended);
    CHECK(wasix_context_destroy(id) == 0);
    CHECK(env.live_contexts() == 0);
  });
}

TEST_CASE("inside run_main, a returned entrypoint is rethrown to the embedder instead of exit(129)") {
  test::run([](sy::Environment&) {
    wasix_context_id_t id = 0;
    REQUIRE(wasix_context_create(&id, returns) == 0);
    try {
      wasix_context_switch(id);
      FAIL("no EntrypointReturned");
    } catch (const sy::EntrypointReturned& e) {
      CHECK(e.id() == id);
    }
  });
}

TEST_CASE("inside a disabled environment, WASIX calls fail with ENOTSUP") {
  sy::Options options;
  options.enabled = false;
  sy::run_main([] {
    wasix_context_id_t id = 0;
    errno = 0;
    CHECK(wasix_context_create(&id, parks) == -1);
    CHECK(errno == ENOTSUP);
    errno = 0;
    CHECK(wasix_context_switch(1) == -1);
    CHECK(errno == ENOTSUP);
    CHECK(wasix_context_switch(wasix_context_main) == 0);
  }, options);
}

TEST_CASE("a thread's implicit environment is released at thread exit") {
  REQUIRE(sy::mapped_stacks() == 0);
  std::size_t live_in_thread = 0;
  std::thread([&] {
    wasix_context_id_t id = 0;
    for (int i = 0; i < 20; ++i) {
      REQUIRE(wasix_context_create(&id, parks) == 0);
      if (i % 2 == 0) REQUIRE(wasix_context_switch(id) == 0);
    }
    live_in_thread = sy::Environment::current().live_contexts();
    CHECK(sy::mapped_stacks() == 20);
  }).join();
  CHECK(live_in_thread == 20);
  CHECK(sy::mapped_stacks() == 0);
}

TEST_CASE("an implicit environment blocks run_main on its thread; a fresh thread may run_main") {
  std::thread([] {
    CHECK(wasix_context_switch(wasix_context_main) == 0);  // makes the implicit environment
    CHECK(sy::Environment::try_current() != nullptr);
    CHECK_THROWS_AS(sy::run_main([] {}), sy::Error);
  }).join();
  std::thread([] {
    CHECK(sy::Environment::try_current() == nullptr);
    sy::run_main([] { CHECK(wasix_context_switch(wasix_context_main) == 0); });
    CHECK(sy::Environment::try_current() == nullptr);
    // After run_main, the next WASIX call makes an implicit environment whose
    // IDs start again at 1.
    wasix_context_id_t id = 0;
    CHECK(wasix_context_create(&id, parks) == 0);
    CHECK(id == 1);
  }).join();
  CHECK(sy::mapped_stacks() == 0);
}
