// The model-based random test over a fixed set of seeds (core.model).
// SWITCHYARD_SEED=n replays seed n alone; SWITCHYARD_SEEDS=n runs seeds 0..n-1.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <switchyard/switchyard.hpp>

#include "model_driver.hpp"

namespace {
constexpr std::size_t bytes_per_seed = 4096;

void run_seed(std::uint64_t seed) {
  const std::vector<std::uint8_t> bytes = model::bytes_for_seed(seed, bytes_per_seed);
  const std::string label = "SWITCHYARD_SEED=" + std::to_string(seed);
  model::run(bytes.data(), bytes.size(), label.c_str());
  CHECK(switchyard::mapped_stacks() == 0);
}
}  // namespace

TEST_CASE("model: the runtime matches the reference model on fixed seeds") {
  if (const char* one = std::getenv("SWITCHYARD_SEED")) {
    run_seed(std::strtoull(one, nullptr, 10));
    return;
  }
  std::uint64_t seeds = 400;
  if (const char* many = std::getenv("SWITCHYARD_SEEDS")) seeds = std::strtoull(many, nullptr, 10);
  for (std::uint64_t seed = 0; seed < seeds; ++seed) run_seed(seed);
}

TEST_CASE("model: every file of the seed corpus") {
  // The corpus holds short hand-picked streams (tests/model/corpus); they
  // are also the fuzzer's starting corpus.
  for (const std::vector<std::uint8_t>& input : {
           std::vector<std::uint8_t>{}, std::vector<std::uint8_t>{0, 2, 1},  // create, switch to 1, stream ends in 1
           std::vector<std::uint8_t>{0, 2, 1, 7, 0},                         // context 1 throws
           std::vector<std::uint8_t>{0, 2, 1, 8, 0},                         // context 1 returns
           std::vector<std::uint8_t>{0, 2, 1, 10, 2, 0, 5, 1, 0},            // guarded frame, main destroys it
       }) {
    model::run(input.data(), input.size(), "inline corpus");
  }
  CHECK(switchyard::mapped_stacks() == 0);
}
