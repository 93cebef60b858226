#include "support.hpp"

#include <system_error>

TEST_CASE("Error is a std::system_error in the switchyard category") {
  sy::Error e(sy::errc::resource_exhausted, "no stack for context 3");
  const std::system_error& base = e;
  CHECK(base.code() == sy::errc::resource_exhausted);
  CHECK(base.code() != sy::errc::wrong_thread);
  CHECK(base.code().category() == sy::error_category());
  CHECK(std::string(base.code().category().name()) == "switchyard");
  CHECK(e.value() == sy::errc::resource_exhausted);
  CHECK(std::string(e.what()) == "no stack for context 3");  // the facts only, no category text appended
  CHECK(e.code().message() == "resource exhausted");
  sy::Error copy = e;
  CHECK(std::string(copy.what()) == "no stack for context 3");
}

TEST_CASE("error texts do not contradict the call") {
  // std::system_error appends the category's generic text; these used to read
  // "...disabled in this environment (Options::enabled = false): unsupported
  // (contexts are disabled)" and, for a second executor, "...: an environment
  // is already running on this thread".
  sy::Options disabled;
  disabled.enabled = false;
  sy::run_main([] {
    try {
      sy::create([] {});
      FAIL("create in disabled mode must throw");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::unsupported);
      CHECK(std::string(e.what()) ==
            "create: contexts are disabled in this environment (Options::enabled = false)");
    }
  }, disabled);
  try {
    sy::run_main([] { sy::run_main([] {}); });
    FAIL("nested run_main must throw");
  } catch (const sy::Error& e) {
    CHECK(e.code() == sy::errc::already_running);
    const std::string text = e.what();
    CHECK(text.rfind("run_main: thread ", 0) == 0);
    CHECK(text.find("(run_main cannot nest)") == text.size() - std::string("(run_main cannot nest)").size());
  }
  for (sy::errc code : {sy::errc::unsupported, sy::errc::already_running}) {
    std::error_code ec = code;
    CHECK(ec.message().find("disabled") == std::string::npos);
    CHECK(ec.message().find("environment") == std::string::npos);
  }
}

TEST_CASE("an Error made from a code alone carries the category's message") {
  sy::Error e(sy::errc::wrong_thread);
  CHECK(e.code() == sy::errc::wrong_thread);
  CHECK(std::string(e.what()).find("wrong thread") != std::string::npos);
}

TEST_CASE("every errc has a message") {
  for (sy::errc code : {sy::errc::no_environment, sy::errc::wrong_thread, sy::errc::switch_target_missing,
                        sy::errc::invalid_argument, sy::errc::unsupported, sy::errc::already_running,
                        sy::errc::resource_exhausted}) {
    std::error_code ec = code;
    CHECK_FALSE(ec.message().empty());
    CHECK(ec.message().find("unknown") == std::string::npos);
  }
}

TEST_CASE("the free functions work on the current environment") {
  test::run([](sy::Environment& env) {
    sy::ContextId id = sy::create([] { sy::switch_to(0); });
    CHECK(sy::active() == 0);
    sy::switch_to(id);
    CHECK(sy::destroy(id));
    CHECK(env.live_contexts() == 0);
  });
  CHECK_THROWS_AS(sy::active(), sy::Error);
}
