// The round trip as embedders see it, and the floating-point cliff:
//  - switch/c_api, switch/wasix: main -> context -> main through the C API
//    (sy_switch_to) and through <wasix/context.h>: out-of-line calls, as a
//    WASI-like host or a C program makes them. Compare with
//    switch/switchyard, the inline C++ switch_to.
//  - switch_fp_mismatch/*: the same round trip after one inexact division
//    in main, so main's MXCSR status flags differ from the peer's. A switch
//    that reloads the whole MXCSR changes the register on every switch (a
//    cliff on CPUs where that is slow); ours compares control bits only.
//  - switch/gnu_pth: GNU Pth's pth_uctx_switch, one more packaged peer.
#include <pth.h>

#include <boost/context/fiber.hpp>
#include <cfenv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <switchyard/switchyard.h>
#include <switchyard/switchyard.hpp>
#include <wasix/context.h>

#include "bench_support.hpp"

namespace {

namespace sy = switchyard;
namespace ctx = boost::context;

void c_peer(void*) {
  for (;;) sy_switch_to(0);
}

template <class Loop>
void c_api_round_trip(Loop& loop) {
  struct Args {
    Loop* loop;
  } args{&loop};
  int result = 0;
  const sy_status status = sy_run_main(
      [](void* raw) -> int {
        Loop& loop = *static_cast<Args*>(raw)->loop;
        sy_context_id peer;
        if (sy_create(c_peer, nullptr, &peer) != SY_OK) return 1;
        sy_switch_to(peer);
        loop.run([peer] { sy_switch_to(peer); });
        return 0;
      },
      &args, nullptr, &result);
  if (status != SY_OK || result != 0) {
    std::fprintf(stderr, "c_api bench: %s\n", sy_last_error());
    std::abort();
  }
}

void wasix_peer() {
  for (;;) wasix_context_switch(wasix_context_main);
}

// On a thread of its own: the implicit environment a program written for
// WASIX gets lives until its thread exits, and the benchmark thread must
// stay free for the run_main of the other cases (hence real time).
template <class Loop>
void wasix_round_trip(Loop& loop) {
  std::thread program([&loop] {
    wasix_context_id_t peer;
    if (wasix_context_create(&peer, wasix_peer) != 0) std::abort();
    wasix_context_switch(peer);
    loop.run([peer] { wasix_context_switch(peer); });
    wasix_context_destroy(peer);
  });
  program.join();
}

// Raises FE_INEXACT in the calling context (a volatile division).
void raise_inexact() {
  volatile double one = 1.0;
  volatile double three = 3.0;
  volatile double third = one / three;
  (void)third;
}

template <class Loop>
void switchyard_fp_mismatch(Loop& loop) {
  sy::run_main([&] {
    sy::Environment& env = sy::Environment::current();
    const sy::ContextId peer = env.create([&env] {
      std::feclearexcept(FE_ALL_EXCEPT);  // the peer's flags: clear
      for (;;) env.switch_to(sy::main_context_id);
    });
    env.switch_to(peer);
    raise_inexact();  // main's flags: inexact
    loop.run([&] { env.switch_to(peer); });
  });
  std::feclearexcept(FE_ALL_EXCEPT);
}

template <class Loop>
void boost_context_fp_mismatch(Loop& loop) {
  bool stop = false;
  ctx::fiber peer{[&stop](ctx::fiber&& caller) {
    std::feclearexcept(FE_ALL_EXCEPT);
    while (!stop) caller = std::move(caller).resume();
    return std::move(caller);
  }};
  peer = std::move(peer).resume();
  raise_inexact();
  loop.run([&] { peer = std::move(peer).resume(); });
  stop = true;
  peer = std::move(peer).resume();
  std::feclearexcept(FE_ALL_EXCEPT);
}

// GNU Pth's user-space contexts (pth_uctx_*): makecontext/swapcontext-like,
// without the signal-mask system call when sigmask is NULL.
pth_uctx_t pth_main;
pth_uctx_t pth_peer;

void pth_peer_loop(void*) {
  for (;;) pth_uctx_switch(pth_peer, pth_main);
}

template <class Loop>
void gnu_pth_round_trip(Loop& loop) {
  constexpr std::size_t stack_size = 256 << 10;
  auto stack = std::make_unique<char[]>(stack_size);
  if (!pth_uctx_create(&pth_main) || !pth_uctx_create(&pth_peer) ||
      !pth_uctx_make(pth_peer, stack.get(), stack_size, nullptr, pth_peer_loop, nullptr, nullptr)) {
    std::perror("pth_uctx");
    std::abort();
  }
  pth_uctx_switch(pth_main, pth_peer);
  loop.run([] { pth_uctx_switch(pth_main, pth_peer); });
  // The peer stays parked; its frames hold nothing to release.
  pth_uctx_destroy(pth_peer);
  pth_uctx_destroy(pth_main);
}

}  // namespace

SY_BENCHMARK("switch/c_api", c_api_round_trip);
SY_BENCHMARK("switch/wasix", wasix_round_trip)->UseRealTime();
// The same, timed as CPU time of the process (the program's thread; the
// benchmark thread only waits in join): comparable with the CPU time of the
// inline switch_to, where wall time also counts the VM's steal time.
SY_BENCHMARK_TIMED("switch/wasix_cpu", wasix_round_trip)->MeasureProcessCPUTime();
SY_BENCHMARK("switch_fp_mismatch/switchyard", switchyard_fp_mismatch);
SY_BENCHMARK("switch_fp_mismatch/boost_context_fiber", boost_context_fp_mismatch);
SY_BENCHMARK("switch/gnu_pth", gnu_pth_round_trip);
