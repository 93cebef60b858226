// Aborts that must happen, each in a child process.
#include "support.hpp"

#include <csignal>
#include <stdexcept>

namespace {
void expect_dropped_cancel_abort(const std::function<void()>& entry) {
  test::ChildResult child = test::run_in_child([&] {
    sy::run_main([&] {
      sy::create([] {});  // context 1: keeps IDs honest
      sy::ContextId id = sy::create(entry);
      sy::switch_to(id);
      sy::destroy(id);
      std::fputs("destroy returned\n", stderr);
    });
  });
  CHECK(child.signal == SIGABRT);
  CHECK(child.stderr_text.find("context 2 was canceled") != std::string::npos);
  CHECK(child.stderr_text.find("ContextCanceled was dropped without being propagated") != std::string::npos);
  CHECK(child.stderr_text.find("destroy returned") == std::string::npos);
}
}  // namespace

TEST_CASE("a swallowed ContextCanceled aborts, naming the context") {
  expect_dropped_cancel_abort([] {
    try {
      sy::switch_to(0);
    } catch (...) {
    }
  });
}

TEST_CASE("a ContextCanceled replaced by another exception aborts, naming the context") {
  expect_dropped_cancel_abort([] {
    try {
      sy::switch_to(0);
    } catch (const sy::ContextCanceled&) {
      throw std::runtime_error("replacement");
    }
  });
}
