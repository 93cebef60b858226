// The ID table: an open-addressing hash map from ContextId to Context*.
// IDs come from a counter, so the ID itself is a perfect hash: a live set of
// mostly consecutive IDs never collides, lookup is one load and a compare,
// and the cost does not grow with the number of live contexts. Linear
// probing with backward-shift deletion keeps it free of tombstones.
#pragma once

#include <cstddef>
#include <memory>

#include "switchyard/config.hpp"
#include "switchyard/detail/context.hpp"

namespace switchyard::detail {

class ContextTable {
 public:
  static constexpr ContextId empty_key = ~ContextId{0};

  ContextTable();

  SWITCHYARD_ALWAYS_INLINE Context* find(ContextId id) const noexcept {
    std::size_t i = static_cast<std::size_t>(id) & mask_;
    for (;;) {
      const Slot& s = slots_[i];
      if (SWITCHYARD_LIKELY(s.id == id)) return s.context;
      if (s.id == empty_key) return nullptr;
      i = (i + 1) & mask_;
    }
  }

  /// Inserts a new ID (not present). May throw std::bad_alloc on growth,
  /// leaving the table unchanged.
  void insert(ContextId id, Context* context);
  /// Removes an ID if present.
  void erase(ContextId id) noexcept;
  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    ContextId id;
    Context* context;
  };
  void grow();

  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace switchyard::detail
