// run_main: the entry point that gives a thread an environment.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "switchyard/environment.hpp"
#include "switchyard/options.hpp"

namespace switchyard {
namespace detail {

/// Owns the environment of one run_main: installs it on the thread, tears
/// it down, removes it. Internal to run_main.
class MainScope {
 public:
  /// Throws Error{errc::already_running} if the thread has an environment,
  /// resource_exhausted if the environment cannot be allocated.
  explicit MainScope(const Options& options);
  MainScope(const MainScope&) = delete;
  MainScope& operator=(const MainScope&) = delete;
  ~MainScope();
  /// Destroys every live context, newest first. Then rethrows `failure`
  /// (what left the main entry) or, failing that, an exception a defused
  /// context threw during teardown.
  void finish(std::exception_ptr failure);
  /// True while the main context is the active one (teardown is possible
  /// from this stack). Any thread; reads only this environment.
  bool in_main_context() const noexcept;

 private:
  Environment* environment_;
  bool finished_ = false;
};

template <class R>
struct ResultSlot {
  std::optional<R> value;
  template <class F>
  void fill(F& f) { value.emplace(std::invoke(f)); }
  R take() { return std::move(*value); }
};
template <class R>
struct ResultSlot<R&> {
  R* value = nullptr;
  template <class F>
  void fill(F& f) { value = &std::invoke(f); }
  R& take() { return *value; }
};

}  // namespace detail

/// Runs `entry` as the main context (ID 0) of a new environment on the
/// calling thread and returns what it returns. When it returns or throws,
/// every context still alive is destroyed, newest first, exactly as
/// destroy() does; then the environment is removed and the result returned
/// or the exception rethrown.
/// Errors: already_running if the thread is already inside run_main.
/// A forced unwind that is not ours (pthread_exit, pthread_cancel) from the
/// main entry passes through untouched: the environment is torn down as it
/// passes (live contexts destroyed as at a normal end) and the thread ends
/// as it would without switchyard.
template <class F>
auto run_main(F&& entry, const Options& options = {}) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  detail::MainScope scope(options);
  std::exception_ptr failure;
  if constexpr (std::is_void_v<R>) {
    try {
      std::invoke(entry);
    } catch (...) {
      failure = std::current_exception();
      // No exception_ptr: not a C++ exception, e.g. the forced unwind of
      // pthread_exit / pthread_cancel. It passes on; the scope tears down
      // as it unwinds. (A handler for abi::__forced_unwind& would bind a
      // reference to null, which UBSan reports.)
      if (!failure) throw;
    }
    scope.finish(std::move(failure));
  } else {
    detail::ResultSlot<R> result;
    try {
      result.fill(entry);
    } catch (...) {
      failure = std::current_exception();
      if (!failure) throw;  // a foreign unwind passes on, as above
    }
    scope.finish(std::move(failure));
    return result.take();
  }
}

}  // namespace switchyard
