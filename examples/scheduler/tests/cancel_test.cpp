// cancel(): the green thread's context is destroyed and its RAII runs once,
// wherever it was parked; and run()'s deadlock clean-up.
#include <chrono>

#include "support.hpp"

using namespace std::chrono_literals;
using test::Tracked;

TEST_CASE("cancel a sleeping thread: RAII runs once, before cancel returns") {
  test::run([] {
    bool woke = false;
    auto sleeper = green::spawn([&] {
      Tracked guard;
      green::sleep_for(1h);
      woke = true;
    });
    green::yield();  // the sleeper starts and parks
    CHECK(Tracked::destroyed == 0);
    const auto start = green::Clock::now();
    CHECK(green::cancel(sleeper));
    CHECK(Tracked::destroyed == 1);
    CHECK(sleeper.done());
    CHECK_THROWS_AS(green::join(sleeper), green::Canceled);
    CHECK_FALSE(green::cancel(sleeper));  // already ended: a no-op
    CHECK(Tracked::destroyed == 1);
    CHECK_FALSE(woke);
    CHECK(green::Clock::now() - start < 1s);  // its timer is gone: run() does not wait an hour
  });
  CHECK(Tracked::destroyed == 1);
}

TEST_CASE("cancel a thread that never started: its body is destroyed, never run") {
  test::run([] {
    bool ran = false;
    Tracked captured;
    auto never = green::spawn([&ran, captured] { ran = true; });
    CHECK(green::cancel(never));
    CHECK_FALSE(ran);
    CHECK(Tracked::destroyed == 1);  // the copy in the body
    CHECK_THROWS_AS(green::join(never), green::Canceled);
  });
}

TEST_CASE("cancel a ready thread that keeps yielding") {
  test::run([] {
    int rounds = 0;
    auto spinner = green::spawn([&] {
      Tracked guard;
      for (;;) {
        ++rounds;
        green::yield();
      }
    });
    while (rounds < 3) green::yield();
    CHECK(green::cancel(spinner));
    CHECK(Tracked::destroyed == 1);
    const int seen = rounds;
    green::yield();
    CHECK(rounds == seen);  // it is out of the ready queue
  });
}

TEST_CASE("cancel a thread blocked in join, then the thread it joined") {
  test::run([] {
    auto sleeper = green::spawn([] {
      Tracked guard;
      green::sleep_for(1h);
    });
    auto joiner = green::spawn([&] {
      Tracked guard;
      green::join(sleeper);
      FAIL("the joiner must not resume");
    });
    green::yield();  // both park: the joiner waits on the sleeper
    CHECK(green::cancel(joiner));
    CHECK(Tracked::destroyed == 1);
    CHECK(green::cancel(sleeper));  // must not wake the canceled joiner
    CHECK(Tracked::destroyed == 2);
  });
}

TEST_CASE("a thread joining a canceled thread gets Canceled") {
  test::run([] {
    auto sleeper = green::spawn([] { green::sleep_for(1h); });
    bool got_canceled = false;
    auto joiner = green::spawn([&] {
      try {
        green::join(sleeper);
      } catch (const green::Canceled&) {
        got_canceled = true;
      }
    });
    green::yield();
    green::cancel(sleeper);
    green::join(joiner);
    CHECK(got_canceled);
  });
}

TEST_CASE("threads left blocked forever are canceled and run() throws Deadlock") {
  Tracked::destroyed = 0;
  switchyard::run_main([] {
    green::Scheduler scheduler;
    green::Channel<int> silent(1);
    try {
      scheduler.run([&] {
        green::spawn([&] {
          Tracked guard;
          silent.recv();
        });
        Tracked guard;
        silent.recv();
      });
      FAIL("run() must throw Deadlock");
    } catch (const green::Deadlock& deadlock) {
      CHECK(deadlock.blocked() == 2);
    }
    CHECK(Tracked::destroyed == 2);
    CHECK(switchyard::Environment::current().live_contexts() == 0);
  }, test::options());
  CHECK(switchyard::mapped_stacks() == 0);
}

TEST_CASE("a scheduler destroyed with threads it never ran discards them") {
  Tracked::destroyed = 0;
  switchyard::run_main([] {
    green::Scheduler scheduler;
    bool ran = false;
    scheduler.spawn([&ran, guard = Tracked()] { ran = true; });
    CHECK(scheduler.stats().live == 1);
  });
  CHECK(Tracked::destroyed == 1);
}
