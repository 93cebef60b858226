// Floating-point control state is per context (rounding mode, and on
// x86-64 the x87 control word too); status flags are not part of it.
// Single-threaded and fork-free: runs under qemu-user too.
#include <cfenv>

#if defined(__x86_64__)
#include <fpu_control.h>
#endif

#include "support.hpp"

namespace {

// Divisions whose results depend on the rounding mode; volatile keeps the
// compiler from folding them with round-to-nearest or dropping them. To
// nearest, 1/3 rounds down and 1/10 rounds up: so upward changes the first,
// downward the second.
double divide(double a, double b) {
  volatile double x = a;
  volatile double y = b;
  volatile double q = x / y;
  return q;
}
double third() { return divide(1.0, 3.0); }
double tenth() { return divide(1.0, 10.0); }

struct RoundingReset {
  ~RoundingReset() {
    std::fesetround(FE_TONEAREST);
    std::feclearexcept(FE_ALL_EXCEPT);
  }
};

}  // namespace

TEST_CASE("a rounding mode set in a context stays in that context and does not leak") {
  RoundingReset reset;
  test::run([](sy::Environment& env) {
    const double nearest = tenth();
    double seen_down = 0;
    int mode_in_context = -1;
    const sy::ContextId downward = env.create([&] {
      std::fesetround(FE_DOWNWARD);
      seen_down = tenth();
      env.switch_to(sy::main_context_id);
      mode_in_context = std::fegetround();  // after main changed its own mode
      seen_down = tenth();
      env.switch_to(sy::main_context_id);
    });
    env.switch_to(downward);
    CHECK(std::fegetround() == FE_TONEAREST);  // did not leak into main
    CHECK(tenth() == nearest);
#if defined(__x86_64__)
    fpu_control_t cw;
    _FPU_GETCW(cw);
    CHECK((cw & 0x0C00) == 0);  // x87 rounding: nearest in main
#endif
    std::fesetround(FE_UPWARD);
    env.switch_to(downward);
    CHECK(mode_in_context == FE_DOWNWARD);  // survived the switches
    CHECK(std::fegetround() == FE_UPWARD);  // main's own mode came back
    CHECK(seen_down < nearest);
    const double third_up = third();
    std::fesetround(FE_TONEAREST);
    CHECK(third_up > third());
    env.destroy(downward);
  });
}

TEST_CASE("a new context starts with the control state of the context that created it") {
  RoundingReset reset;
  test::run([](sy::Environment& env) {
    std::fesetround(FE_TOWARDZERO);
    int mode = -1;
    const sy::ContextId child = env.create([&] {
      mode = std::fegetround();
      std::fesetround(FE_UPWARD);
      env.switch_to(sy::main_context_id);
    });
    env.switch_to(child);
    CHECK(mode == FE_TOWARDZERO);
    CHECK(std::fegetround() == FE_TOWARDZERO);
    std::fesetround(FE_TONEAREST);
    env.destroy(child);
  });
}

// The native switch never reloads the status flags (the psABI makes them
// caller-saved); Boost.Context's x86-64 switch reloads the whole MXCSR, so
// there a switch brings back the flags the other side had.
TEST_CASE("status flags are not part of a context's state: a switch leaves them alone" *
          doctest::skip(test::boost_switch_on_x86)) {
  RoundingReset reset;
  test::run([](sy::Environment& env) {
    std::feclearexcept(FE_ALL_EXCEPT);
    bool inexact_in_context = true;
    const sy::ContextId peer = env.create([&] {
      inexact_in_context = std::fetestexcept(FE_INEXACT) != 0;
      std::feclearexcept(FE_ALL_EXCEPT);
      for (;;) {
        env.switch_to(sy::main_context_id);
        inexact_in_context = std::fetestexcept(FE_INEXACT) != 0;
        std::feclearexcept(FE_ALL_EXCEPT);
      }
    });
    env.switch_to(peer);
    CHECK_FALSE(inexact_in_context);
    (void)third();  // raises FE_INEXACT here, in main
    REQUIRE(std::fetestexcept(FE_INEXACT) != 0);
    env.switch_to(peer);
    CHECK(inexact_in_context);  // the flags travelled with the thread
    CHECK(std::fetestexcept(FE_INEXACT) == 0);  // the peer cleared them
    env.destroy(peer);
  });
}
