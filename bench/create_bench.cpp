// Create/destroy, with guard pages (the default) and without, against
// Boost.Context with its own stack allocators. Stacks are the default
// switchyard size (1 MiB usable) on both sides; only the top pages are
// ever touched.
#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <switchyard/switchyard.hpp>

#include "bench_support.hpp"

namespace {

namespace sy = switchyard;
namespace ctx = boost::context;

sy::Options options(bool guard_pages, std::size_t stack_cache = sy::default_stack_cache) {
  sy::Options o;
  o.guard_pages = guard_pages;
  o.stack_cache = stack_cache;
  return o;
}

// create + destroy of a context that never starts: the entry is discarded,
// the stack goes back to the environment's cache.
template <bool GuardPages, std::size_t StackCache = sy::default_stack_cache, class Loop>
void switchyard_create_destroy(Loop& loop) {
  sy::run_main(
      [&] {
        sy::Environment& env = sy::Environment::current();
        loop.run([&] {
          const sy::ContextId id = env.create([] {});
          env.destroy(id);
        });
      },
      options(GuardPages, StackCache));
}

// Without the stack cache every create maps a stack and every destroy unmaps it.
template <class Loop>
void switchyard_create_destroy_nocache(Loop& loop) {
  switchyard_create_destroy<true, 0>(loop);
}

// The Boost.Context counterpart: a fiber that runs to its end at once, its
// stack from `Allocator`.
template <class Allocator, class Loop>
void boost_create_run_destroy(Loop& loop) {
  Allocator stacks(sy::default_stack_size);
  loop.run([&] {
    ctx::fiber fiber{std::allocator_arg, stacks, [](ctx::fiber&& caller) { return std::move(caller); }};
    fiber = std::move(fiber).resume();  // runs to the end; its stack goes back to `stacks`
  });
}

// create + first switch + destroy: the context parks in switch_to; destroy
// resumes it and its stack unwinds with ContextCanceled.
template <bool GuardPages, class Loop>
void switchyard_create_park_destroy(Loop& loop) {
  sy::run_main(
      [&] {
        sy::Environment& env = sy::Environment::current();
        loop.run([&] {
          const sy::ContextId id = env.create([&env] { env.switch_to(sy::main_context_id); });
          env.switch_to(id);
          env.destroy(id);
        });
      },
      options(GuardPages));
}

// The Boost.Context counterpart: a fiber parked mid-function, then
// destroyed; ~fiber unwinds its stack with forced_unwind.
template <class Allocator, class Loop>
void boost_park_unwind(Loop& loop) {
  Allocator stacks(sy::default_stack_size);
  loop.run([&] {
    ctx::fiber fiber{std::allocator_arg, stacks, [](ctx::fiber&& caller) {
                       caller = std::move(caller).resume();
                       return std::move(caller);
                     }};
    fiber = std::move(fiber).resume();  // parked in its resume()
    fiber = ctx::fiber{};               // the old fiber is destroyed: forced_unwind
  });
}

}  // namespace

SY_BENCHMARK("create_destroy_unstarted/switchyard_guard", switchyard_create_destroy<true>);
SY_BENCHMARK("create_destroy_unstarted/switchyard_noguard", switchyard_create_destroy<false>);
SY_BENCHMARK("create_destroy_unstarted/switchyard_guard_nocache", switchyard_create_destroy_nocache);
SY_BENCHMARK("create_destroy_unstarted/boost_pooled_run", boost_create_run_destroy<ctx::pooled_fixedsize_stack>);
SY_BENCHMARK("create_destroy_unstarted/boost_protected_run", boost_create_run_destroy<ctx::protected_fixedsize_stack>);

SY_BENCHMARK("create_park_destroy/switchyard_guard", switchyard_create_park_destroy<true>);
SY_BENCHMARK("create_park_destroy/switchyard_noguard", switchyard_create_park_destroy<false>);
SY_BENCHMARK("create_park_destroy/boost_pooled_unwind", boost_park_unwind<ctx::pooled_fixedsize_stack>);
SY_BENCHMARK("create_park_destroy/boost_protected_unwind", boost_park_unwind<ctx::protected_fixedsize_stack>);
