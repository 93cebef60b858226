// Switch round trip between main and one context through the public API:
// main switch_to(peer), peer switch_to(0). One iteration is two switches.
//
// This file is compiled twice into the same binary: as is, and with
// SWITCHYARD_NO_LOGGING (see bench/CMakeLists.txt). The switch path is
// inline in the headers, so the define removes its logging call site
// without rebuilding the library; "logging/level_off" against
// "logging/no_call_sites" is the price of that call site with the logger
// off. Only Environment members (always inlined) are called on the switch
// path here, so the two copies cannot share an out-of-line inline function
// and blur the comparison; everything is in an anonymous namespace.
#include <switchyard/switchyard.hpp>

#include "bench_support.hpp"

namespace {

namespace sy = switchyard;

template <class Loop>
void switchyard_round_trip(Loop& loop) {
  sy::run_main([&] {
    sy::Environment& env = sy::Environment::current();
    const sy::ContextId peer = env.create([&env] {
      for (;;) env.switch_to(sy::main_context_id);
    });
    env.switch_to(peer);  // the first switch starts it; the rest take the fast path
    loop.run([&] { env.switch_to(peer); });
  });  // teardown cancels the peer: its switch_to throws ContextCanceled
}

#if !defined(SWITCHYARD_NO_LOGGING)
// The free-function shorthand: one TLS load and a null check more.
template <class Loop>
void switchyard_round_trip_free_function(Loop& loop) {
  sy::run_main([&] {
    const sy::ContextId peer = sy::create([] {
      for (;;) sy::switch_to(sy::main_context_id);
    });
    sy::switch_to(peer);
    loop.run([&] { sy::switch_to(peer); });
  });
}
#endif

}  // namespace

#if defined(SWITCHYARD_NO_LOGGING)
SY_BENCHMARK("logging/no_call_sites", switchyard_round_trip);
#else
SY_BENCHMARK("switch/switchyard", switchyard_round_trip);
SY_BENCHMARK("switch/switchyard_free_function", switchyard_round_trip_free_function);
SY_BENCHMARK("logging/level_off", switchyard_round_trip);
#endif
