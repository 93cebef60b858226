// What the native x86-64 switch's floating-point work costs, priced against
// the bare swap (x86-64, native backend only). Each case is the round trip
// of switch/switchyard with nothing of the environment around it: two
// records and a stack, main -> peer -> main, one iteration per round trip.
//  - switch_price/swap: switchyard_swap alone; the control state in both
//    records is never stored again, so the swap's compare reads old values.
//  - switch_price/stmxcsr_no_compare: plus stmxcsr and fnstcw on every leave
//    (as Boost.Context and switch_to do), through a copy of the swap without
//    its compare (bench/swap_without_fp_x86_64.S): the price of reading the
//    control state.
//  - switch_price/stmxcsr_compare: plus the compare, which reads back what
//    stmxcsr stored: what switch_to does, and what per-context control
//    state without the reload cliff needs (switch_fp_mismatch/*).
// Compare with switch/boost_context_fiber (stmxcsr, fnstcw, ldmxcsr and
// fldcw on every switch, no compare) and switch/switchyard (this plus the
// environment's bookkeeping), run in the same process.
#include <switchyard/switchyard.hpp>

#include <sys/mman.h>

#include <cstdlib>
#include <new>

#include "bench_support.hpp"

extern "C" void* bench_swap_without_fp(void** save, void* const* resume, void* transfer);

namespace {

namespace d = switchyard::detail;
using Swap = void* (*)(void**, void* const*, void*);

struct Pair {
  d::Context main{0};
  d::Context* peer = nullptr;
  Swap swap = nullptr;
  bool save = false;
};
Pair* pair = nullptr;  // the running case's

SWITCHYARD_ALWAYS_INLINE void leave(d::Context* self, d::Context* next) {
  if (pair->save) d::StackSwitch::save_fp(self);
  pair->swap(&self->sp, &next->sp, next);
}

// The peer's first frame: entered by the swap's jump to `resume`, as if
// called (rsp % 16 == 8); never returns.
[[noreturn]] void peer_loop() {
  for (;;) leave(pair->peer, &pair->main);
}

template <class Loop>
void price(Loop& loop, Swap swap, bool save) {
  constexpr std::size_t stack_size = 64 * 1024;
  void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) std::abort();
  char* top = static_cast<char*>(stack) + stack_size - d::record_area_size;
  Pair p;
  p.peer = ::new (top) d::Context(1);
  p.swap = swap;
  p.save = save;
  d::StackSwitch::save_fp(&p.main);  // both records hold the current control state
  d::StackSwitch::save_fp(p.peer);
  p.peer->sp = top - 16;  // the first resume adds 8 and jumps: rsp % 16 == 8 at entry
  p.peer->resume = reinterpret_cast<void*>(&peer_loop);
  pair = &p;
  leave(&p.main, p.peer);  // starts the peer, which switches straight back
  loop.run([&p] { leave(&p.main, p.peer); });
  pair = nullptr;
  munmap(stack, stack_size);  // the peer stays parked in its loop; nothing on its stack to release
}

template <class Loop>
void swap_only(Loop& loop) {
  price(loop, switchyard_swap, false);
}
template <class Loop>
void stmxcsr_no_compare(Loop& loop) {
  price(loop, bench_swap_without_fp, true);
}
template <class Loop>
void stmxcsr_compare(Loop& loop) {
  price(loop, switchyard_swap, true);
}

}  // namespace

SY_BENCHMARK("switch_price/swap", swap_only);
SY_BENCHMARK("switch_price/stmxcsr_no_compare", stmxcsr_no_compare);
SY_BENCHMARK("switch_price/stmxcsr_compare", stmxcsr_compare);
