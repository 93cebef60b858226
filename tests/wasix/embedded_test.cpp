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

namespace {
// Results of the WASIX calls a thread_local destructor makes after the
// thread's implicit environment was released.
struct LateResults {
  int create = 0, create_errno = 0, switch_main = -2, switch_other = 0, switch_errno = 0, destroy = -2;
  bool environment_after = true;
};
LateResults late_results;

struct LateUser {
  wasix_context_id_t id = 0;  // made by the thread before it exits
  ~LateUser() {
    wasix_context_id_t fresh = 0;
    errno = 0;
    late_results.create = wasix_context_create(&fresh, parks);
    late_results.create_errno = errno;
    late_results.switch_main = wasix_context_switch(wasix_context_main);
    errno = 0;
    late_results.switch_other = wasix_context_switch(id);
    late_results.switch_errno = errno;
    late_results.destroy = wasix_context_destroy(id);
    late_results.environment_after = sy::Environment::try_current() != nullptr;
  }
};
thread_local LateUser late_user;
}  // namespace

TEST_CASE("WASIX calls after the implicit environment's release make no second environment") {
  REQUIRE(sy::mapped_stacks() == 0);
  std::thread([] {
    late_user.id = 0;  // constructed before the implicit environment, so destroyed after it
    REQUIRE(wasix_context_create(&late_user.id, parks) == 0);
    REQUIRE(wasix_context_switch(late_user.id) == 0);
  }).join();
  // Before: the destructor's create made a second environment (a 1 MiB stack
  // and a table) that nothing released.
  CHECK(sy::mapped_stacks() == 0);
  CHECK(late_results.create == -1);
  CHECK(late_results.create_errno == ECANCELED);
  CHECK(late_results.switch_main == 0);   // main is the active context: a no-op
  CHECK(late_results.switch_other == -1);  // nothing is suspended any more
  CHECK(late_results.switch_errno == EINVAL);
  CHECK(late_results.destroy == 0);  // already released: a no-op
  CHECK_FALSE(late_results.environment_after);
}
