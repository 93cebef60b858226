// The timer queue: deadline order, and a real sleep when everyone sleeps.
#include <time.h>

#include <chrono>

#include "support.hpp"

using namespace std::chrono_literals;
using test::Log;

namespace {

std::chrono::nanoseconds process_cpu_time() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

}  // namespace

TEST_CASE("sleepers wake in deadline order, equal deadlines in FIFO order") {
  Log log;
  test::run([&] {
    const auto base = green::Clock::now() + 5ms;
    const std::pair<const char*, std::chrono::milliseconds> sleepers[] = {
        {"30ms", 30ms}, {"10ms", 10ms}, {"20ms first", 20ms}, {"20ms second", 20ms}, {"0ms", 0ms}};
    for (const auto& [name, delay] : sleepers) {
      green::spawn([&log, name = name, deadline = base + delay] {
        green::sleep_until(deadline);
        CHECK(green::Clock::now() >= deadline);
        log(name);
      });
    }
  });
  CHECK(log.lines == std::vector<std::string>{"0ms", "10ms", "20ms first", "20ms second", "30ms"});
}

TEST_CASE("ready threads run while others sleep") {
  Log log;
  test::run([&] {
    green::spawn([&] {
      green::sleep_for(50ms);  // far longer than the yields take, even on a loaded machine
      log("sleeper woke");
    });
    green::spawn([&] {
      for (int i = 0; i < 100; ++i) green::yield();
      log("yielder done");
    });
  });
  CHECK(log.lines == std::vector<std::string>{"yielder done", "sleeper woke"});
}

TEST_CASE("when every thread sleeps the host thread sleeps instead of spinning") {
  const auto wall_start = std::chrono::steady_clock::now();
  const auto cpu_start = process_cpu_time();
  test::run([] {
    for (int i = 0; i < 4; ++i) green::spawn([] { green::sleep_for(100ms); });
  });
  const auto cpu = process_cpu_time() - cpu_start;
  const auto wall = std::chrono::steady_clock::now() - wall_start;
  MESSAGE("wall " << std::chrono::duration<double, std::milli>(wall).count() << " ms, cpu "
                  << std::chrono::duration<double, std::milli>(cpu).count() << " ms");
  CHECK(wall >= 100ms);
  CHECK(cpu < wall / 5);  // a busy wait would use about all of it
}
