// The portable stack switch on Boost.Context's fcontext, for every
// architecture without a native switch, and selectable everywhere with
// -DSWITCHYARD_SWITCH_BACKEND=boost. The swap itself is inline
// (StackSwitch::swap in include/switchyard/detail/stack_switch.hpp); this
// file holds switchyard_prepare and a context's first frame. Differences
// from the native switch, documented in docs/SEMANTICS.md: on x86-64 Boost
// reloads the whole MXCSR on every jump (sticky flags included, so
// mismatched flags cost a reload each way); on aarch64 Boost keeps no FPCR,
// so the swap keeps it.
#include "switchyard/detail/stack_switch.hpp"

namespace bctx = boost::context::detail;

namespace {

using switchyard::detail::StackSwitch;

// The first landing on a context's stack: what the swap does after its jump,
// then the context's run.
void trampoline(bctx::transfer_t from) noexcept { switchyard_context_main(StackSwitch::Handoff::land(from)); }

}  // namespace

extern "C" __attribute__((visibility("hidden"))) void switchyard_prepare(void** record, void* top) {
  // make_fcontext needs a size only to find the bottom on some platforms;
  // the frame it builds is small, and the caller leaves room below `top`.
  constexpr std::size_t frame_room = 4096;
  *record = bctx::make_fcontext(top, frame_room, trampoline);
}
