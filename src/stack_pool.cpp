#include "switchyard/detail/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
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

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// The top of each mapping keeps a small header (the valgrind stack id and
// the slot of its guard page in the overflow table), so that the stack can
// be deregistered when it is unmapped.
struct StackHeader {
  unsigned valgrind_id;
  int guard_slot;
};
constexpr std::size_t header_size = 64;

StackHeader* header_of(const Stack& stack) noexcept {
  return reinterpret_cast<StackHeader*>(static_cast<char*>(stack.top));
}

[[noreturn]] void throw_exhausted(const char* call, int error, std::size_t bytes) {
  throw Error(errc::resource_exhausted, std::string("cannot allocate a context stack: ") + call + " of " +
                                            std::to_string(bytes) + " bytes failed: " + std::strerror(error) +
                                            (error == ENOMEM ? " (out of memory or vm.max_map_count reached)" : ""));
}

}  // namespace

StackPool::StackPool(std::size_t usable_size, bool guard_pages, std::size_t cache_bound)
    : usable_size_(round_up(usable_size < min_stack_size ? min_stack_size : usable_size, page_size())),
      guard_size_(guard_pages ? page_size() : 0),
      guard_pages_(guard_pages),
      cache_bound_(cache_bound) {
  // The overflow handler needs an alternate stack on every thread that runs
  // contexts; a pool is made on the thread its environment runs on.
  if (guard_pages_) overflow_guard::prepare_thread();
}

StackPool::~StackPool() {
  for (const Stack& stack : cache_) unmap(stack);
}

Stack StackPool::acquire(ContextId owner) {
  if (!cache_.empty()) {
    Stack stack = cache_.back();
    cache_.pop_back();
    overflow_guard::set_owner(header_of(stack)->guard_slot, owner);
    ++in_use_;
    return stack;
  }
  // Room for the header above the usable bytes; round to pages.
  const std::size_t mapping_size = guard_size_ + round_up(usable_size_ + header_size, page_size());
  // MAP_NORESERVE: pages are committed when touched, so a large default
  // stack costs only what the context really uses.
  void* base = ::mmap(nullptr, mapping_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw_exhausted("mmap", errno, mapping_size);
  // Every guard is checked: an unchecked mprotect failure would hand out a
  // stack without a guard page (Boost's protected_fixedsize_stack does so
  // with NDEBUG at the mapping limit).
  if (guard_size_ != 0 && ::mprotect(base, guard_size_, PROT_NONE) != 0) {
    int error = errno;
    ::munmap(base, mapping_size);
    throw_exhausted("mprotect (guard page)", error, guard_size_);
  }
  char* end = static_cast<char*>(base) + mapping_size;
  Stack stack{end - header_size, mapping_size - guard_size_ - header_size};
#if defined(SWITCHYARD_VALGRIND)
  header_of(stack)->valgrind_id = VALGRIND_STACK_REGISTER(static_cast<char*>(base) + guard_size_, stack.top);
#else
  header_of(stack)->valgrind_id = 0;
#endif
  header_of(stack)->guard_slot =
      guard_size_ != 0 ? overflow_guard::add(base, guard_size_, usable_size_) : overflow_guard::no_slot;
  overflow_guard::set_owner(header_of(stack)->guard_slot, owner);
  mapped_stacks_in_process.fetch_add(1, std::memory_order_relaxed);
  ++in_use_;
  return stack;
}

void StackPool::release(Stack stack) noexcept {
  --in_use_;
  if (cache_.size() < cache_bound_) {
    try {
      cache_.push_back(stack);
      return;
    } catch (...) {
      // No room to remember it: unmap instead.
    }
  }
  unmap(stack);
}

void StackPool::unmap(Stack stack) noexcept {
#if defined(SWITCHYARD_VALGRIND)
  VALGRIND_STACK_DEREGISTER(header_of(stack)->valgrind_id);
#endif
  overflow_guard::remove(header_of(stack)->guard_slot);
  char* end = static_cast<char*>(stack.top) + header_size;
  const std::size_t mapping_size = stack.size + header_size + guard_size_;
  ::munmap(end - mapping_size, mapping_size);
  mapped_stacks_in_process.fetch_sub(1, std::memory_order_relaxed);
}

std::size_t StackPool::mapped_in_process() noexcept {
  return mapped_stacks_in_process.load(std::memory_order_relaxed);
}

}  // namespace switchyard::detail

namespace switchyard {
std::size_t mapped_stacks() noexcept { return detail::StackPool::mapped_in_process(); }
}  // namespace switchyard
