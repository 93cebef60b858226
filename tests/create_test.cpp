#include "support.hpp"

#include <functional>
#include <string>

TEST_CASE("create leaves the context suspended without running its entry") {
  test::run([](sy::Environment& env) {
    bool ran = false;
    sy::ContextId id = env.create([&] {
      ran = true;
      sy::switch_to(0);
    });
    CHECK(id == 1);
    CHECK_FALSE(ran);
    CHECK(env.active() == 0);
    CHECK(env.state(id) == sy::ContextState::created);
    env.switch_to(id);
    CHECK(ran);
    CHECK(env.destroy(id));
  });
}

TEST_CASE("IDs count up from 1 and are never reused") {
  test::run([](sy::Environment& env) {
    sy::ContextId a = env.create([] {});
    sy::ContextId b = env.create([] {});
    CHECK(a == 1);
    CHECK(b == 2);
    env.destroy(b);
    env.destroy(a);
    sy::ContextId c = env.create([] {});
    CHECK(c == 3);
    env.destroy(c);
  });
}

TEST_CASE("the entry runs on its own stack, not main's") {
  test::run([](sy::Environment& env) {
    int on_main = 0;
    const char* main_address = reinterpret_cast<const char*>(&on_main);
    const char* context_address = nullptr;
    sy::ContextId id = env.create([&] {
      int local = 0;
      context_address = reinterpret_cast<const char*>(&local);
      sy::switch_to(0);
    });
    env.switch_to(id);
    REQUIRE(context_address != nullptr);
    std::ptrdiff_t distance = main_address - context_address;
    CHECK(std::abs(distance) > static_cast<std::ptrdiff_t>(env.options().stack_size) / 2);
    env.destroy(id);
  });
}

TEST_CASE("contexts can create contexts, and move-only entries are accepted") {
  test::run([](sy::Environment& env) {
    auto owned = std::make_unique<int>(41);
    sy::ContextId inner = 0;
    sy::ContextId outer = env.create([&, p = std::move(owned)]() mutable {
      inner = sy::create([q = std::move(p)] {
        ++*q;
        sy::switch_to(0);
      });
      sy::switch_to(inner);
    });
    env.switch_to(outer);
    CHECK(inner == 2);
    CHECK(env.active() == 0);
    CHECK(env.live_contexts() == 2);
    CHECK(env.state(outer) == sy::ContextState::suspended);
    CHECK(env.state(inner) == sy::ContextState::suspended);
    env.destroy(inner);
    env.destroy(outer);
  });
}

TEST_CASE("std::function entries work as the API shows them") {
  test::run([](sy::Environment& env) {
    int calls = 0;
    std::function<void()> entry = [&] {
      ++calls;
      sy::switch_to(0);
    };
    sy::ContextId id = env.create(entry);
    env.switch_to(id);
    CHECK(calls == 1);
    env.destroy(id);
  });
}

namespace {
void plain_entry() { sy::switch_to(0); }
}  // namespace

TEST_CASE("a null entry is invalid_argument at create, not a crash at the first switch") {
  test::run([](sy::Environment& env) {
    auto expect_invalid = [&](auto&& entry) {
      try {
        env.create(std::forward<decltype(entry)>(entry));
        FAIL("a null entry was accepted");
      } catch (const sy::Error& e) {
        CHECK(e.code() == sy::errc::invalid_argument);
        CHECK(std::string(e.what()).find("null function pointer or an empty function object") != std::string::npos);
      }
    };
    void (*null_pointer)() = nullptr;
    expect_invalid(null_pointer);
    expect_invalid(std::function<void()>());
    std::function<void()> empty;
    expect_invalid(empty);
    CHECK(env.live_contexts() == 0);
    // Non-null entries of the same types are fine; a refused create used no ID.
    void (*pointer)() = plain_entry;
    sy::ContextId a = env.create(pointer);
    sy::ContextId b = env.create(std::function<void()>(plain_entry));
    sy::ContextId c = env.create(plain_entry);  // a function reference: never null, not compared
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(c == 3);
    for (sy::ContextId id : {a, b, c}) env.switch_to(id);
    for (sy::ContextId id : {a, b, c}) env.destroy(id);
  });
}
