// Wasi: the WASI preview1 state of one guest (arguments, environment, file
// descriptors, preopened directories) and the host functions of module
// wasi_snapshot_preview1 that C programs built against wasi-libc use.
//
// Sandbox: the guest sees only its --dir preopens. Every path is resolved
// below a preopen's directory descriptor with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS): `..` above the preopen, absolute paths and
// symlinks that lead outside are refused (ENOTCAPABLE), whatever the guest's
// libc did or did not check first. Covered by tests/wasm, wasm.*.sandbox.
#pragma once

#include <dirent.h>

#include <cstdint>
#include <string>
#include <vector>

namespace switchyard_wasm {

class Guest;
struct HostFunction;

/// A --dir HOST[::GUEST] preopen.
struct Preopen {
  std::string host;
  std::string guest;
};

/// Hooks for blocking: by default nanosleep and nothing; an Executor host
/// parks the environment on a Boost.Fiber timer instead.
struct BlockingHooks {
  void (*sleep_ns)(uint64_t nanoseconds) = nullptr;
  void (*yield)() = nullptr;
};
extern BlockingHooks blocking_hooks;

class Wasi {
 public:
  Wasi() = default;
  ~Wasi();
  Wasi(const Wasi&) = delete;
  Wasi& operator=(const Wasi&) = delete;

  /// Opens the preopens (fds 3, 4, ...). False with `error` if one cannot
  /// be opened as a directory.
  bool init(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::vector<Preopen>& dirs,
            std::string& error);

  /// The host functions of wasi_snapshot_preview1.
  static const std::vector<HostFunction>& functions();

  struct Fd {
    int host = -1;  // -1: a free slot
    bool preopen = false;
    bool directory = false;
    bool owned = true;       // closed by us (not stdio)
    std::string guest_name;  // preopens only
    DIR* dir = nullptr;      // fd_readdir stream, opened lazily
  };
  Fd* fd(uint32_t number);
  uint32_t add_fd(const Fd& entry);
  void close_fd(uint32_t number);

  std::vector<std::string> args;
  std::vector<std::string> env;

 private:
  std::vector<Fd> fds_;
};

}  // namespace switchyard_wasm
