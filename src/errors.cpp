#include "switchyard/errors.hpp"

#include "switchyard/environment.hpp"

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

void ContextCanceled::defuse() const noexcept {
  if (Environment* environment = Environment::try_current()) environment->defuse(id_, environment_serial_);
}

bool ContextCanceled::is_for_caller() const noexcept {
  const Environment* environment = Environment::try_current();
  return environment != nullptr && environment->is_canceling_active(id_, environment_serial_);
}

}  // namespace switchyard
