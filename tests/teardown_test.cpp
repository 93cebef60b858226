#include "support.hpp"

#include <pthread.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

TEST_CASE("run_main returns the entry's value and destroys what is left, newest first") {
  test::Tracked::reset();
  std::vector<int> order;
  struct Logger {
    std::vector<int>& order;
    int tag;
    ~Logger() { order.push_back(tag); }
  };
  int result = sy::run_main([&] {
    for (int i = 1; i <= 3; ++i) {
      sy::ContextId id = sy::create([&order, i] {
        Logger log{order, i};
        test::Tracked t(i);
        sy::switch_to(0);
      });
      sy::switch_to(id);
    }
    sy::create([] { FAIL("an unstarted context must not run at teardown"); });
    CHECK(test::Tracked::alive == 3);
    return 17;
  });
  CHECK(result == 17);
  CHECK(order == std::vector<int>{3, 2, 1});
  CHECK(test::Tracked::alive == 0);
  CHECK(sy::mapped_stacks() == 0);
  CHECK(sy::Environment::try_current() == nullptr);
}

TEST_CASE("an exception leaving the main entry leaves run_main after teardown") {
  test::Tracked::reset();
  CHECK_THROWS_WITH_AS(sy::run_main([] {
                         sy::ContextId id = sy::create([] {
                           test::Tracked t(1);
                           sy::switch_to(0);
                         });
                         sy::switch_to(id);
                         throw std::runtime_error("main failed");
                       }),
                       "main failed", std::runtime_error);
  CHECK(test::Tracked::alive == 0);
  CHECK(sy::mapped_stacks() == 0);
  CHECK(sy::Environment::try_current() == nullptr);
}

TEST_CASE("run_main inside run_main is already_running, from main and from a context") {
  sy::run_main([] {
    try {
      sy::run_main([] {});
      FAIL("nested run_main");
    } catch (const sy::Error& e) {
      CHECK(e.code() == sy::errc::already_running);
    }
    bool refused = false;
    sy::ContextId id = sy::create([&] {
      try {
        sy::run_main([] {});
      } catch (const sy::Error& e) {
        refused = e.code() == sy::errc::already_running;
      }
      sy::switch_to(0);
    });
    sy::switch_to(id);
    CHECK(refused);
  });
}

TEST_CASE("run_main can run again on the same thread, with fresh IDs") {
  for (int round = 0; round < 3; ++round) {
    sy::ContextId first = sy::run_main([] {
      sy::ContextId id = sy::create([] { sy::switch_to(0); });
      sy::switch_to(id);
      return id;
    });
    CHECK(first == 1);
  }
  CHECK(sy::mapped_stacks() == 0);
}

TEST_CASE("run_main returns references and move-only values") {
  int target = 5;
  int& ref = sy::run_main([&]() -> int& { return target; });
  CHECK(&ref == &target);
  auto owned = sy::run_main([] { return std::make_unique<int>(9); });
  CHECK(*owned == 9);
}

TEST_CASE("contexts created during teardown are torn down too") {
  test::Tracked::reset();
  sy::run_main([] {
    struct SpawnOnExit {
      ~SpawnOnExit() {
        sy::ContextId late = sy::create([] { test::Tracked t; });
        (void)late;
      }
    };
    sy::ContextId id = sy::create([] {
      SpawnOnExit spawn;
      sy::switch_to(0);
    });
    sy::switch_to(id);
  });
  CHECK(sy::mapped_stacks() == 0);
  CHECK(test::Tracked::alive == 0);
}

namespace {
// pthread_exit in a context's C entry would be a forced unwind on a context
// stack; this one only parks, so teardown releases it without running it.
void parked_c_entry(void*) {
  for (;;) sy::switch_to(0);
}

// A thread that enters run_main, makes a started C++ context (an object on
// its stack), a started C context and an unstarted one, then leaves through
// pthread_exit or a pthread_cancel at a cancellation point.
struct ForcedExit {
  bool cancel = false;
  int pipe_fds[2] = {-1, -1};
  bool after_exit = false;  // code after pthread_exit / the blocking read ran
  bool live_before = false;

  static void* thread_main(void* arg) {
    auto* self = static_cast<ForcedExit*>(arg);
    ::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, nullptr);  // acted on only at the read below
    sy::run_main([self] {
      sy::Environment& env = sy::Environment::current();
      sy::ContextId cpp = env.create([] {
        test::Tracked on_stack(1);
        for (;;) sy::switch_to(0);
      });
      env.switch_to(cpp);
      env.switch_to(env.create_c(parked_c_entry, nullptr));
      env.create([] {});
      self->live_before = env.live_contexts() == 3 && test::Tracked::alive == 1;
      if (self->cancel) {
        ::pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, nullptr);
        char byte;
        (void)::read(self->pipe_fds[0], &byte, 1);  // a cancellation point; nothing is ever written
      } else {
        ::pthread_exit(nullptr);
      }
      self->after_exit = true;
    });
    self->after_exit = true;
    return nullptr;
  }
};
}  // namespace

TEST_CASE("pthread_exit and pthread_cancel pass through run_main and its environment is torn down" * test::forks) {
  for (bool cancel : {false, true}) {
    CAPTURE(cancel);
    test::Tracked::reset();
    ForcedExit state;
    state.cancel = cancel;
    REQUIRE(::pipe(state.pipe_fds) == 0);
    pthread_t thread;
    REQUIRE(::pthread_create(&thread, nullptr, &ForcedExit::thread_main, &state) == 0);
    if (cancel) REQUIRE(::pthread_cancel(thread) == 0);
    void* result = nullptr;
    REQUIRE(::pthread_join(thread, &result) == 0);  // used to abort: "FATAL: exception not rethrown"
    CHECK(result == (cancel ? PTHREAD_CANCELED : nullptr));
    CHECK(state.live_before);
    CHECK_FALSE(state.after_exit);
    CHECK(test::Tracked::alive == 0);  // the C++ context was unwound
    CHECK(test::Tracked::destroyed == 1);
    CHECK(sy::mapped_stacks() == 0);
    ::close(state.pipe_fds[0]);
    ::close(state.pipe_fds[1]);
  }
}
