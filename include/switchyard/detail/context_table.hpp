// The ID table: ContextId -> Context*. IDs come from a counter, so they are
// dense and grow forever. The table is a paged direct map: ID >> 6 selects a
// page of 64 entries, ID & 63 the entry. Consecutive IDs share a page (and a
// cache line per 8), there is no probing inside a page, and long-lived IDs
// never form a cluster that later IDs wrap onto. Pages are found through a
// small open-addressing directory keyed by page number (Fibonacci hashing,
// linear probing, backward-shift deletion). A page leaves the directory as
// soon as its last context is erased, so the table's memory is bounded by the
// live contexts, never by how many IDs were handed out; one emptied page is
// kept as a spare, so create+destroy churn on a single page does not call
// malloc and free every time.
//
// find() remembers the last page it found: a switch is a chain of dependent
// loads (ID -> page -> record -> saved stack pointer -> the resumed frame),
// and a hit on that page takes two of them (the directory and its slot) and a
// multiply out of the chain. Schedulers mostly switch among neighbouring IDs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "switchyard/config.hpp"
#include "switchyard/detail/context.hpp"

namespace switchyard::detail {

class ContextTable {
 public:
  static constexpr unsigned page_bits = 6;
  static constexpr std::size_t page_entries = std::size_t{1} << page_bits;

  ContextTable();
  ~ContextTable();
  ContextTable(const ContextTable&) = delete;
  ContextTable& operator=(const ContextTable&) = delete;

  SWITCHYARD_ALWAYS_INLINE Context* find(ContextId id) const noexcept {
    if (SWITCHYARD_LIKELY(id == cached_id_)) return cached_context_;
    const std::uint64_t key = id >> page_bits;
    Context* found;
    if (SWITCHYARD_LIKELY(key == cached_key_)) {
      found = cached_page_->entries[id & (page_entries - 1)];
    } else {
      std::size_t i = home(key);
      for (;;) {
        const DirectorySlot& d = directory_[i];
        if (SWITCHYARD_LIKELY(d.key == key && d.page != nullptr)) break;
        if (d.page == nullptr) return nullptr;
        i = (i + 1) & mask_;
      }
      cached_key_ = key;
      cached_page_ = directory_[i].page;
      found = cached_page_->entries[id & (page_entries - 1)];
    }
    if (found != nullptr) {
      cached_id_ = id;
      cached_context_ = found;
    }
    return found;
  }

  /// Inserts an ID that is not present. May throw std::bad_alloc, leaving the
  /// table unchanged.
  void insert(ContextId id, Context* context);
  /// Removes an ID if present.
  void erase(ContextId id) noexcept;
  std::size_t size() const noexcept { return size_; }
  /// Pages held: those in the directory plus the spare (at most one).
  std::size_t pages() const noexcept { return pages_ + (spare_ != nullptr ? 1 : 0); }

 private:
  struct Page {
    Context* entries[page_entries] = {};
    std::size_t live = 0;
  };
  struct DirectorySlot {
    std::uint64_t key;
    Page* page;  // nullptr: empty slot
  };
  SWITCHYARD_ALWAYS_INLINE std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::size_t slot_of(std::uint64_t key) const noexcept;  // its slot, or mask_ + 1
  void grow();
  void remove_slot(std::size_t i) noexcept;

  // The page find() last found, first: the hit path reads only these two.
  // no_key never matches: keys are IDs >> page_bits.
  static constexpr std::uint64_t no_key = ~std::uint64_t{0};
  mutable ContextId cached_id_ = no_key;
  mutable Context* cached_context_ = nullptr;
  mutable std::uint64_t cached_key_ = no_key;
  mutable Page* cached_page_ = nullptr;
  std::unique_ptr<DirectorySlot[]> directory_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t pages_ = 0;
  std::size_t size_ = 0;
  Page* spare_ = nullptr;  // an emptied page kept for the next new page
};

}  // namespace switchyard::detail
