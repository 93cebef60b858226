// <wasix/context.h> on top of switchyard: an implicit environment per thread,
// made on the thread's first call and released at thread exit, errno for
// errors, and exit code 129 for an entrypoint that returns.
#include "wasix/context.h"

#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "switchyard/switchyard.hpp"

namespace sy = switchyard;

namespace {

// The implicit environment of this thread, made by its first WASIX call when
// no environment runs there. Its destructor runs at thread exit (and, for the
// thread calling exit(), inside exit()) and releases the remaining contexts
// and stacks. Covered by tests/wasix/thread_exit.c under LeakSanitizer.
class ImplicitEnvironment {
 public:
  ~ImplicitEnvironment() {
    if (scope_ == nullptr) return;
    // exit() called from inside a context runs this on that context's stack:
    // tearing down would unmap the stack we are running on. The process is
    // ending anyway, so leave the environment to it.
    if (sy::Environment* env = sy::Environment::try_current(); env != nullptr && env->active() != sy::main_context_id) {
      return;
    }
    delete scope_;
  }

  /// Installs the implicit environment on this thread (none runs here).
  sy::Environment& make() {
    try {
      scope_ = new sy::detail::MainScope(sy::Options{});
    } catch (const std::bad_alloc&) {
      throw sy::Error(sy::errc::resource_exhausted, "out of memory creating the implicit WASIX environment");
    }
    environment_ = sy::Environment::try_current();
    return *environment_;
  }

  /// True when `env` is the environment this thread made for WASIX calls (as
  /// opposed to one an embedder runs with run_main).
  bool owns(const sy::Environment& env) const noexcept { return scope_ != nullptr && environment_ == &env; }

 private:
  sy::detail::MainScope* scope_ = nullptr;
  sy::Environment* environment_ = nullptr;
};

thread_local ImplicitEnvironment implicit_environment;

// The environment running on this thread, made on first use. The common case
// reads only the constinit pointer, not the thread_local with a destructor
// (whose access goes through an init check).
SWITCHYARD_ALWAYS_INLINE sy::Environment& environment() {
  if (sy::Environment* env = sy::Environment::try_current()) return *env;
  return implicit_environment.make();
}

int error_with(int value) noexcept {
  errno = value;
  return -1;
}

// Called from a catch handler: switchyard errors become errno values; other
// exceptions (failures of entrypoints, ContextCanceled of a C++ context)
// keep propagating, as the C++ API would let them.
int error_from_exception() {
  try {
    throw;
  } catch (const sy::Error& e) {
    switch (e.value()) {
      case sy::errc::resource_exhausted: return error_with(ENOMEM);
      case sy::errc::unsupported: return error_with(ENOTSUP);
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
    *context_id = environment().create_c(run_entrypoint, reinterpret_cast<void*>(entrypoint));
    return 0;
  } catch (abi::__forced_unwind&) {
    throw;  // pthread_exit / pthread_cancel pass through untouched
  } catch (...) {
    return error_from_exception();
  }
}

int wasix_context_switch(wasix_context_id_t target_context_id) {
  sy::ContextId returned;
  try {
    environment().switch_to(target_context_id);
    return 0;
  } catch (const sy::EntrypointReturned& e) {
    // In an environment an embedder runs, the embedder decides (the host
    // example turns it into this guest's exit code 129).
    if (!implicit_environment.owns(sy::Environment::current())) throw;
    returned = e.id();
  } catch (abi::__forced_unwind&) {
    throw;  // pthread_exit / pthread_cancel pass through untouched
  } catch (...) {
    return error_from_exception();
  }
  // Outside the handler, so that no exception is in flight during exit().
  exit_entrypoint_returned(returned);
}

int wasix_context_destroy(wasix_context_id_t context_id) {
  try {
    environment().destroy(context_id);
    return 0;
  } catch (abi::__forced_unwind&) {
    throw;  // pthread_exit / pthread_cancel pass through untouched
  } catch (...) {
    return error_from_exception();
  }
}

}  // extern "C"
