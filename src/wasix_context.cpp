// <wasix/context.h> on top of switchyard: an implicit environment per thread,
// made on the thread's first call and released at thread exit, errno for
// errors, and exit code 129 for an entrypoint that returns.

// The exported __wasix_context_main is defined here: without the header's
// inline body, which a second definition may not follow (clang).
#define SWITCHYARD_DEFINES_WASIX_CONTEXT_MAIN 1
#include "wasix/context.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "switchyard/switchyard.hpp"

#include "out_of_line_switch.hpp"

namespace sy = switchyard;

namespace {

// The implicit environment of this thread, made by its first WASIX call when
// no environment runs there, and released at thread exit (and, for the
// thread calling exit(), inside exit()) with its remaining contexts and
// stacks. Its state is constinit and trivially destructible, so it stays
// readable in thread_local destructors that run after the release.
//
// It belongs to the stack that made it, its main context: under an
// Executor, that is one Boost.Fiber fiber, which carries it from switch to
// switch as it carries any environment (src/executor.cpp). Another fiber of
// the thread that makes a WASIX call outside any environment gets EBUSY.
thread_local constinit sy::detail::MainScope* implicit_scope = nullptr;
thread_local constinit sy::Environment* implicit_env = nullptr;
// Set once the thread's implicit environment was released at thread exit:
// later calls (from thread_local destructors that run after it) make no new
// environment, which nothing would release [wasix.embedded: "WASIX calls
// after the implicit environment's release ..."].
thread_local constinit bool implicit_released = false;

void release_implicit_environment() noexcept {
  if (implicit_scope == nullptr) return;
  // exit() called from inside a context runs this on that context's stack:
  // tearing down would unmap the stack we are running on. The process is
  // ending anyway, so leave the environment to it.
  if (!implicit_scope->in_main_context()) return;
  delete implicit_scope;  // tears down even when another fiber's environment is current
  implicit_scope = nullptr;
  implicit_env = nullptr;
  implicit_released = true;
}

// Constructed by the first implicit environment of the thread, so that its
// destructor is registered to run at thread exit.
struct ImplicitRelease {
  ImplicitRelease() noexcept = default;
  ImplicitRelease(const ImplicitRelease&) = delete;
  ImplicitRelease& operator=(const ImplicitRelease&) = delete;
  ~ImplicitRelease() { release_implicit_environment(); }
};
thread_local ImplicitRelease implicit_release;

// Installs the implicit environment on this thread (none runs on this stack).
// nullptr once the thread's implicit environment was released.
SWITCHYARD_COLD sy::Environment* make_implicit_environment() {
  if (implicit_released) return nullptr;
  if (implicit_scope != nullptr) {
    // Made by another fiber of this thread: its main context is that fiber's
    // stack, and this one cannot share it.
    throw sy::Error(sy::errc::already_running,
                    "the thread's implicit WASIX environment belongs to another fiber of this thread");
  }
  (void)&implicit_release;  // registers the release at thread exit
  try {
    implicit_scope = new sy::detail::MainScope(sy::Options{});
  } catch (const std::bad_alloc&) {
    throw sy::Error(sy::errc::resource_exhausted, "out of memory creating the implicit WASIX environment");
  }
  implicit_env = sy::Environment::try_current();
  return implicit_env;
}

// The environment running on this thread, made on first use; nullptr after
// the thread's implicit environment was released at thread exit. The common
// case reads only the constinit pointer.
SWITCHYARD_ALWAYS_INLINE sy::Environment* environment() {
  if (sy::Environment* env = sy::Environment::try_current()) return env;
  return make_implicit_environment();
}

int error_with(int value) noexcept {
  errno = value;
  return -1;
}

// Called from a catch handler: switchyard errors become errno values; other
// exceptions (failures of entrypoints, ContextCanceled of a C++ context)
// keep propagating, as the C++ API would let them, and so does the forced
// unwind of pthread_exit / pthread_cancel (rethrown, never swallowed).
int error_from_exception() {
  try {
    throw;
  } catch (const sy::Error& e) {
    switch (e.value()) {
      case sy::errc::resource_exhausted: return error_with(ENOMEM);
      case sy::errc::unsupported: return error_with(ENOTSUP);
      case sy::errc::already_running: return error_with(EBUSY);
      default: return error_with(EINVAL);
    }
  } catch (const std::bad_alloc&) {
    return error_with(ENOMEM);
  }
}

void run_entrypoint(void* entrypoint) { reinterpret_cast<void (*)(void)>(entrypoint)(); }

[[noreturn]] void exit_entrypoint_returned(sy::ContextId id) {
  std::fprintf(stderr, "wasix: context %llu returned from its entrypoint (entrypoints must not return); exiting with code 129\n",
               static_cast<unsigned long long>(id));
  std::exit(129);  // flushes stdio and runs this thread's teardown on main's stack
}

}  // namespace

extern "C" {

wasix_context_id_t __wasix_context_main(void) { return sy::main_context_id; }

int wasix_context_create(wasix_context_id_t* context_id, void (*entrypoint)(void)) {
  if (context_id == nullptr || entrypoint == nullptr) return error_with(EINVAL);
  try {
    sy::Environment* env = environment();
    if (env == nullptr) return error_with(ECANCELED);  // the thread's environment is gone: thread exit
    *context_id = env->create_c(run_entrypoint, reinterpret_cast<void*>(entrypoint));
    return 0;
  } catch (...) {
    return error_from_exception();
  }
}

namespace {
// Whatever wasix_context_switch's fast path left: the whole switch_to (the
// slow path, or no environment yet: made here), or what the landing has to
// deliver (`landed`; the target is not needed then).
SWITCHYARD_NOINLINE int wasix_switch_rest(bool landed, wasix_context_id_t target_context_id) {
  sy::ContextId returned;
  try {
    if (landed) {
      sy::detail::OutOfLineSwitch::attend();
      return 0;
    }
    sy::Environment* env = environment();
    if (env == nullptr) {
      // After the release at thread exit only main is left, and it is active.
      return target_context_id == sy::main_context_id ? 0 : error_with(EINVAL);
    }
    env->switch_to(target_context_id);
    return 0;
  } catch (const sy::EntrypointReturned& e) {
    // In an environment an embedder runs, the embedder decides (the host
    // example turns it into this guest's exit code 129).
    if (implicit_env == nullptr || implicit_env != sy::Environment::try_current()) throw;
    returned = e.id();
  } catch (...) {
    return error_from_exception();
  }
  // Outside the handler, so that no exception is in flight during exit().
  exit_entrypoint_returned(returned);
}
}  // namespace

#if defined(SWITCHYARD_TAIL_SWITCH)
// The landing stub of wasix_context_switch's tail-called swap, and the
// attention function it calls (src/out_of_line_switch_x86_64_sysv.S).
void switchyard_land_wasix_context_switch();
__attribute__((visibility("hidden"))) int switchyard_wasix_context_switch_attend(wasix_context_id_t unused);
int switchyard_wasix_context_switch_attend(wasix_context_id_t) { return wasix_switch_rest(true, 0); }
#endif

namespace {
struct SwitchApi {
  using result = int;
  static int rest(bool landed, wasix_context_id_t target) { return wasix_switch_rest(landed, target); }
#if defined(SWITCHYARD_TAIL_SWITCH)
  static constexpr void (*landing)() = switchyard_land_wasix_context_switch;
#endif
};
}  // namespace

// The thread's environment when it runs one (the implicit environment is
// made in wasix_switch_rest); no exception handler around the fast path
// (src/out_of_line_switch.hpp).
int wasix_context_switch(wasix_context_id_t target_context_id) {
  return sy::detail::OutOfLineSwitch::run<SwitchApi>(target_context_id, 0);
}

int wasix_context_destroy(wasix_context_id_t context_id) {
  try {
    sy::Environment* env = environment();
    if (env == nullptr) {
      // After the release at thread exit every context is gone: a no-op.
      return context_id == sy::main_context_id ? error_with(EINVAL) : 0;
    }
    env->destroy(context_id);
    return 0;
  } catch (...) {
    return error_from_exception();
  }
}

}  // extern "C"
