// Aborts that must happen, each in a child process.
#include "support.hpp"

#include <csignal>
#include <memory>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <switchyard/logging.hpp>
#include <exception>
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

TEST_CASE("a swallowed ContextCanceled aborts, naming the context" * test::forks) {
  expect_dropped_cancel_abort([] {
    try {
      sy::switch_to(0);
    } catch (...) {
    }
  });
}

TEST_CASE("a ContextCanceled replaced by another exception aborts, naming the context" * test::forks) {
  expect_dropped_cancel_abort([] {
    try {
      sy::switch_to(0);
    } catch (const sy::ContextCanceled&) {
      throw std::runtime_error("replacement");
    }
  });
}

TEST_CASE("a ContextCanceled dropped in a handler aborts there, even if the context switches again" * test::forks) {
  test::ChildResult child = test::run_in_child([] {
    sy::run_main([] {
      sy::ContextId id = sy::create([] {
        try {
          sy::switch_to(0);
        } catch (...) {
          std::fputs("handler ends\n", stderr);
        }
        std::fputs("after the handler\n", stderr);  // never: the drop aborts first
        sy::switch_to(0);
      });
      sy::switch_to(id);
      sy::destroy(id);
    });
  });
  CHECK(child.signal == SIGABRT);
  CHECK(child.stderr_text.find("handler ends") != std::string::npos);
  CHECK(child.stderr_text.find("context 1 was canceled") != std::string::npos);
  CHECK(child.stderr_text.find("after the handler") == std::string::npos);
}

TEST_CASE("a released exception_ptr holding a ContextCanceled is a drop" * test::forks) {
  test::ChildResult child = test::run_in_child([] {
    sy::run_main([] {
      sy::ContextId id = sy::create([] {
        std::exception_ptr kept;
        try {
          sy::switch_to(0);
        } catch (...) {
          kept = std::current_exception();
        }
        kept = nullptr;  // the last copy goes here
        std::fputs("after the release\n", stderr);
      });
      sy::switch_to(id);
      sy::destroy(id);
    });
  });
  CHECK(child.signal == SIGABRT);
  CHECK(child.stderr_text.find("ContextCanceled was dropped without being propagated") != std::string::npos);
  CHECK(child.stderr_text.find("after the release") == std::string::npos);
}

TEST_CASE("copies of a ContextCanceled are the same cancellation: catch by value and rethrow is fine") {
  test::Tracked::reset();
  sy::run_main([] {
    sy::ContextId id = sy::create([] {
      test::Tracked on_stack(1);
      try {
        sy::switch_to(0);
      } catch (sy::ContextCanceled copy) {  // NOLINT: by value on purpose
        throw copy;  // a new exception object, the same cancellation
      }
    });
    sy::switch_to(id);
    CHECK(sy::destroy(id));
    CHECK(test::Tracked::alive == 0);
  });
}

TEST_CASE("a ContextCanceled meeting a noexcept destructor ends the process naming the context" * test::forks) {
  test::ChildResult child = test::run_in_child([] {
    struct ParksInDestructor {
      ~ParksInDestructor() { sy::switch_to(0); }  // noexcept, implicitly
    };
    sy::run_main([] {
      sy::ContextId id = sy::create([] {
        { ParksInDestructor parks; }
        sy::switch_to(0);
      });
      sy::switch_to(id);  // parks inside the destructor
      sy::destroy(id);
    });
  });
  CHECK(child.signal == SIGABRT);
  CHECK(child.stderr_text.find("context 1 was canceled while parked in switch_to inside a noexcept function") !=
        std::string::npos);
}

namespace {
// A sink that raises SIGUSR1 while switch_to logs its switch, so that the
// handler runs in the middle of that switch_to, deterministically.
struct RaisingSink final : spdlog::sinks::base_sink<std::mutex> {
  void sink_it_(const spdlog::details::log_msg&) override { std::raise(SIGUSR1); }
  void flush_() override {}
};
void switch_from_handler(int) { sy::switch_to(0); }

// Runs `interrupted` in main with trace logging on a RaisingSink, so that a
// signal handler calling switch_to(0) runs inside it: the child must abort
// with the reentry message before "not reached".
template <class F>
void check_reentry_caught(F interrupted) {
  test::ChildResult child = test::run_in_child([&] {
    // An environment takes the logger that is set when it starts.
    auto logger = std::make_shared<spdlog::logger>("switchyard", std::make_shared<RaisingSink>());
    logger->set_level(spdlog::level::off);
    sy::set_logger(logger);
    sy::run_main([&] {
      std::signal(SIGUSR1, switch_from_handler);
      interrupted(*logger);
      std::fputs("not reached\n", stderr);
    });
  });
  CHECK(child.signal == SIGABRT);
  CHECK(child.stderr_text.find("switch_to called in context 0 while a switch_to, create or destroy") !=
        std::string::npos);
  CHECK(child.stderr_text.find("not reached") == std::string::npos);
}
}  // namespace

TEST_CASE("switch_to from a signal handler that interrupted a switch aborts naming the context" * test::forks) {
  check_reentry_caught([](spdlog::logger& logger) {
    sy::ContextId id = sy::create([] { sy::switch_to(0); });
    logger.set_level(spdlog::level::trace);
    sy::switch_to(id);  // logs "switch 0 -> 1" at trace: the signal arrives there
  });
}

TEST_CASE("switch_to from a signal handler that interrupted a create aborts naming the context" * test::forks) {
  check_reentry_caught([](spdlog::logger& logger) {
    logger.set_level(spdlog::level::trace);
    sy::create([] {});  // logs "create context 1" at trace, inside create: the signal arrives there
  });
}
