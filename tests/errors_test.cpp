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
  CHECK(std::string(e.what()).find("no stack for context 3") != std::string::npos);
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
