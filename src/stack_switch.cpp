// The out-of-line half of the one place that switches stacks (see
// include/switchyard/detail/stack_switch.hpp): a context's first entry, its
// end, and the sanitizer bookkeeping around both.
#include "switchyard/detail/stack_switch.hpp"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "switchyard/environment.hpp"

#if defined(SWITCHYARD_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace switchyard::detail {

namespace {

[[noreturn]] void fatal_dropped_cancel(spdlog::logger* log, ContextId id, const char* how) noexcept {
  // The message goes to stderr directly as well: the logger may be off.
  std::fprintf(stderr,
               "switchyard: fatal: context %llu was canceled, but its ContextCanceled was dropped without being "
               "propagated (%s). Let ContextCanceled propagate to the entry, or call defuse() on it to swallow it "
               "deliberately.\n",
               static_cast<unsigned long long>(id), how);
  std::fflush(stderr);
  try {
    log->critical("context {}: ContextCanceled dropped without being propagated ({})", id, how);
  } catch (...) {
  }
  std::abort();
}

[[noreturn]] void fatal_internal(const char* what, ContextId id) noexcept {
  std::fprintf(stderr, "switchyard: fatal internal error: %s (context %llu)\n", what,
               static_cast<unsigned long long>(id));
  std::abort();
}

std::string describe_exception(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (const ContextCanceled& c) {
    return "ContextCanceled of context " + std::to_string(c.id());
  } catch (...) {
    return "an exception of unknown type";
  }
}

}  // namespace

void StackSwitch::start(Environment& env, Context* self, Context* next) {
  const Stack stack = next->stack;
  [[maybe_unused]] char* bottom = static_cast<char*>(stack.top) - stack.size;
#if defined(SWITCHYARD_ASAN)
  // A reused stack may still carry poison from frames that never returned
  // (the previous owner's entry frames): clear it.
  __asan_unpoison_memory_region(bottom, stack.size);
  next->asan_bottom = bottom;
  next->asan_size = stack.size;
#endif
#if defined(SWITCHYARD_TSAN)
  // Boost's fiber constructor jumps onto the new stack once to hand over its
  // record; give that prologue the new fiber's shadow stack, not ours.
  next->tsan_fiber = __tsan_create_fiber(0);
  __tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
  boost::context::stack_context sctx;
  sctx.sp = stack.top;
  sctx.size = stack.size;
  Environment* environment = &env;
  next->cont = boost::context::fiber(
      std::allocator_arg, boost::context::preallocated(stack.top, stack.size, sctx), PoolDeallocator{&env.pool_},
      [environment, next](boost::context::fiber&& caller) {
        return run_context(*environment, next, std::move(caller));
      });
#if defined(SWITCHYARD_TSAN)
  __tsan_switch_to_fiber(self->tsan_fiber, 0);
#endif
  jump(env, self, next);
}

boost::context::fiber StackSwitch::run_context(Environment& env, Context* self,
                                               boost::context::fiber&& caller) noexcept {
  // First landing: the same steps as the landing half of jump().
  env.from_->cont = std::move(caller);
  *env.eh_globals_ = ExceptionState{};
  after_land(env, self);

  Outcome outcome = Outcome::returned;
  std::exception_ptr failure;
  try {
    self->run();
  } catch (const ContextCanceled& canceled) {
    if (self->canceled && canceled.id() == self->id) {
      outcome = Outcome::canceled;
    } else {
      outcome = Outcome::failed;
      failure = std::current_exception();
    }
  } catch (...) {
    outcome = Outcome::failed;
    failure = std::current_exception();
  }
  Context* next = finish(env, self, outcome, std::move(failure));
  before_exit(next);
  return std::move(next->cont);
}

// Decides who runs after `self` ended and records what they must be told.
// A canceled context hands back to its destroyer; any other ends in main,
// whose pending switch_to rethrows the failure (or EntrypointReturned).
Context* StackSwitch::finish(Environment& env, Context* self, Outcome outcome, std::exception_ptr failure) noexcept {
  Context* next;
  if (self->canceled) {
    next = self->destroyer;
    if (outcome != Outcome::canceled && !self->cancel_defused) {
      fatal_dropped_cancel(env.log_, self->id,
                           outcome == Outcome::returned
                               ? "it was caught and not rethrown, and the entry returned"
                               : "it was replaced by another exception");
    }
    if (outcome == Outcome::failed) env.destroy_failure_ = std::move(failure);
    env.log_->debug("context {} unwound after cancel", self->id);
  } else {
    next = &env.main_;
    if (outcome == Outcome::returned) {
      env.log_->debug("context {} returned from its entrypoint", self->id);
      try {
        env.failure_ = std::make_exception_ptr(EntrypointReturned(self->id));
      } catch (...) {
        env.failure_ = std::current_exception();
      }
    } else {
      try {
        env.log_->debug("context {} failed: {}", self->id, describe_exception(failure));
      } catch (...) {
      }
      env.failure_ = std::move(failure);
    }
  }
  if (next == nullptr || !next->cont) fatal_internal("no suspended context to return to", self->id);
  env.forget(self);
  env.dead_ = self;
  env.attention_ = true;
  env.from_ = self;
  env.current_ = next;
  next->state = ContextState::running;
  return next;
}

void StackSwitch::before_exit([[maybe_unused]] Context* next) noexcept {
#if defined(SWITCHYARD_ASAN)
  // nullptr: this stack's fake frames die with it.
  __sanitizer_start_switch_fiber(nullptr, next->asan_bottom, next->asan_size);
#endif
#if defined(SWITCHYARD_TSAN)
  __tsan_switch_to_fiber(next->tsan_fiber, 0);
#endif
}

void StackSwitch::abandon(Context* context) noexcept {
  // Reusing the storage ends the old continuation's lifetime without its
  // destructor, which would unwind the stack (running code of the context).
  // What lives on that stack is Boost's record with our trivially
  // destructible lambda and PoolDeallocator, so nothing is leaked.
  static_assert(sizeof(boost::context::fiber) == sizeof(void*));
  ::new (static_cast<void*>(&context->cont)) boost::context::fiber();
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
