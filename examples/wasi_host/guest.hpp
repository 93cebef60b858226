// One guest program of switchyard-host: a shared object built against
// <wasix/context.h> that exports `int guest_main(int argc, char **argv)`.
#pragma once

#include <string>
#include <vector>

#include <switchyard/options.hpp>

namespace host {

/// What the command line asks for: the guest's file and its arguments.
struct GuestSpec {
  std::string path;
  std::vector<std::string> args;  ///< argv[1..]; argv[0] is the path
  /// Another guest of this run loads the same file: load a private copy, so
  /// that this instance has globals of its own (as a wasm instance has its
  /// own memory).
  bool private_copy = false;
};

/// How a guest ended.
struct GuestResult {
  bool failed = false;  ///< could not be loaded, or an exception left it
  int exit_code = 0;    ///< guest_main's result, or 129 for a returned entrypoint
  std::string message;  ///< why it failed, or what the exit code means (may be empty)
};

/// Loads the guest, runs guest_main as the main context of a new switchyard
/// environment on the calling thread, and unloads it. Never throws.
/// A WASIX entrypoint that returns ends only this guest, with exit code 129:
/// in an environment made by run_main the WASIX layer does not call exit(),
/// it rethrows EntrypointReturned from the guest's pending
/// wasix_context_switch, through the guest's frames, to here.
GuestResult run_guest(const GuestSpec& spec, const switchyard::Options& options);

}  // namespace host
