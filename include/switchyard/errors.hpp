// Errors: the error codes, the Error exception, and the two control-flow
// exceptions the runtime raises in contexts (ContextCanceled) and in main
// (EntrypointReturned).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace switchyard {

using ContextId = std::uint64_t;
inline constexpr ContextId main_context_id = 0;

/// Error codes of the switchyard error category.
enum class errc {
  no_environment = 1,     ///< no environment on this thread
  wrong_thread,           ///< environment used from a thread that does not own it
  switch_target_missing,  ///< switch target unknown, finished or destroyed
  invalid_argument,       ///< e.g. destroying the main context or the caller
  unsupported,            ///< disabled mode: contexts are not available
  already_running,        ///< run_main called inside run_main on one thread
  resource_exhausted,     ///< no stack or memory could be had
};

/// The category of switchyard errors; its name() is "switchyard".
const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// Recoverable misuse or exhaustion. `code() == switchyard::errc::...` works;
/// `what()` is the message given, which carries the facts (IDs, states,
/// threads). Unlike std::system_error's, it does not append the category's
/// generic text, which need not fit the call (`code().message()` has it).
class Error : public std::system_error {
 public:
  Error(errc code, const std::string& message);
  /// With the category's message for `code` only.
  explicit Error(errc code);
  errc value() const noexcept { return static_cast<errc>(code().value()); }
  const char* what() const noexcept override { return message_.what(); }

 private:
  std::runtime_error message_;  // reference-counted: copying an Error never throws
};

/// Thrown in a context that is being destroyed, from its pending switch_to
/// (and from any later switch_to it calls). It must propagate up to the
/// context's entry, where the runtime catches it. Dropping it aborts the
/// process at that moment, with a message naming the context, unless
/// defuse() was called: dropped means the exception object (and every copy
/// of it: catching by value, `throw c;`, an exception_ptr) was destroyed
/// anywhere but at the entry, e.g. a handler that caught it ended without
/// rethrowing, or it was replaced by another exception. Meeting a noexcept
/// boundary (a context parked in switch_to inside a destructor) also ends
/// the process with a message naming the context.
/// It deliberately does not derive from std::exception, so that
/// `catch (const std::exception&)` handlers let it pass.
class ContextCanceled {
 public:
  /// A copy is the same cancellation (it shares the drop check).
  ContextCanceled(const ContextCanceled& other) noexcept;
  ContextCanceled& operator=(const ContextCanceled& other) noexcept;
  /// Aborts the process if this was the last copy of a cancellation that
  /// never reached its context's entry and was not defused.
  ~ContextCanceled();

  /// The ID of the context being canceled.
  ContextId id() const noexcept { return id_; }
  const char* what() const noexcept { return "switchyard::ContextCanceled"; }
  /// Marks this cancellation as deliberately swallowed: it may then be
  /// dropped, and the context may end by returning or by throwing something
  /// else (see docs/SEMANTICS.md).
  void defuse() const noexcept;
  /// True when this is the cancellation of the context running now on the
  /// calling thread: same environment, same ID, and that context is being
  /// destroyed. False for a stored copy rethrown later by another context
  /// (that is a failure of the context that threw it, not a cancellation).
  bool is_for_caller() const noexcept;

 private:
  friend class Environment;
  struct Token;
  /// One cancellation per context: every ContextCanceled raised in it shares
  /// the context's token, which the context holds until it is released.
  ContextCanceled(ContextId id, std::uint64_t environment_serial, Token* token) noexcept;
  static Token* new_token() noexcept;              // held by the caller; may be null
  static void release_token(Token* token) noexcept;  // the holder lets go
  /// Called by the runtime at the canceled context's entry.
  void arrived() const noexcept;
  ContextId id_;
  std::uint64_t environment_serial_;
  Token* token_;  // shared by all copies; null if it could not be allocated
};

/// Rethrown in the main context, from its pending switch_to, when a non-main
/// context's entry returned normally (entries must end by being destroyed or
/// by throwing). A WASI-like host maps it to exit code 129.
class EntrypointReturned : public std::runtime_error {
 public:
  explicit EntrypointReturned(ContextId id);
  ContextId id() const noexcept { return id_; }

 private:
  ContextId id_;
};

}  // namespace switchyard

template <>
struct std::is_error_code_enum<switchyard::errc> : std::true_type {};
