#include "switchyard/detail/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "switchyard/detail/overflow_guard.hpp"
#include "switchyard/errors.hpp"
#include "switchyard/options.hpp"
#include "switchyard/stack.hpp"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SWITCHYARD_VALGRIND 1
#endif

namespace switchyard::detail {
namespace {

std::atomic<std::size_t> mapped_stacks_in_process{0};

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

// Rounds up to a multiple of `to` (a power of two); false on overflow.
bool round_up(std::size_t n, std::size_t to, std::size_t* out) noexcept {
  std::size_t sum;
  if (__builtin_add_overflow(n, to - 1, &sum)) return false;
  *out = sum & ~(to - 1);
  return true;
}


// The pool's note in the last bytes of a stack's record area. A neighbour's
// stack clash could reach it, so nothing in it is used unchecked: the
// overflow-table slot is validated against the table before use.
struct PoolNote {
  unsigned valgrind_id;
  int guard_slot;
};
static_assert(sizeof(PoolNote) <= pool_meta_size);

PoolNote* note_of(void* top) noexcept {
  return reinterpret_cast<PoolNote*>(static_cast<char*>(top) + record_area_size - pool_meta_size);
}

[[noreturn]] void throw_exhausted(const char* call, int error, std::size_t bytes) {
  throw Error(errc::resource_exhausted, std::string("cannot allocate a context stack: ") + call + " of " +
                                            std::to_string(bytes) + " bytes failed: " + std::strerror(error) +
                                            (error == ENOMEM ? " (out of memory or vm.max_map_count reached)" : ""));
}

}  // namespace

StackPool::StackPool(std::size_t usable_size, bool guard_pages, std::size_t guard_size, std::size_t cache_bound)
    : usable_size_(0), guard_size_(0), mapping_size_(0), requested_(usable_size), cache_bound_(cache_bound) {
  const std::size_t page = page_size();
  std::size_t usable = 0;
  std::size_t guard = 0;
  std::size_t mapping = 0;
  // Checked arithmetic: absurd sizes leave mapping_size_ at 0, and every
  // acquire() then reports them (tests/stack_test.cpp, "absurd sizes").
  std::size_t with_record = 0;
  if (usable_size <= max_stack_size && guard_size <= max_stack_size &&
      round_up(usable_size < min_stack_size ? min_stack_size : usable_size, page, &usable) &&
      (!guard_pages || round_up(guard_size == 0 ? page : guard_size, page, &guard)) &&
      round_up(usable + record_area_size, page, &with_record) && !__builtin_add_overflow(with_record, guard, &mapping)) {
    // The record area shares the top page with the first frames of the
    // stack: a parked context touches one page (and one line of it) there.
    usable_size_ = usable;
    guard_size_ = guard;
    mapping_size_ = mapping;
  }
  // The overflow handler needs an alternate stack on every thread that runs
  // contexts; a pool is made on the thread its environment runs on.
  if (guard_size_ != 0) overflow_guard::prepare_thread();
}

StackPool::~StackPool() {
  for (void* top : cache_) unmap(top);
}

void* StackPool::acquire(ContextId owner) {
  if (!cache_.empty()) {
    void* top = cache_.back();
    cache_.pop_back();
    if (guard_size_ != 0) overflow_guard::set_owner(note_of(top)->guard_slot, base_of(top), owner);
    ++in_use_;
    return top;
  }
  if (mapping_size_ == 0) {
    throw Error(errc::resource_exhausted, "cannot allocate a context stack: a stack of " + std::to_string(requested_) +
                                              " usable bytes (plus its guard region) cannot be mapped (at most " + std::to_string(max_stack_size) + " bytes each)");
  }
  // MAP_NORESERVE: pages are committed when touched, so a large default
  // stack costs only what the context really uses.
  void* base = ::mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw_exhausted("mmap", errno, mapping_size_);
  // Every guard is checked: an unchecked mprotect failure would hand out a
  // stack without a guard (Boost's protected_fixedsize_stack does so with
  // NDEBUG at the mapping limit).
  if (guard_size_ != 0 && ::mprotect(base, guard_size_, PROT_NONE) != 0) {
    int error = errno;
    if (::munmap(base, mapping_size_) != 0) std::perror("switchyard: munmap of a stack that got no guard");
    throw_exhausted("mprotect (guard region)", error, guard_size_);
  }
  char* top = static_cast<char*>(base) + mapping_size_ - record_area_size;
  PoolNote* note = note_of(top);
#if defined(SWITCHYARD_VALGRIND)
  note->valgrind_id = VALGRIND_STACK_REGISTER(static_cast<char*>(base) + guard_size_, top);
#else
  note->valgrind_id = 0;
#endif
  note->guard_slot = guard_size_ != 0 ? overflow_guard::add(base, guard_size_, top, usable_size_, owner)
                                      : overflow_guard::no_slot;
  mapped_stacks_in_process.fetch_add(1, std::memory_order_relaxed);
  ++in_use_;
  return top;
}

void StackPool::release(void* top) noexcept {
  --in_use_;
  if (cache_.size() < cache_bound_) {
    try {
      cache_.push_back(top);
      return;
    } catch (...) {
      // No room to remember it: unmap instead.
    }
  }
  unmap(top);
}

void StackPool::unmap(void* top) noexcept {
  char* base = base_of(top);
#if defined(SWITCHYARD_VALGRIND)
  VALGRIND_STACK_DEREGISTER(note_of(top)->valgrind_id);
#endif
  if (guard_size_ != 0) overflow_guard::remove(note_of(top)->guard_slot, base);
  if (::munmap(base, mapping_size_) != 0) {
    // Only a bad address or length fails, and both come from this pool: the
    // mapping stays (and stays counted) rather than the count lying.
    std::perror("switchyard: munmap of a context stack failed");
    return;
  }
  mapped_stacks_in_process.fetch_sub(1, std::memory_order_relaxed);
}

std::size_t StackPool::mapped_in_process() noexcept {
  return mapped_stacks_in_process.load(std::memory_order_relaxed);
}

}  // namespace switchyard::detail

namespace switchyard {
std::size_t mapped_stacks() noexcept { return detail::StackPool::mapped_in_process(); }
}  // namespace switchyard
