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

TEST_CASE("a stack overflow faults on the guard page instead of corrupting memory") {
  test::ChildResult child = test::run_in_child([] {
    sy::Options options;
    options.stack_size = 64 * 1024;
    sy::run_main([] {
      sy::ContextId id = sy::create([] {
        struct Recurse {
          static int down(int n) {
            volatile char frame[512];
            frame[0] = static_cast<char>(n);
            return frame[0] + down(n + 1);
          }
        };
        Recurse::down(0);
      });
      sy::switch_to(id);
    }, options);
  });
  CHECK_FALSE(child.exited);
  CHECK(child.signal == SIGSEGV);
}
