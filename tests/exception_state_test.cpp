#include "support.hpp"

#include <switchyard/detail/exception_state.hpp>
#include <switchyard/detail/stack_switch.hpp>
#include <switchyard/switchyard.h>

#include <exception>
#include <stdexcept>

TEST_CASE("switch_to inside a catch handler keeps each context's current exception") {
  test::run([](sy::Environment& env) {
    std::string seen_in_context, seen_in_main_after;
    sy::ContextId id = env.create([&] {
      try {
        throw std::runtime_error("context's");
      } catch (...) {
        sy::switch_to(0);
        try {
          throw;  // rethrows the context's own exception, not main's
        } catch (const std::runtime_error& e) {
          seen_in_context = e.what();
        }
      }
      sy::switch_to(0);
    });
    try {
      throw std::logic_error("main's");
    } catch (...) {
      env.switch_to(id);  // context is now suspended inside its handler
      CHECK(std::current_exception() != nullptr);
      try {
        throw;
      } catch (const std::logic_error& e) {
        seen_in_main_after = e.what();
      }
      env.switch_to(id);
    }
    CHECK(seen_in_context == "context's");
    CHECK(seen_in_main_after == "main's");
    CHECK(std::current_exception() == nullptr);
    env.destroy(id);
  });
}

// The landing that takes back main's parked exception state also delivers a
// failure: main's own handler must be back in place before the failure is
// thrown, so that both handlers end cleanly.
TEST_CASE("a failure delivered to main inside a catch handler leaves main's handler intact") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create([] { throw std::out_of_range("context's failure"); });
    std::string delivered, own_after;
    try {
      throw std::logic_error("main's");
    } catch (...) {
      try {
        env.switch_to(id);  // main parks its exception state; the landing delivers the failure
      } catch (const std::out_of_range& e) {
        delivered = e.what();
        CHECK(std::uncaught_exceptions() == 0);
      }
      try {
        throw;  // main's own exception again
      } catch (const std::logic_error& e) {
        own_after = e.what();
      }
    }
    CHECK(delivered == "context's failure");
    CHECK(own_after == "main's");
    CHECK(std::current_exception() == nullptr);
    CHECK(env.live_contexts() == 0);
  });
}

TEST_CASE("a context starts with no current exception even when main is in a handler") {
  test::run([](sy::Environment& env) {
    bool had_exception = true;
    int uncaught = -1;
    sy::ContextId id = env.create([&] {
      had_exception = std::current_exception() != nullptr;
      uncaught = std::uncaught_exceptions();
      sy::switch_to(0);
    });
    try {
      throw 1;
    } catch (int) {
      env.switch_to(id);
    }
    CHECK_FALSE(had_exception);
    CHECK(uncaught == 0);
    env.destroy(id);
  });
}

TEST_CASE("std::uncaught_exceptions is per context: a destructor switching during unwinding") {
  test::run([](sy::Environment& env) {
    int in_main = -1, in_destructor_before = -1, in_destructor_after = -1;
    sy::ContextId observer = env.create([&] {
      for (;;) {
        in_main = std::uncaught_exceptions();
        sy::switch_to(0);
      }
    });
    // main's view from inside a context while a context is mid-unwind
    sy::ContextId unwinding = env.create([&] {
      struct SwitchOnUnwind {
        int& before;
        int& after;
        sy::ContextId observer;
        ~SwitchOnUnwind() {
          before = std::uncaught_exceptions();
          sy::switch_to(observer);  // the observer sees its own count: 0
          after = std::uncaught_exceptions();
        }
      };
      try {
        SwitchOnUnwind s{in_destructor_before, in_destructor_after, observer};
        throw std::runtime_error("unwinding");
      } catch (const std::runtime_error&) {
      }
      sy::switch_to(0);
    });
    env.switch_to(unwinding);   // runs until the observer switches to main
    CHECK(in_destructor_before == 1);
    CHECK(in_main == 0);
    CHECK(std::uncaught_exceptions() == 0);
    env.switch_to(unwinding);   // finishes the unwind, then back to main
    CHECK(in_destructor_after == 1);
    env.destroy(unwinding);
    env.destroy(observer);
  });
}

TEST_CASE("destroying a context suspended inside a catch handler ends its handler cleanly") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create([] {
      try {
        throw test::Tracked(5);
      } catch (const test::Tracked&) {
        sy::switch_to(0);
      }
    });
    env.switch_to(id);
    CHECK(test::Tracked::alive == 1);  // the exception object
    env.destroy(id);
    CHECK(test::Tracked::alive == 0);
    CHECK(std::current_exception() == nullptr);
  });
}

namespace {
// Takes the calling handler's caught-exception chain away, as if its stack
// had been abandoned: the handlers still on this stack then end with
// nothing to end (__cxa_end_catch on an empty chain returns at once).
sy::detail::ExceptionState take_caught_exceptions() {
  sy::detail::ExceptionState* live = sy::detail::thread_exception_state();
  sy::detail::ExceptionState saved = *live;
  *live = {};
  return saved;
}
}  // namespace

TEST_CASE("release_caught_exceptions frees a caught exception, nested ones and a dependent rethrow") {
  test::Tracked::reset();
  try {
    throw test::Tracked(1);
  } catch (const test::Tracked&) {
    sy::detail::ExceptionState saved = take_caught_exceptions();
    CHECK(saved.caught_exceptions != nullptr);
    CHECK(test::Tracked::alive == 1);
    sy::detail::release_caught_exceptions(saved);
    CHECK(test::Tracked::alive == 0);
    CHECK(saved.caught_exceptions == nullptr);
  }
  CHECK(std::current_exception() == nullptr);

  // Two on the chain (an exception caught inside another's handler), the
  // inner one caught by two nested handlers.
  try {
    throw test::Tracked(2);
  } catch (const test::Tracked&) {
    try {
      try {
        throw test::Tracked(3);
      } catch (...) {
        throw;  // caught again below: one chain entry, two handlers
      }
    } catch (const test::Tracked&) {
      CHECK(test::Tracked::alive == 2);
      sy::detail::ExceptionState saved = take_caught_exceptions();
      sy::detail::release_caught_exceptions(saved);
      CHECK(test::Tracked::alive == 0);
    }
  }

  // A dependent exception (std::rethrow_exception) drops its reference
  // only: the exception_ptr keeps the object.
  std::exception_ptr held = std::make_exception_ptr(test::Tracked(4));
  try {
    std::rethrow_exception(held);
  } catch (const test::Tracked&) {
    sy::detail::ExceptionState saved = take_caught_exceptions();
    sy::detail::release_caught_exceptions(saved);
    CHECK(test::Tracked::alive == 1);
  }
  held = nullptr;
  CHECK(test::Tracked::alive == 0);
  sy::detail::ExceptionState empty;
  sy::detail::release_caught_exceptions(empty);  // nothing to do
}

namespace {
void throws_catches_parks(void*) {
  try {
    throw test::Tracked(7);
  } catch (const test::Tracked&) {
    sy_switch_to(0);  // parked inside the handler: destroy releases the stack here
  }
  for (;;) sy_switch_to(0);
}
}  // namespace

TEST_CASE("destroying a C context parked inside a catch handler frees the caught exception") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = env.create_c(throws_catches_parks, nullptr);
    env.switch_to(id);
    CHECK(test::Tracked::alive == 1);
    CHECK(env.destroy(id));  // no unwind: C frames
    CHECK(test::Tracked::alive == 0);  // it leaked before (valgrind/LeakSanitizer: the exception's allocation)
    CHECK(std::current_exception() == nullptr);
  });
}
