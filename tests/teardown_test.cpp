#include "support.hpp"

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
