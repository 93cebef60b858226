#include "switchyard/errors.hpp"

#include "switchyard/environment.hpp"

#include <atomic>
#include <new>
#include <utility>

namespace switchyard {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "switchyard"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::no_environment: return "no environment on this thread";
      case errc::wrong_thread: return "environment used from the wrong thread";
      case errc::switch_target_missing: return "switch target missing";
      case errc::invalid_argument: return "invalid argument";
      case errc::unsupported: return "operation not supported";
      case errc::already_running: return "already running on this thread";
      case errc::resource_exhausted: return "resource exhausted";
    }
    return "unknown switchyard error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

Error::Error(errc code, const std::string& message)
    : std::system_error(make_error_code(code), message), message_(message) {}

Error::Error(errc code) : std::system_error(make_error_code(code)), message_(make_error_code(code).message()) {}

EntrypointReturned::EntrypointReturned(ContextId id)
    : std::runtime_error("context " + std::to_string(id) +
                         " returned from its entrypoint (entries must not return; exit code 129)"),
      id_(id) {}

// What every ContextCanceled of one context's cancellation shares: a count
// of references (each exception object, plus the context while it lives).
// Objects may end up on other threads (an exception_ptr can travel), hence
// the atomics.
struct ContextCanceled::Token {
  std::atomic<unsigned> refs{1};
  std::atomic<bool> held{true};  // the context still holds its reference
  std::atomic<bool> defused{false};
  std::atomic<bool> arrived{false};
};

ContextCanceled::Token* ContextCanceled::new_token() noexcept { return new (std::nothrow) Token; }

void ContextCanceled::release_token(Token* token) noexcept {
  if (token == nullptr) return;
  token->held.store(false, std::memory_order_release);
  if (token->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete token;
}

ContextCanceled::ContextCanceled(ContextId id, std::uint64_t environment_serial, Token* token) noexcept
    : id_(id), environment_serial_(environment_serial), token_(token) {
  if (token_ != nullptr) token_->refs.fetch_add(1, std::memory_order_relaxed);
}

ContextCanceled::ContextCanceled(const ContextCanceled& other) noexcept
    : id_(other.id_), environment_serial_(other.environment_serial_), token_(other.token_) {
  if (token_ != nullptr) token_->refs.fetch_add(1, std::memory_order_relaxed);
}

ContextCanceled& ContextCanceled::operator=(const ContextCanceled& other) noexcept {
  if (this != &other) {
    ContextCanceled copy(other);
    std::swap(id_, copy.id_);
    std::swap(environment_serial_, copy.environment_serial_);
    std::swap(token_, copy.token_);
  }
  return *this;
}

// The cancellation is lost when its last exception object goes while the
// context still lives, before it arrived at the entry and undefused. (Once
// the context is gone, its end already answered for it.)
ContextCanceled::~ContextCanceled() {
  if (token_ == nullptr) return;
  const unsigned left = token_->refs.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left == 0) {
    delete token_;
    return;
  }
  if (left == 1 && token_->held.load(std::memory_order_acquire) && !token_->arrived.load(std::memory_order_acquire) &&
      !token_->defused.load(std::memory_order_acquire)) {
    detail::fatal_dropped_cancel(id_,
                                 "its last copy was destroyed before it reached the context's entry: a handler "
                                 "caught it and did not rethrow, another exception replaced it, or an "
                                 "exception_ptr holding it was released");
  }
}

void ContextCanceled::defuse() const noexcept {
  if (token_ != nullptr) token_->defused.store(true, std::memory_order_release);
  if (Environment* environment = Environment::try_current()) environment->defuse(id_, environment_serial_);
}

void ContextCanceled::arrived() const noexcept {
  if (token_ != nullptr) token_->arrived.store(true, std::memory_order_release);
}

bool ContextCanceled::is_for_caller() const noexcept {
  const Environment* environment = Environment::try_current();
  return environment != nullptr && environment->is_canceling_active(id_, environment_serial_);
}

}  // namespace switchyard
