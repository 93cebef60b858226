// The portable stack switch: switchyard_swap and switchyard_prepare (see
// include/switchyard/detail/stack_switch.hpp) on Boost.Context's fcontext,
// for every architecture without a native switch, and selectable everywhere
// with -DSWITCHYARD_SWITCH_BACKEND=boost.
//
// Boost's jump hands the lander the jumper's suspended context; the lander
// stores it where the jumper asked (Handoff::save). Differences from the
// native switch, documented in docs/SEMANTICS.md: on x86-64 Boost reloads the
// whole MXCSR on every jump (sticky flags included, so mismatched flags cost
// a reload each way); on aarch64 Boost keeps no FPCR, so it is kept here.
#include <boost/context/detail/fcontext.hpp>

#include <cstdint>

namespace bctx = boost::context::detail;

extern "C" [[noreturn]] void switchyard_context_main(void* from);

namespace {

struct Handoff {
  void** save;     // where the lander stores the jumper's context
  void* transfer;  // returned by switchyard_swap on the resumed side
};

#if defined(__aarch64__)
inline std::uint64_t read_fpcr() noexcept {
  std::uint64_t value;
  asm volatile("mrs %0, fpcr" : "=r"(value));
  return value;
}
inline void write_fpcr(std::uint64_t value) noexcept { asm volatile("msr fpcr, %0" : : "r"(value)); }
#endif

void land(bctx::transfer_t from) noexcept {
  auto* handoff = static_cast<Handoff*>(from.data);
  *handoff->save = from.fctx;
}

void trampoline(bctx::transfer_t from) noexcept {
  auto* handoff = static_cast<Handoff*>(from.data);
  void* transfer = handoff->transfer;
  land(from);
  switchyard_context_main(transfer);
}

}  // namespace

extern "C" __attribute__((visibility("hidden"))) void* switchyard_swap(void** save, void* const* resume,
                                                                       void* transfer) {
#if defined(__aarch64__)
  const std::uint64_t fpcr = read_fpcr();
#endif
  Handoff handoff{save, transfer};
  bctx::transfer_t from = bctx::jump_fcontext(static_cast<bctx::fcontext_t>(*resume), &handoff);
  auto* arrived = static_cast<Handoff*>(from.data);
  void* result = arrived->transfer;
  land(from);
#if defined(__aarch64__)
  if (read_fpcr() != fpcr) write_fpcr(fpcr);
#endif
  return result;
}

extern "C" __attribute__((visibility("hidden"))) void switchyard_prepare(void** record, void* top) {
  // make_fcontext needs a size only to find the bottom on some platforms;
  // the frame it builds is small, and the caller leaves room below `top`.
  constexpr std::size_t frame_room = 4096;
  *record = bctx::make_fcontext(top, frame_room, trampoline);
}
