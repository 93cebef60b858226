// The C API (include/switchyard/switchyard.h): a thin layer over the C++
// API. Each function catches every exception at its boundary and turns it
// into a status plus a thread-local message.
//
// sy_switch_to runs on C contexts' stacks, and those are released without
// unwinding when such a context is destroyed: its frame must hold no object
// with a destructor across the switch (the catch handlers run only after a
// failed or completed switch, on a live stack).
#include "switchyard/switchyard.h"

#include <cstdarg>
#include <cstdio>
#include <new>

#include "switchyard/switchyard.hpp"

#include "out_of_line_switch.hpp"

namespace sy = switchyard;

namespace {

// constinit and trivially destructible: no TLS init wrapper, nothing to run
// at thread exit, and no allocation when reporting ENOMEM.
thread_local constinit char last_error[1024] = {};

__attribute__((format(printf, 1, 2))) void set_last_error(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  std::vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
}

// Where the call was made, for the message: "in context N", or "outside any
// environment" when the thread has none (there is no context 0 then).
void describe_caller(char* out, std::size_t size) noexcept {
  sy::Environment* env = sy::Environment::try_current();
  if (env == nullptr) {
    std::snprintf(out, size, "outside any environment");
    return;
  }
  try {
    std::snprintf(out, size, "in context %llu", static_cast<unsigned long long>(env->active()));
  } catch (...) {
    std::snprintf(out, size, "in an environment that is not running");
  }
}

sy_status status_of(sy::errc code) noexcept {
  switch (code) {
    case sy::errc::no_environment: return SY_ENOENV;
    case sy::errc::wrong_thread: return SY_EWRONGTHREAD;
    case sy::errc::switch_target_missing: return SY_ENOTARGET;
    case sy::errc::invalid_argument: return SY_EINVAL;
    case sy::errc::unsupported: return SY_ENOTSUP;
    case sy::errc::already_running: return SY_EALREADY;
    case sy::errc::resource_exhausted: return SY_ENOMEM;
  }
  return SY_EFAILED;
}

// Called from a catch handler: maps the exception in flight to a status and
// records the message. `function` and `target` (if the call has an ID
// argument) name the call. Allocates nothing.
// sy_run_main's failures are reported after its environment is gone: they
// come from its main function (or teardown), not from a context of the
// caller, so the message names no caller context and no ended context.
sy_status failed(const char* function, const sy_context_id* target = nullptr, bool run_main = false) noexcept {
  char call[128];
  char where[64];
  describe_caller(where, sizeof where);
  if (run_main) {
    std::snprintf(call, sizeof call, "%s", function);
  } else if (target != nullptr) {
    std::snprintf(call, sizeof call, "%s(%llu) %s", function, static_cast<unsigned long long>(*target), where);
  } else {
    std::snprintf(call, sizeof call, "%s %s", function, where);
  }
  const char* failure = run_main ? "an exception left its main function" : "a context failed and has ended";
  try {
    throw;
  } catch (const sy::Error& e) {
    set_last_error("%s: %s", call, e.what());
    return status_of(e.value());
  } catch (const sy::EntrypointReturned& e) {
    set_last_error("%s: context %llu returned from its entry function (entries must not return); it has ended", call,
                   static_cast<unsigned long long>(e.id()));
    return SY_EENTRYRETURNED;
  } catch (const sy::ContextCanceled& canceled) {
    if (!canceled.is_for_caller()) {
      // A stored cancellation rethrown by a context that was not canceled
      // (it reaches main as that context's failure): not ours to defuse.
      set_last_error("%s: %s: it threw the ContextCanceled of context %llu, which is not the calling context's own "
                     "cancellation",
                     call, failure, static_cast<unsigned long long>(canceled.id()));
      return SY_EFAILED;
    }
    // The status carries the cancellation from here on: the caller is told
    // to return from its entry, which then ends the context quietly.
    canceled.defuse();
    set_last_error("%s: context %llu is being destroyed; return from its entry now", call,
                   static_cast<unsigned long long>(canceled.id()));
    return SY_ECANCELED;
  } catch (const std::bad_alloc&) {
    set_last_error("%s: out of memory", call);
    return SY_ENOMEM;
  } catch (const std::exception& e) {
    set_last_error("%s: %s: %s", call, failure, e.what());
    return SY_EFAILED;
  } catch (...) {
    set_last_error("%s: %s: an exception of unknown type", call, failure);
    return SY_EFAILED;
  }
}

// Called from a catch (...) handler: true when what is in flight is not a
// C++ exception (glibc's forced unwind of pthread_exit or pthread_cancel),
// which has no exception_ptr and must be rethrown, never swallowed.
bool foreign_unwind() noexcept { return std::current_exception() == nullptr; }

sy_status invalid(const char* message) noexcept {
  set_last_error("%s", message);
  return SY_EINVAL;
}

}  // namespace

extern "C" {

void sy_options_init(sy_options* options) {
  if (options == nullptr) return;
  options->stack_size = sy::default_stack_size;
  options->guard_pages = 1;
  options->enabled = 1;
  options->guard_size = sy::default_guard_size;
}

sy_status sy_run_main(int (*main_fn)(void* arg), void* arg, const sy_options* options, int* result) {
  if (main_fn == nullptr) return invalid("sy_run_main: main_fn is NULL");
  sy::Options cpp_options;
  if (options != nullptr) {
    if (options->stack_size != 0) cpp_options.stack_size = options->stack_size;
    cpp_options.guard_pages = options->guard_pages != 0;
    cpp_options.enabled = options->enabled != 0;
    if (options->guard_size != 0) cpp_options.guard_size = options->guard_size;
  }
  try {
    sy::run_main(
        [&] {
          const int value = main_fn(arg);
          if (result != nullptr) *result = value;
        },
        cpp_options);
    return SY_OK;
  } catch (...) {
    if (foreign_unwind()) throw;  // pthread_exit / pthread_cancel pass through untouched
    return failed("sy_run_main", nullptr, /*run_main=*/true);
  }
}

sy_status sy_create(void (*entry)(void* arg), void* arg, sy_context_id* out) {
  if (entry == nullptr) return invalid("sy_create: entry is NULL");
  if (out == nullptr) return invalid("sy_create: out is NULL");
  try {
    *out = sy::Environment::current().create_c(entry, arg);
    return SY_OK;
  } catch (...) {
    if (foreign_unwind()) throw;  // pthread_exit / pthread_cancel pass through untouched
    return failed("sy_create");
  }
}

namespace {
// Whatever sy_switch_to's fast path left: the whole switch_to (no
// environment, the slow path, logging or exception state to park), or what
// the landing has to deliver. `target` names the call in error messages.
SWITCHYARD_NOINLINE sy_status sy_switch_to_rest(bool landed, sy_context_id target) {
  try {
    if (landed) {
      sy::detail::OutOfLineSwitch::attend();
    } else {
      sy::Environment::current().switch_to(target);
    }
    return SY_OK;
  } catch (...) {
    if (foreign_unwind()) throw;  // pthread_exit / pthread_cancel pass through untouched
    return failed("sy_switch_to", &target);
  }
}
}  // namespace

#if defined(SWITCHYARD_TAIL_SWITCH)
// The landing stub of sy_switch_to's tail-called swap, and the attention
// function it calls (src/out_of_line_switch_x86_64_sysv.S).
extern "C" void switchyard_land_sy_switch_to();
extern "C" __attribute__((visibility("hidden"))) sy_status switchyard_sy_switch_to_attend(sy_context_id target);
sy_status switchyard_sy_switch_to_attend(sy_context_id target) { return sy_switch_to_rest(true, target); }
#endif

namespace {
struct SwitchApi {
  using result = sy_status;
  static sy_status rest(bool landed, sy_context_id target) { return sy_switch_to_rest(landed, target); }
#if defined(SWITCHYARD_TAIL_SWITCH)
  static constexpr void (*landing)() = switchyard_land_sy_switch_to;
#endif
};
}  // namespace

// No exception handler around the fast path (src/out_of_line_switch.hpp);
// the target is the cargo: error messages after a landing name it.
sy_status sy_switch_to(sy_context_id target) { return sy::detail::OutOfLineSwitch::run<SwitchApi>(target, target); }

sy_status sy_destroy(sy_context_id target) {
  try {
    sy::Environment::current().destroy(target);
    return SY_OK;
  } catch (...) {
    if (foreign_unwind()) throw;  // pthread_exit / pthread_cancel pass through untouched
    return failed("sy_destroy", &target);
  }
}

sy_status sy_active(sy_context_id* out) {
  if (out == nullptr) return invalid("sy_active: out is NULL");
  try {
    *out = sy::Environment::current().active();
    return SY_OK;
  } catch (...) {
    if (foreign_unwind()) throw;  // pthread_exit / pthread_cancel pass through untouched
    return failed("sy_active");
  }
}

const char* sy_status_str(sy_status status) {
  switch (status) {
    case SY_OK: return "SY_OK: success";
    case SY_ENOENV: return "SY_ENOENV: no environment on this thread";
    case SY_EWRONGTHREAD: return "SY_EWRONGTHREAD: environment used from another thread";
    case SY_ENOTARGET: return "SY_ENOTARGET: switch target missing";
    case SY_EINVAL: return "SY_EINVAL: invalid argument";
    case SY_ENOTSUP: return "SY_ENOTSUP: contexts are disabled";
    case SY_EALREADY: return "SY_EALREADY: an environment already runs on this thread";
    case SY_ENOMEM: return "SY_ENOMEM: resource exhausted";
    case SY_ECANCELED: return "SY_ECANCELED: the calling context is being destroyed";
    case SY_EENTRYRETURNED: return "SY_EENTRYRETURNED: a context's entry returned";
    case SY_EFAILED: return "SY_EFAILED: a context failed";
  }
  return "unknown sy_status value";
}

const char* sy_last_error(void) { return last_error; }

}  // extern "C"
