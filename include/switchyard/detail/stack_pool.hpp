// Stacks for contexts: mmap'd mappings with an optional PROT_NONE guard
// page, checked at every system call, and a bounded cache of released
// stacks. Owned by one environment; not thread-safe (it never needs to be).
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include "switchyard/detail/context.hpp"

namespace switchyard::detail {

class StackPool {
 public:
  StackPool(std::size_t usable_size, bool guard_pages, std::size_t cache_bound);
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();

  /// A stack from the cache, or a new mapping, for context `owner` (named by
  /// the stack-overflow diagnostic; a cached stack changes owner). Throws
  /// Error{errc::resource_exhausted} when mmap or mprotect fails (out of
  /// memory, vm.max_map_count reached); nothing is leaked then.
  Stack acquire(ContextId owner);
  /// Returns a stack to the cache, or unmaps it when the cache is full.
  void release(Stack stack) noexcept;

  std::size_t usable_size() const noexcept { return usable_size_; }
  bool guard_pages() const noexcept { return guard_pages_; }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t cached() const noexcept { return cache_.size(); }

  /// Stack mappings alive in the whole process (all pools, cached included).
  static std::size_t mapped_in_process() noexcept;

 private:
  void unmap(Stack stack) noexcept;

  std::size_t usable_size_;
  std::size_t guard_size_;
  bool guard_pages_;
  std::size_t cache_bound_;
  std::size_t in_use_ = 0;
  std::vector<Stack> cache_;
};

/// The allocator handed to Boost.Context for a preallocated stack: when a
/// context's fiber ends, Boost calls deallocate(), which gives the stack back
/// to its pool.
struct PoolDeallocator {
  StackPool* pool;
  boost::context::stack_context allocate() = delete;
  void deallocate(boost::context::stack_context& sctx) noexcept {
    pool->release(Stack{sctx.sp, sctx.size});
  }
};

}  // namespace switchyard::detail
