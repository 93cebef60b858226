// A model-based random test of the runtime: a byte stream is read as
// operations (create, switch_to, destroy, throw, return, nested frames,
// cancellation while unwinding), run on a real environment, and checked
// after every step against a reference model: live IDs, active(), objects
// alive on each context's stack, exceptions delivered to main.
// Used by model_test.cpp (fixed seeds, SWITCHYARD_SEED=n) and by the
// libFuzzer target model_fuzz.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace model {

/// Runs the operations in data[0, size) in a fresh run_main. A mismatch
/// between runtime and model prints `label` (say, the seed), the byte
/// offset and the facts, and aborts.
void run(const std::uint8_t* data, std::size_t size, const char* label = "input");

/// A deterministic byte stream for `seed` (splitmix64).
std::vector<std::uint8_t> bytes_for_seed(std::uint64_t seed, std::size_t size);

}  // namespace model
