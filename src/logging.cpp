#include "switchyard/logging.hpp"

#include <cerrno>
#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace switchyard {
namespace {

std::mutex logger_mutex;
std::shared_ptr<spdlog::logger> current_logger;

// Restores errno on scope exit: the colour sink asks isatty(stderr), which
// sets ENOTTY when stderr is not a terminal, and the first WASIX or C API
// call in a process makes the logger; a successful call never changes errno
// [wasix.first_call_errno, c_api.first_call_errno].
class SavedErrno {
 public:
  SavedErrno() noexcept : saved_(errno) {}
  SavedErrno(const SavedErrno&) = delete;
  SavedErrno& operator=(const SavedErrno&) = delete;
  ~SavedErrno() { errno = saved_; }

 private:
  int saved_;
};

std::shared_ptr<spdlog::logger> make_default_logger() {
  SavedErrno saved_errno;
  if (auto registered = spdlog::get("switchyard")) return registered;
  auto made = std::make_shared<spdlog::logger>("switchyard", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  made->set_level(spdlog::level::warn);
  if (const char* level = std::getenv("SWITCHYARD_LOG_LEVEL")) made->set_level(spdlog::level::from_str(level));
  try {
    spdlog::register_logger(made);
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered one meanwhile: use that.
    if (auto registered = spdlog::get("switchyard")) return registered;
  }
  return made;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard<std::mutex> lock(logger_mutex);
  if (!current_logger) current_logger = make_default_logger();
  return current_logger;
}

void set_logger(std::shared_ptr<spdlog::logger> replacement) {
  std::lock_guard<std::mutex> lock(logger_mutex);
  current_logger = std::move(replacement);
}

}  // namespace switchyard
