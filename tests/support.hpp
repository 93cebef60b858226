// Shared test helpers: objects that count their lives, an environment
// check that every test ends with nothing live, and child-process runs for
// death tests and resource limits.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include <switchyard/switchyard.hpp>

namespace sy = switchyard;

namespace test {

#if defined(SWITCHYARD_ASAN)
/// ASan maps its own memory as it goes: tests that exhaust the mapping
/// limit would exhaust ASan first, so they are skipped under it.
inline constexpr bool under_asan = true;
#else
inline constexpr bool under_asan = false;
#endif

#if defined(SWITCHYARD_SWITCH_BACKEND_BOOST) && defined(__x86_64__)
/// Boost.Context's x86-64 switch reloads the whole MXCSR (flags included).
inline constexpr bool boost_switch_on_x86 = true;
#else
inline constexpr bool boost_switch_on_x86 = false;
#endif

/// Marks a test case that forks or starts threads. qemu-user cannot run
/// those, so the aarch64 run leaves this suite out (--test-suite-exclude).
inline const auto forks = doctest::test_suite("forks");

#if defined(SWITCHYARD_TSAN)
/// ThreadSanitizer does not support starting threads in a child forked from
/// a multi-threaded process: such tests run in-process or not at all there.
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif

/// True under valgrind (its preload library is in LD_PRELOAD): its own
/// allocator keeps freed blocks, so RSS says nothing about ours there.
inline bool under_valgrind() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::string(preload).find("vgpreload") != std::string::npos;
}

/// Counts constructions and destructions, so a test can prove that every
/// object on a context's stack was destroyed exactly once.
struct Tracked {
  static inline int alive = 0;
  static inline int destroyed = 0;
  int tag;
  explicit Tracked(int t = 0) : tag(t) { ++alive; }
  Tracked(const Tracked& other) : tag(other.tag) { ++alive; }
  ~Tracked() {
    --alive;
    ++destroyed;
  }
  static void reset() { alive = destroyed = 0; }
};

/// The end-of-test leak check: nothing live in the environment.
inline void check_clean(sy::Environment& env) {
  sy::Stats stats = env.stats();
  CHECK(stats.live_contexts == 0);
  CHECK(stats.live_stacks == 0);
  CHECK(env.contexts().size() == 1);
}

/// Runs `body` in run_main and then checks the process holds no stack
/// mapping and no Tracked object any more.
template <class F>
void run(F&& body, const sy::Options& options = {}) {
  Tracked::reset();
  sy::run_main([&] {
    body(sy::Environment::current());
    check_clean(sy::Environment::current());
  }, options);
  CHECK(sy::mapped_stacks() == 0);
  CHECK(Tracked::alive == 0);
}

struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
  std::string stderr_text;
};

/// Runs `body` in a forked child with stderr captured. The child exits 0
/// if body returns.
inline ChildResult run_in_child(const std::function<void()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 2);
    // doctest's crash handlers are inherited: restore the defaults so the
    // child dies of the signal itself.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTERM}) std::signal(sig, SIG_DFL);
    try {
      body();
    } catch (...) {
      std::fputs("child: uncaught exception\n", stderr);
      std::_Exit(99);
    }
    std::fflush(stderr);
    std::_Exit(0);
  }
  ::close(fds[1]);
  ChildResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) result.stderr_text.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace test
