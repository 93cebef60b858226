// Many guests on one thread: each runs as an environment of one
// switchyard::Executor (Boost.Fiber), and a guest's poll_oneoff that waits
// only for clocks parks its environment on a fiber timer, so the others run.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace switchyard_wasm {

class Guest;

/// Runs every guest to its end on the calling thread; returns the first
/// nonzero exit status (in guest order), or 0. `stack_size` 0: the default.
int run_on_executor(std::vector<std::unique_ptr<Guest>>& guests, std::size_t stack_size);

}  // namespace switchyard_wasm
