#include "switchyard/detail/context_table.hpp"

#include <bit>

namespace switchyard::detail {

namespace {
constexpr std::size_t initial_capacity = 16;
}

ContextTable::ContextTable()
    : directory_(new DirectorySlot[initial_capacity]),
      mask_(initial_capacity - 1),
      shift_(64 - std::countr_zero(initial_capacity)) {
  for (std::size_t i = 0; i < initial_capacity; ++i) directory_[i] = {0, nullptr};
}

ContextTable::~ContextTable() {
  for (std::size_t i = 0; i <= mask_; ++i) delete directory_[i].page;
  delete spare_;
}

std::size_t ContextTable::slot_of(std::uint64_t key) const noexcept {
  for (std::size_t i = home(key);; i = (i + 1) & mask_) {
    if (directory_[i].page == nullptr) return mask_ + 1;
    if (directory_[i].key == key) return i;
  }
}

void ContextTable::insert(ContextId id, Context* context) {
  const std::uint64_t key = id >> page_bits;
  std::size_t i = slot_of(key);
  if (i > mask_) {
    // A new page. Keep the directory at most half full so probes stay short.
    if ((pages_ + 1) * 2 > mask_ + 1) grow();  // may throw: table unchanged
    Page* page = spare_;                       // all its entries are null
    if (page != nullptr) {
      spare_ = nullptr;
    } else {
      page = new Page();  // may throw: table unchanged
    }
    for (i = home(key); directory_[i].page != nullptr; i = (i + 1) & mask_) {
    }
    directory_[i] = {key, page};
    ++pages_;
  }
  Page* page = directory_[i].page;
  page->entries[id & (page_entries - 1)] = context;
  ++page->live;
  ++size_;
}

void ContextTable::erase(ContextId id) noexcept {
  const std::uint64_t key = id >> page_bits;
  const std::size_t i = slot_of(key);
  if (i > mask_) return;
  Page* page = directory_[i].page;
  Context*& entry = page->entries[id & (page_entries - 1)];
  if (entry == nullptr) return;
  entry = nullptr;
  if (cached_id_ == id) cached_id_ = no_key;
  --size_;
  // An empty page leaves at once, even the newest one (later IDs may land in
  // it; they take the spare then): memory follows the live contexts.
  // [core.context_table: "create+destroy churn keeps at most two pages"]
  if (--page->live == 0) {
    if (cached_page_ == page) cached_key_ = no_key;
    remove_slot(i);
    --pages_;
    if (spare_ == nullptr) {
      spare_ = page;
    } else {
      delete page;
    }
  }
}

// Backward-shift deletion: move later members of the probe run into the
// hole when their home slot does not lie cyclically in (hole, j].
void ContextTable::remove_slot(std::size_t hole) noexcept {
  std::size_t j = hole;
  for (;;) {
    j = (j + 1) & mask_;
    if (directory_[j].page == nullptr) break;
    const std::size_t h = home(directory_[j].key);
    const bool home_in_range = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (!home_in_range) {
      directory_[hole] = directory_[j];
      hole = j;
    }
  }
  directory_[hole] = {0, nullptr};
}

void ContextTable::grow() {
  const std::size_t capacity = (mask_ + 1) * 2;
  std::unique_ptr<DirectorySlot[]> directory(new DirectorySlot[capacity]);  // may throw: table unchanged
  for (std::size_t i = 0; i < capacity; ++i) directory[i] = {0, nullptr};
  const std::size_t old_capacity = mask_ + 1;
  std::swap(directory_, directory);
  mask_ = capacity - 1;
  shift_ -= 1;
  for (std::size_t k = 0; k < old_capacity; ++k) {
    if (directory[k].page == nullptr) continue;
    std::size_t i = home(directory[k].key);
    while (directory_[i].page != nullptr) i = (i + 1) & mask_;
    directory_[i] = directory[k];
  }
}

}  // namespace switchyard::detail
