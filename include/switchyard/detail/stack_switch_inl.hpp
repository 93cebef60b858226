// Inline bodies of detail::StackSwitch that need the complete Environment.
#pragma once

#include "switchyard/environment.hpp"

namespace switchyard::detail {

SWITCHYARD_ALWAYS_INLINE void StackSwitch::after_land([[maybe_unused]] Environment& env,
                                                      [[maybe_unused]] Context* self) noexcept {
#if defined(SWITCHYARD_ASAN)
  __sanitizer_finish_switch_fiber(self->asan_fake_stack, &env.from_->asan_bottom, &env.from_->asan_size);
#endif
}

SWITCHYARD_ALWAYS_INLINE void StackSwitch::jump(Environment& env, Context* self, Context* next) {
  env.from_ = self;
  env.current_ = next;
  ExceptionState* eh = env.eh_globals_;
  self->eh = *eh;
#if !defined(SWITCHYARD_NO_LOGGING)
  if (SWITCHYARD_UNLIKELY(env.log_->should_log(spdlog::level::trace))) log_switch(env.log_, self->id, next->id);
#endif
  before_leave(self, next);
  env.from_->cont = std::move(next->cont).resume();
  *eh = self->eh;
  after_land(env, self);
  if (SWITCHYARD_UNLIKELY(env.attention_)) env.on_attention();
}

}  // namespace switchyard::detail
