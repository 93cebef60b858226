// The out-of-line half of the switch room (see
// include/switchyard/detail/stack_switch.hpp): a context's first frame, its
// first landing and its last leave, and the sanitizer bookkeeping of each.
#include "switchyard/detail/stack_switch.hpp"

#if defined(SWITCHYARD_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace switchyard::detail {

void StackSwitch::prepare(Context* context, void* top, std::size_t size) noexcept {
  [[maybe_unused]] char* bottom = static_cast<char*>(top) - size;
#if defined(SWITCHYARD_ASAN)
  // A reused stack may still carry poison from frames that never returned
  // (the previous owner's entry frames): clear it.
  __asan_unpoison_memory_region(bottom, size);
  context->asan_bottom = bottom;
  context->asan_size = size;
#endif
#if defined(SWITCHYARD_TSAN)
  context->tsan_fiber = __tsan_create_fiber(0);
#endif
  switchyard_prepare(&context->sp, top);
  save_fp(context);  // a context starts with its creator's control state
}

void StackSwitch::park_exceptions(Context* self, ExceptionState* eh) noexcept {
  self->eh = *eh;
  *eh = ExceptionState{};
  self->attention = true;
}

void StackSwitch::land_first(SwitchState& state, Context* self) noexcept {
  self->state = ContextState::running;
  *state.eh_globals = ExceptionState{};
  after_land(state, self);
}

void StackSwitch::exit_to(SwitchState& state, Context* self, Context* next) noexcept {
  state.current = next;
  *state.eh_globals = ExceptionState{};  // the lander finds the thread's empty (see ExceptionState)
  save_fp(self);                         // the swap compares it with next's
  // nullptr: this stack's fake frames die with it.
  before_leave(state, self, next, nullptr);
  swap(&self->sp, &next->sp, next);  // the record outlives this: the lander reaps it
  __builtin_trap();  // nothing resumes an ended context
}

void StackSwitch::init_main([[maybe_unused]] Context* main) noexcept {
#if defined(SWITCHYARD_TSAN)
  main->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void StackSwitch::release([[maybe_unused]] Context* context) noexcept {
#if defined(SWITCHYARD_TSAN)
  if (context->tsan_fiber != nullptr) __tsan_destroy_fiber(context->tsan_fiber);
  context->tsan_fiber = nullptr;
#endif
}

}  // namespace switchyard::detail
