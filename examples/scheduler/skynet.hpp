// The skynet workload on green threads: a tree of 10-way spawns down to
// `size` leaves numbered from `first`; each leaf returns its number and the
// sums are joined back up, so skynet(0, n) == n * (n - 1) / 2. Shared by the
// green_threads demo and bench/skynet.
#pragma once

#include <array>
#include <cstdint>

#include "green/scheduler.hpp"

namespace green::workload {

inline std::int64_t skynet(std::int64_t first, std::int64_t size) {
  if (size == 1) return first;
  // Up to 10 children covering [first, first + size) in nearly equal parts.
  const std::int64_t parts = size < 10 ? size : 10;
  std::array<Handle<std::int64_t>, 10> children;
  for (std::int64_t i = 0; i < parts; ++i) {
    const std::int64_t lo = first + size * i / parts;
    const std::int64_t hi = first + size * (i + 1) / parts;
    children[i] = spawn([lo, hi] { return skynet(lo, hi - lo); });
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < parts; ++i) sum += join(children[i]);
  return sum;
}

}  // namespace green::workload
