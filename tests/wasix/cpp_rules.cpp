// <wasix/context.h> from C++. One program, one scenario per argument, each
// registered by tests/wasix/CMakeLists.txt with the outcome it must have:
//   exceptions  a C++ exception leaving an entrypoint is rethrown in main
//               from its pending wasix_context_switch (exit 0 if all holds)
//   uncaught    ... and if main does not catch it, std::terminate names it
//   returns     an entrypoint that returns: exit code 129, message on stderr
//   exit        exit() in a context: static destructors run, iostreams flush
#include <wasix/context.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"

namespace {

wasix_context_id_t a_id, b_id;

// A RAII object in main must survive everything the scenarios do.
struct MainGuard {
  int alive = 1;
};

void scenario_exceptions() {
  MainGuard guard;
  // Thrown straight from the entrypoint main switched to.
  CHECK_OK(wasix_context_create(&a_id, [] { throw std::runtime_error("thrown by context a"); }));
  try {
    wasix_context_switch(a_id);
    CHECK(false);
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "thrown by context a");
  }
  CHECK_ERRNO(wasix_context_switch(a_id), EINVAL);  // it has ended
  CHECK_OK(wasix_context_destroy(a_id));            // ended counts as deleted

  // Thrown by b, which a switched to: it surfaces in main, not in a.
  CHECK_OK(wasix_context_create(&b_id, [] { throw 42; }));
  CHECK_OK(wasix_context_create(&a_id, [] {
    wasix_context_switch(b_id);
    std::puts("a resumed after b failed");  // by main, later
    for (;;) wasix_context_switch(wasix_context_main);
  }));
  try {
    wasix_context_switch(a_id);
    CHECK(false);
  } catch (int value) {
    CHECK(value == 42);
  }
  CHECK_OK(wasix_context_switch(a_id));  // a is still suspended and usable
  CHECK_OK(wasix_context_destroy(a_id));

  // Exceptions caught inside a context stay there, across switches, and
  // each context has its own exception state. The context lets go of what it
  // owns before it parks for good: destroy discards a WASIX context's stack
  // without running destructors (as wasmer discards a guest stack).
  static bool finish;
  finish = false;
  CHECK_OK(wasix_context_create(&a_id, [] {
    {
      std::vector<std::string> words{"heap", "data", "in", "a", "context"};
      while (!finish) {
        try {
          throw std::logic_error("kept inside");
        } catch (const std::logic_error&) {
          wasix_context_switch(wasix_context_main);  // switch from inside a handler
          CHECK(std::uncaught_exceptions() == 0);
          try {
            throw;  // the exception being handled is still this one
          } catch (const std::logic_error& again) {
            CHECK(std::string(again.what()) == "kept inside");
          }
        }
        CHECK(words.size() == 5 && words[4] == "context");
      }
    }
    for (;;) wasix_context_switch(wasix_context_main);
  }));
  for (int i = 0; i < 3; ++i) {
    CHECK_OK(wasix_context_switch(a_id));
    CHECK(std::current_exception() == nullptr);  // main handles nothing
  }
  finish = true;
  CHECK_OK(wasix_context_switch(a_id));
  CHECK_OK(wasix_context_destroy(a_id));
  CHECK(guard.alive == 1);
}

[[noreturn]] void scenario_uncaught() {
  CHECK_OK(wasix_context_create(&a_id, [] { throw std::runtime_error("nobody catches this"); }));
  wasix_context_switch(a_id);  // rethrows here; main does not catch: terminate
  std::puts("not reached");
  std::exit(0);
}

int scenario_returns() {
  std::cout << "main starts" << std::endl;
  std::cout << "buffered text before the return";  // no flush: exit must flush it
  CHECK_OK(wasix_context_create(&a_id, [] {}));
  wasix_context_switch(a_id);
  std::puts("main resumed: not reached");
  return 0;
}

struct AnnounceAtExit {
  ~AnnounceAtExit() { std::cout << "static destructor ran" << std::endl; }
};
AnnounceAtExit announce_at_exit;

int scenario_exit() {
  CHECK_OK(wasix_context_create(&a_id, [] {
    auto owned = std::make_unique<std::string>("freed before exit");
    owned.reset();
    std::cout << "exiting from context " << a_id;  // unflushed
    std::exit(5);
  }));
  wasix_context_switch(a_id);
  std::puts("main resumed: not reached");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string scenario = argc > 1 ? argv[1] : "";
  if (scenario == "exceptions") {
    scenario_exceptions();
    return check_finish("cpp_rules exceptions");
  }
  if (scenario == "uncaught") scenario_uncaught();
  if (scenario == "returns") return scenario_returns();
  if (scenario == "exit") return scenario_exit();
  std::fprintf(stderr, "usage: %s exceptions|uncaught|returns|exit\n", argv[0]);
  return 2;
}
