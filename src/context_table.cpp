#include "switchyard/detail/context_table.hpp"

namespace switchyard::detail {

namespace {
constexpr std::size_t initial_capacity = 64;
}

ContextTable::ContextTable() : slots_(new Slot[initial_capacity]), mask_(initial_capacity - 1) {
  for (std::size_t i = 0; i < initial_capacity; ++i) slots_[i] = {empty_key, nullptr};
}

void ContextTable::insert(ContextId id, Context* context) {
  // Keep the load at or below one half so probes stay short.
  if ((size_ + 1) * 2 > mask_ + 1) grow();
  std::size_t i = static_cast<std::size_t>(id) & mask_;
  while (slots_[i].id != empty_key) i = (i + 1) & mask_;
  slots_[i] = {id, context};
  ++size_;
}

void ContextTable::erase(ContextId id) noexcept {
  std::size_t i = static_cast<std::size_t>(id) & mask_;
  while (slots_[i].id != id) {
    if (slots_[i].id == empty_key) return;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: move later members of the probe run into the
  // hole when their home slot does not lie cyclically in (hole, j].
  std::size_t hole = i;
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (slots_[j].id == empty_key) break;
    std::size_t home = static_cast<std::size_t>(slots_[j].id) & mask_;
    bool home_in_range = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_in_range) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = {empty_key, nullptr};
  --size_;
}

void ContextTable::grow() {
  std::size_t capacity = (mask_ + 1) * 2;
  std::unique_ptr<Slot[]> slots(new Slot[capacity]);  // may throw: table unchanged
  for (std::size_t i = 0; i < capacity; ++i) slots[i] = {empty_key, nullptr};
  std::size_t mask = capacity - 1;
  for (std::size_t k = 0; k <= mask_; ++k) {
    if (slots_[k].id == empty_key) continue;
    std::size_t i = static_cast<std::size_t>(slots_[k].id) & mask;
    while (slots[i].id != empty_key) i = (i + 1) & mask;
    slots[i] = slots_[k];
  }
  slots_ = std::move(slots);
  mask_ = mask;
}

}  // namespace switchyard::detail
