// The C API seen from C++: what C cannot observe (stack counts, C++
// contexts calling through the C API, exceptions at the boundary).
#include <switchyard/switchyard.h>

#include <pthread.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

namespace {

bool mentions(const char* text) { return std::strstr(sy_last_error(), text) != nullptr; }

void park_in_main(void*) {
  for (;;) sy_switch_to(0);
}

void throws_from_c_entry(void*) { throw std::runtime_error("thrown through a C entry"); }

int call_cpp(void* body) {
  (*static_cast<std::function<void()>*>(body))();
  return 0;
}

// sy_run_main with a C++ body, for the tests below.
sy_status run_c_main(std::function<void()> body, const sy_options* options = nullptr) {
  return sy_run_main(call_cpp, &body, options, nullptr);
}

}  // namespace

TEST_CASE("sy_run_main tears down every context and leaves no stack mapped") {
  int result = 0;
  auto main_fn = [](void*) -> int {
    sy_context_id id;
    for (int i = 0; i < 10; ++i) {
      REQUIRE(sy_create(park_in_main, nullptr, &id) == SY_OK);
      if (i % 3 == 0) REQUIRE(sy_switch_to(id) == SY_OK);
    }
    CHECK(sy::Environment::current().live_contexts() == 10);
    return 9;
  };
  CHECK(sy_run_main(main_fn, nullptr, nullptr, &result) == SY_OK);
  CHECK(result == 9);
  CHECK(sy::mapped_stacks() == 0);
  CHECK(sy::Environment::try_current() == nullptr);
}

TEST_CASE("sy_destroy of a started C context releases its stack at once") {
  CHECK(run_c_main([] {
          sy::Environment& env = sy::Environment::current();
          sy_context_id id;
          REQUIRE(sy_create(park_in_main, nullptr, &id) == SY_OK);
          REQUIRE(sy_switch_to(id) == SY_OK);
          CHECK(env.stats().live_stacks == 1);
          CHECK(sy_destroy(id) == SY_OK);
          CHECK(env.stats().live_stacks == 0);
          CHECK(env.live_contexts() == 0);
        }) == SY_OK);
  CHECK(sy::mapped_stacks() == 0);
}

TEST_CASE("the C API works inside a C++ run_main, and sy_run_main cannot nest in it") {
  test::run([](sy::Environment& env) {
    int result = -1;
    CHECK(sy_run_main([](void*) { return 1; }, nullptr, nullptr, &result) == SY_EALREADY);
    CHECK(result == -1);
    CHECK(mentions("already runs environment"));
    sy_context_id id;
    REQUIRE(sy_create(park_in_main, nullptr, &id) == SY_OK);
    CHECK(env.state(id) == sy::ContextState::created);
    CHECK(sy_switch_to(id) == SY_OK);
    CHECK(env.state(id) == sy::ContextState::suspended);
    CHECK(sy_destroy(id) == SY_OK);
  });
}

TEST_CASE("a C++ context destroyed while in sy_switch_to gets SY_ECANCELED and may return") {
  test::run([](sy::Environment& env) {
    sy_status first = SY_OK, second = SY_OK;
    std::string message;
    sy::ContextId id = env.create([&] {
      test::Tracked guard(1);
      first = sy_switch_to(0);
      message = sy_last_error();
      second = sy_switch_to(0);  // still canceled: no switch happens
      // Returning is how a context told SY_ECANCELED ends: quietly.
    });
    env.switch_to(id);
    CHECK(test::Tracked::alive == 1);
    CHECK(env.destroy(id));
    CHECK(first == SY_ECANCELED);
    CHECK(second == SY_ECANCELED);
    CHECK(message.find("context 1 is being destroyed") != std::string::npos);
    CHECK(test::Tracked::alive == 0);
    CHECK(env.live_contexts() == 0);
  });
}

TEST_CASE("a stored ContextCanceled rethrown by another context is SY_EFAILED in main, not SY_ECANCELED") {
  test::run([](sy::Environment& env) {
    std::exception_ptr stored;
    sy::ContextId victim = env.create([&] {
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled&) {
        stored = std::current_exception();
        throw;  // propagates to the entry: a proper cancellation
      }
    });
    env.switch_to(victim);
    CHECK(env.destroy(victim));
    REQUIRE(stored != nullptr);
    sy::ContextId thrower = env.create([&] { std::rethrow_exception(stored); });
    CHECK(sy_switch_to(thrower) == SY_EFAILED);  // was SY_ECANCELED ("return from its entry now")
    CHECK(mentions("sy_switch_to(2) in context 0: a context failed and has ended"));
    CHECK(mentions("ContextCanceled of context 1"));
    CHECK(env.live_contexts() == 0);
    // Main itself goes on: nothing canceled it.
    sy_context_id active = 99;
    CHECK(sy_active(&active) == SY_OK);
    CHECK(active == 0);
    try {
      std::rethrow_exception(stored);
    } catch (const sy::ContextCanceled& c) {
      CHECK_FALSE(c.is_for_caller());
      c.defuse();  // a no-op here; keeps the stored copy from counting as dropped
    }
    stored = nullptr;
  });
}

TEST_CASE("sy_destroy unwinds a C++ context, and reports a failure of its unwind") {
  test::run([](sy::Environment& env) {
    sy::ContextId plain = env.create([] {
      test::Tracked guard(2);
      sy::switch_to(0);
    });
    env.switch_to(plain);
    CHECK(test::Tracked::alive == 1);
    CHECK(sy_destroy(plain) == SY_OK);
    CHECK(test::Tracked::alive == 0);

    sy::ContextId stubborn = env.create([] {
      try {
        sy::switch_to(0);
      } catch (const sy::ContextCanceled& c) {
        c.defuse();
        throw std::logic_error("refused to die quietly");
      }
    });
    env.switch_to(stubborn);
    CHECK(sy_destroy(stubborn) == SY_EFAILED);
    CHECK(mentions("sy_destroy(2) in context 0"));
    CHECK(mentions("refused to die quietly"));
    CHECK(env.live_contexts() == 0);
  });
}

TEST_CASE("failures of contexts reach main's sy_switch_to as statuses") {
  test::run([](sy::Environment& env) {
    sy_context_id c_id;
    REQUIRE(sy_create(throws_from_c_entry, nullptr, &c_id) == SY_OK);
    CHECK(sy_switch_to(c_id) == SY_EFAILED);
    CHECK(mentions("sy_switch_to(1) in context 0"));
    CHECK(mentions("thrown through a C entry"));

    sy::ContextId cpp_id = env.create([] { throw 17; });
    CHECK(sy_switch_to(cpp_id) == SY_EFAILED);
    CHECK(mentions("unknown type"));

    sy::ContextId returns = env.create([] {});
    CHECK(sy_switch_to(returns) == SY_EENTRYRETURNED);
    CHECK(mentions("context 3 returned from its entry"));
    CHECK(env.live_contexts() == 0);
  });
}

TEST_CASE("no exception leaves sy_run_main: every switchyard error maps to its status") {
  struct Case {
    sy::errc code;
    sy_status status;
  };
  const Case cases[] = {
      {sy::errc::no_environment, SY_ENOENV},        {sy::errc::wrong_thread, SY_EWRONGTHREAD},
      {sy::errc::switch_target_missing, SY_ENOTARGET}, {sy::errc::invalid_argument, SY_EINVAL},
      {sy::errc::unsupported, SY_ENOTSUP},          {sy::errc::already_running, SY_EALREADY},
      {sy::errc::resource_exhausted, SY_ENOMEM},
  };
  for (const Case& c : cases) {
    sy_status status = SY_OK;
    CHECK_NOTHROW(status = run_c_main([&] { throw sy::Error(c.code, "mapped error"); }));
    CHECK(status == c.status);
    CHECK(mentions("sy_run_main: mapped error"));
  }
  CHECK(run_c_main([] { throw std::bad_alloc(); }) == SY_ENOMEM);
  CHECK(run_c_main([] { throw std::runtime_error("main fell over"); }) == SY_EFAILED);
  CHECK(mentions("sy_run_main: an exception left its main function: main fell over"));
  CHECK(run_c_main([] { throw sy::EntrypointReturned(4); }) == SY_EENTRYRETURNED);
  CHECK(mentions("context 4 returned"));
  CHECK(sy::mapped_stacks() == 0);
}

TEST_CASE("sy_create reports an exhausted stack allocator as SY_ENOMEM and stays usable") {
  sy_options options;
  sy_options_init(&options);
  options.stack_size = std::size_t{1} << 47;  // more than the address space
  CHECK(run_c_main(
            [] {
              sy_context_id id = 0;
              CHECK(sy_create(park_in_main, nullptr, &id) == SY_ENOMEM);
              CHECK(mentions("cannot allocate a context stack"));
              CHECK(sy::Environment::current().live_contexts() == 0);
            },
            &options) == SY_OK);
}

TEST_CASE("sy_last_error is per thread") {
  CHECK(sy_switch_to(5) == SY_ENOENV);
  std::string other;
  std::thread([&] {
    other = sy_last_error();
    CHECK(sy_destroy(3) == SY_ENOENV);
  }).join();
  CHECK(other.empty());
  CHECK(mentions("sy_switch_to(5)"));
}

TEST_CASE("sy_create with an unmappable stack size is SY_ENOMEM, and the environment goes on") {
  for (std::size_t size : {SIZE_MAX, SIZE_MAX - 4095, std::size_t{1} << 62}) {
    CAPTURE(size);
    sy_options options;
    sy_options_init(&options);
    options.stack_size = size;
    const sy_status status = run_c_main(
        [] {
          sy_context_id id = 0;
          CHECK(sy_create(park_in_main, nullptr, &id) == SY_ENOMEM);
          CHECK(mentions("cannot be mapped"));
          sy_context_id active = 1;
          CHECK(sy_active(&active) == SY_OK);
          CHECK(active == 0);
        },
        &options);
    CHECK(status == SY_OK);
    CHECK(sy::mapped_stacks() == 0);
  }
}

TEST_CASE("error texts state the facts of the call") {
  // No environment: there is no context 0 to name.
  CHECK(sy_switch_to(5) == SY_ENOENV);
  CHECK(mentions("sy_switch_to(5) outside any environment: no switchyard environment on thread"));
  CHECK_FALSE(mentions("in context"));
  // Error::what() is the message of the call, without the category's text.
  CHECK(run_c_main([] {
          sy_context_id id = 0;
          CHECK(sy_switch_to(9) == SY_ENOTARGET);
          CHECK(std::string(sy_last_error()) ==
                "sy_switch_to(9) in context 0: switch_to 9: no such context (never created, finished or destroyed)");
          REQUIRE(sy_create(park_in_main, nullptr, &id) == SY_OK);
          CHECK(sy_switch_to(id) == SY_OK);
          CHECK(sy_destroy(0) == SY_EINVAL);
          CHECK(std::string(sy_last_error()) ==
                "sy_destroy(0) in context 0: destroy: the main context (0) cannot be destroyed");
        }) == SY_OK);
}

TEST_CASE("pthread_exit inside sy_run_main ends the thread and releases the environment") {
  static bool after_exit = false;
  static bool live_before = false;
  auto thread_main = [](void*) -> void* {
    int result = -1;
    sy_status status = sy_run_main(
        [](void*) -> int {
          sy_context_id started = 0, unstarted = 0;
          if (sy_create(park_in_main, nullptr, &started) != SY_OK || sy_switch_to(started) != SY_OK) return 1;
          if (sy_create(park_in_main, nullptr, &unstarted) != SY_OK) return 1;
          live_before = sy::Environment::current().live_contexts() == 2 && sy::mapped_stacks() == 2;
          ::pthread_exit(reinterpret_cast<void*>(7));
        },
        nullptr, nullptr, &result);
    after_exit = true;
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(status));
  };
  pthread_t thread;
  REQUIRE(::pthread_create(&thread, nullptr, thread_main, nullptr) == 0);
  void* value = nullptr;
  REQUIRE(::pthread_join(thread, &value) == 0);  // used to abort: "FATAL: exception not rethrown"
  CHECK(value == reinterpret_cast<void*>(7));
  CHECK(live_before);
  CHECK_FALSE(after_exit);
  CHECK(sy::mapped_stacks() == 0);
}
