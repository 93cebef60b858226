#include "guest.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include <spdlog/spdlog.h>
#include <switchyard/switchyard.hpp>

namespace sy = switchyard;

namespace host {
namespace {

using GuestMain = int (*)(int argc, char** argv);

// A loaded guest: the dlopen handle, and for a private copy the memfd that
// holds it. The memfd stays open while the copy is loaded: its
// /proc/self/fd/N name must not be reused meanwhile, or glibc would take a
// later copy for this one (it matches loaded objects by name first).
class Library {
 public:
  Library() = default;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() {
    if (handle_ != nullptr) ::dlclose(handle_);
    if (memfd_ >= 0) ::close(memfd_);
  }

  /// Loads `spec`; on failure returns false with `error` set.
  bool open(const GuestSpec& spec, std::string& error) {
    std::string name = spec.path;
    if (spec.private_copy) {
      if (!copy_to_memfd(spec.path, error)) return false;
      name = "/proc/self/fd/" + std::to_string(memfd_);
    }
    handle_ = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      error = why != nullptr ? why : "dlopen failed";
      return false;
    }
    return true;
  }

  void* symbol(const char* name) const { return ::dlsym(handle_, name); }

 private:
  bool copy_to_memfd(const std::string& path, std::string& error) {
    const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
      error = path + ": " + std::strerror(errno);
      return false;
    }
    memfd_ = ::memfd_create("switchyard-guest", MFD_CLOEXEC);
    bool ok = memfd_ >= 0;
    char buffer[1 << 16];
    while (ok) {
      const ssize_t n = ::read(in, buffer, sizeof buffer);
      if (n == 0) break;
      ok = n > 0 && ::write(memfd_, buffer, static_cast<std::size_t>(n)) == n;
    }
    if (!ok) error = "copying " + path + " into memory: " + std::strerror(errno);
    ::close(in);
    return ok;
  }

  void* handle_ = nullptr;
  int memfd_ = -1;
};

GuestResult failure(std::string message) {
  GuestResult result;
  result.failed = true;
  result.exit_code = 1;
  result.message = std::move(message);
  return result;
}

GuestResult load_and_run(const GuestSpec& spec, const sy::Options& options) {
  Library library;
  std::string error;
  if (!library.open(spec, error)) return failure("cannot load: " + error);
  auto guest_main = reinterpret_cast<GuestMain>(library.symbol("guest_main"));
  if (guest_main == nullptr) return failure("cannot load: " + spec.path + " does not export guest_main");

  std::vector<std::string> storage;
  storage.push_back(spec.path);
  storage.insert(storage.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  GuestResult result;
  try {
    // The guest's main runs on this thread's stack as the main context; its
    // WASIX calls act on this environment. When guest_main returns or
    // throws, run_main releases every context the guest left behind before
    // the library is unloaded.
    result.exit_code =
        sy::run_main([&] { return guest_main(static_cast<int>(storage.size()), argv.data()); }, options);
  } catch (const sy::EntrypointReturned& e) {
    result.exit_code = 129;
    result.message = "context " + std::to_string(e.id()) + " returned from its entrypoint";
  } catch (const std::exception& e) {
    return failure(e.what());
  } catch (...) {
    return failure("an exception of unknown type left the guest");
  }
  return result;
}

}  // namespace

GuestResult run_guest(const GuestSpec& spec, const sy::Options& options) {
  try {
    return load_and_run(spec, options);
  } catch (const std::exception& e) {  // the host itself ran out of memory
    GuestResult result;
    result.failed = true;
    result.exit_code = 1;
    try {
      result.message = std::string("host error: ") + e.what();
    } catch (...) {
    }
    return result;
  }
}

}  // namespace host
