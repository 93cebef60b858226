// Stacks for contexts: mmap'd mappings with an optional PROT_NONE guard
// region, checked at every system call, and a bounded cache of released
// stacks. Owned by one environment; not thread-safe (it never needs to be).
//
// One mapping, low to high addresses:
//
//   [ guard region | usable stack (grows down) | record area ]
//                                              ^ top
//
// The record area (512 bytes) and the usable bytes are rounded up to pages
// together, so the record shares its page with the stack's first frames.
//
// The record area (record_area_size bytes, detail/context.hpp) holds the
// context's record, its entry callable when small, and the pool's own note
// (valgrind ID, overflow-table slot), which is never trusted unchecked.
#pragma once

#include <cstddef>
#include <vector>

#include "switchyard/detail/context.hpp"

namespace switchyard::detail {

class StackPool {
 public:
  /// Sizes as given in Options; rounded up to whole pages here. Sizes whose
  /// rounding or sum overflows, or that no address space could hold, are
  /// accepted and make every acquire() throw resource_exhausted.
  StackPool(std::size_t usable_size, bool guard_pages, std::size_t guard_size, std::size_t cache_bound);
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();

  /// A stack from the cache, or a new mapping, for context `owner` (named by
  /// the stack-overflow diagnostic; a cached stack changes owner). Returns
  /// its top: the start of its record area, above the usable bytes. Throws
  /// Error{errc::resource_exhausted} when mmap or mprotect fails (out of
  /// memory, vm.max_map_count reached) or the size cannot be mapped; nothing
  /// is leaked then.
  void* acquire(ContextId owner);
  /// Returns a stack to the cache, or unmaps it when the cache is full.
  void release(void* top) noexcept;

  /// Usable bytes below top (0 when the requested size cannot be mapped).
  std::size_t usable_size() const noexcept { return usable_size_; }
  std::size_t guard_size() const noexcept { return guard_size_; }
  /// Bytes a stack really has below its top: usable_size() or a little more
  /// (the record area and the usable bytes are rounded to pages together).
  std::size_t stack_bytes() const noexcept { return mapping_size_ - guard_size_ - record_area_size; }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t cached() const noexcept { return cache_.size(); }

  /// Stack mappings alive in the whole process (all pools, cached included).
  static std::size_t mapped_in_process() noexcept;

 private:
  void unmap(void* top) noexcept;
  char* base_of(void* top) const noexcept { return static_cast<char*>(top) + record_area_size - mapping_size_; }

  std::size_t usable_size_;
  std::size_t guard_size_;
  std::size_t mapping_size_;  // 0: the sizes cannot be mapped
  std::size_t requested_;     // for the error message
  std::size_t cache_bound_;
  std::size_t in_use_ = 0;
  std::vector<void*> cache_;
};

}  // namespace switchyard::detail
