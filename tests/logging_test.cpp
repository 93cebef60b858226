#include "support.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace {
struct CapturedLogger {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous = sy::logger();
  std::shared_ptr<spdlog::logger> logger =
      std::make_shared<spdlog::logger>("switchyard-test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  explicit CapturedLogger(spdlog::level::level_enum level) {
    logger->set_level(level);
    logger->set_pattern("%l %v");
    sy::set_logger(logger);
  }
  ~CapturedLogger() { sy::set_logger(previous); }
};

void lifecycle() {
  sy::run_main([] {
    sy::Environment& env = sy::Environment::current();
    sy::ContextId a = env.create([] { sy::switch_to(0); });
    env.switch_to(a);
    env.destroy(a);
    sy::ContextId b = env.create([] { throw 1; });
    CHECK_THROWS(env.switch_to(b));
    sy::ContextId c = env.create([] { sy::switch_to(0); });
    env.switch_to(c);  // left for teardown
  });
}
}  // namespace

TEST_CASE("the default logger is named switchyard and is quiet below warn") {
  std::shared_ptr<spdlog::logger> log = sy::logger();
  REQUIRE(log);
  CHECK(log->name() == "switchyard");
  CHECK(spdlog::get("switchyard") == log);
  if (std::getenv("SWITCHYARD_LOG_LEVEL") == nullptr) CHECK(log->level() == spdlog::level::warn);
}

TEST_CASE("lifecycle events log at trace and debug") {
  CapturedLogger captured(spdlog::level::trace);
  lifecycle();
  std::string text = captured.out.str();
  CHECK(text.find("trace create context 1") != std::string::npos);
  CHECK(text.find("trace switch 0 -> 1") != std::string::npos);
  CHECK(text.find("trace switch 1 -> 0") != std::string::npos);
  CHECK(text.find("debug destroy context 1: canceling") != std::string::npos);
  CHECK(text.find("debug context 2 failed") != std::string::npos);
  CHECK(text.find("debug teardown: destroying 1 live contexts") != std::string::npos);
}

TEST_CASE("at level off nothing is logged, and the level can change while an environment runs") {
  CapturedLogger captured(spdlog::level::off);
  lifecycle();
  CHECK(captured.out.str().empty());
  test::run([&](sy::Environment& env) {
    sy::ContextId a = env.create([] {
      for (;;) sy::switch_to(0);
    });
    env.switch_to(a);
    CHECK(captured.out.str().empty());
    captured.logger->set_level(spdlog::level::trace);
    env.switch_to(a);
    CHECK(captured.out.str().find("switch 0 -> 1") != std::string::npos);
    env.destroy(a);
  });
}

TEST_CASE("resource exhaustion is logged at warn" * test::forks) {
  CapturedLogger captured(spdlog::level::warn);
  test::ChildResult child = test::run_in_child([&] {
    sy::Options options;
    options.stack_size = std::size_t{1} << 52;  // 4 PiB: more than the address space
    sy::run_main([] {
      try {
        sy::create([] {});
      } catch (const sy::Error& e) {
        if (e.code() != sy::errc::resource_exhausted) std::_Exit(2);
      }
    }, options);
    std::fputs(captured.out.str().c_str(), stderr);
  });
  CHECK(child.exit_code == 0);
  CHECK(child.stderr_text.find("warning create: no stack for context 1") != std::string::npos);
}
