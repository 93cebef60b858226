#include "switchyard/detail/overflow_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

namespace switchyard::detail::overflow_guard {
namespace {

// A slot's `begin` is 0 when free and `busy` while a writer fills or clears
// it; the handler only trusts a slot whose `begin` is a real address and is
// the same before and after it reads the other fields.
constexpr std::uintptr_t busy = 1;

struct Slot {
  std::atomic<std::uintptr_t> begin{0};  // guard region
  std::atomic<std::uintptr_t> end{0};
  std::atomic<std::uintptr_t> top{0};    // end of the usable bytes
  std::atomic<std::uint64_t> owner{0};
  std::atomic<std::size_t> usable{0};
};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free,
              "the guard table is read from a signal handler: its atomics must "
              "be lock-free");

// Zero-initialised static storage (1 MiB of bss, touched only where used).
constinit Slot table[capacity];
constinit std::atomic<std::size_t> used{0};

// The handlers that were installed before ours; faults that are not in a
// guard page go to them. Written once, before our handler is installed.
struct sigaction previous_segv;
struct sigaction previous_bus;
std::once_flag install_once;

std::size_t home_of(const void* address) noexcept {
  // Fibonacci hashing of the page number: neighbouring stacks spread out.
  const auto page = reinterpret_cast<std::uintptr_t>(address) >> 12;
  return static_cast<std::size_t>((page * 0x9E3779B97F4A7C15ull) >> 17) % capacity;
}

// --- async-signal-safe output -----------------------------------------------
struct Line {
  char text[256];
  std::size_t length = 0;
  void put(const char* s) noexcept {
    while (*s != '\0' && length < sizeof text) text[length++] = *s++;
  }
  void put_unsigned(std::uint64_t value, unsigned base = 10) noexcept {
    char digits[24];
    std::size_t n = 0;
    do {
      digits[n++] = "0123456789abcdef"[value % base];
      value /= base;
    } while (value != 0);
    while (n > 0 && length < sizeof text) text[length++] = digits[--n];
  }
  void write_to_stderr() const noexcept {
    std::size_t done = 0;
    while (done < length) {
      ssize_t n = ::write(STDERR_FILENO, text + done, length - done);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }
};

const void* fault_stack_pointer(void* ucontext) noexcept {
#if defined(__x86_64__)
  return reinterpret_cast<const void*>(static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const void*>(static_cast<ucontext_t*>(ucontext)->uc_mcontext.sp);
#else
  (void)ucontext;
  return nullptr;
#endif
}

void restore_default(int sig) noexcept {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(sig, &action, nullptr);
}

void on_fault(int sig, siginfo_t* info, void* ucontext) {
  std::uint64_t id = 0;
  std::size_t usable = 0;
  // The fault address is in the guard region when a frame touches it; the
  // stack pointer is there when a call pushes its return address into it.
  if (find(info->si_addr, fault_stack_pointer(ucontext), &id, &usable)) {
    Line line;
    line.put("switchyard: stack overflow in context ");
    line.put_unsigned(id);
    line.put(": it used up its stack of ");
    line.put_unsigned(usable);
    line.put(" bytes (fault at 0x");
    line.put_unsigned(reinterpret_cast<std::uintptr_t>(info->si_addr), 16);
    line.put(", in its guard region); raise Options::stack_size. Re-raising ");
    line.put(sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
    line.put(".\n");
    line.write_to_stderr();
    // Returning re-runs the faulting instruction, which faults again under
    // the default action: the process dies of the signal and dumps core.
    restore_default(sig);
    return;
  }
  const struct sigaction& previous = sig == SIGBUS ? previous_bus : previous_segv;
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(sig, info, ucontext);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  // Nobody else wants it: die of the signal as if we were never installed.
  restore_default(sig);
  if (info->si_code <= 0) ::raise(sig);  // sent by kill(): it would not recur
}

void install_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGSEGV, nullptr, &previous_segv);
  ::sigaction(SIGBUS, nullptr, &previous_bus);
  ::sigaction(SIGSEGV, &action, nullptr);
  ::sigaction(SIGBUS, &action, nullptr);
}

// The alternate signal stack of one thread: the overflowing context has no
// stack left to run the handler on. Freed when the thread exits, unless the
// host replaced it by then.
struct AltStack {
  void* memory = nullptr;
  std::size_t size = 0;
  AltStack() {
    stack_t current;
    if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) return;  // the host's
    std::size_t wanted = 64 * 1024;
#if defined(_SC_SIGSTKSZ)
    long dynamic = ::sysconf(_SC_SIGSTKSZ);  // glibc 2.34+: depends on the CPU's register state
    if (dynamic > 0) wanted = std::max(wanted, static_cast<std::size_t>(dynamic));
#endif
    void* mapping = ::mmap(nullptr, wanted, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) return;  // no diagnostics on this thread, the fault still kills
    stack_t stack;
    stack.ss_sp = mapping;
    stack.ss_size = wanted;
    stack.ss_flags = 0;
    if (::sigaltstack(&stack, nullptr) != 0) {
      ::munmap(mapping, wanted);
      return;
    }
    memory = mapping;
    size = wanted;
  }
  ~AltStack() {
    if (memory == nullptr) return;
    stack_t current;
    if (::sigaltstack(nullptr, &current) == 0 && current.ss_sp == memory && (current.ss_flags & SS_ONSTACK) == 0) {
      stack_t off;
      std::memset(&off, 0, sizeof off);
      off.ss_flags = SS_DISABLE;
      ::sigaltstack(&off, nullptr);
      ::munmap(memory, size);
    }
  }
  AltStack(const AltStack&) = delete;
  AltStack& operator=(const AltStack&) = delete;
};

}  // namespace

int add(const void* guard_begin, std::size_t guard_size, const void* top, std::size_t usable_size,
        std::uint64_t owner) noexcept {
  if (used.load(std::memory_order_relaxed) >= capacity) return no_slot;
  const auto begin = reinterpret_cast<std::uintptr_t>(guard_begin);
  std::size_t index = home_of(guard_begin);
  for (std::size_t probes = 0; probes < capacity; ++probes, index = (index + 1) % capacity) {
    Slot& slot = table[index];
    std::uintptr_t expected = 0;
    if (!slot.begin.compare_exchange_strong(expected, busy, std::memory_order_acquire)) continue;
    slot.end.store(begin + guard_size, std::memory_order_relaxed);
    slot.top.store(reinterpret_cast<std::uintptr_t>(top), std::memory_order_relaxed);
    slot.usable.store(usable_size, std::memory_order_relaxed);
    slot.owner.store(owner, std::memory_order_relaxed);
    slot.begin.store(begin, std::memory_order_release);
    used.fetch_add(1, std::memory_order_relaxed);
    return static_cast<int>(index);
  }
  return no_slot;
}

namespace {
// The slot that holds `guard_begin`: `hint` when it checks out, else a scan
// (only after the hint was damaged). -1 when not registered.
long checked_slot(int hint, const void* guard_begin) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(guard_begin);
  if (hint >= 0 && static_cast<std::size_t>(hint) < capacity &&
      table[hint].begin.load(std::memory_order_acquire) == begin) {
    return hint;
  }
  if (hint == no_slot) return -1;
  for (std::size_t i = 0; i < capacity; ++i) {
    if (table[i].begin.load(std::memory_order_acquire) == begin) return static_cast<long>(i);
  }
  return -1;
}
}  // namespace

void set_owner(int slot, const void* guard_begin, std::uint64_t context_id) noexcept {
  const long index = checked_slot(slot, guard_begin);
  if (index >= 0) table[index].owner.store(context_id, std::memory_order_release);
}

void remove(int slot, const void* guard_begin) noexcept {
  const long index = checked_slot(slot, guard_begin);
  if (index < 0) return;
  Slot& entry = table[index];
  entry.begin.store(busy, std::memory_order_release);
  entry.end.store(0, std::memory_order_relaxed);
  entry.top.store(0, std::memory_order_relaxed);
  entry.owner.store(0, std::memory_order_relaxed);
  entry.usable.store(0, std::memory_order_relaxed);
  entry.begin.store(0, std::memory_order_release);
  used.fetch_sub(1, std::memory_order_relaxed);
}

bool find(const void* address, const void* stack_pointer, std::uint64_t* context_id, std::size_t* usable_size) noexcept {
  const auto where = reinterpret_cast<std::uintptr_t>(address);
  const auto sp = reinterpret_cast<std::uintptr_t>(stack_pointer);
  // A full scan: it only runs on a fault, and a stale probe chain (slots
  // removed in between) can never hide an entry from it.
  for (Slot& slot : table) {
    const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (begin <= busy) continue;
    const std::uintptr_t end = slot.end.load(std::memory_order_acquire);
    const std::uintptr_t top = slot.top.load(std::memory_order_acquire);
    const std::uint64_t owner = slot.owner.load(std::memory_order_acquire);
    const std::size_t usable = slot.usable.load(std::memory_order_acquire);
    if (slot.begin.load(std::memory_order_acquire) != begin) continue;
    const bool sp_in_guard = begin <= sp && sp < end;
    const bool overflow = sp_in_guard || (begin <= where && where < end && begin <= sp && sp <= top);
    if (!overflow) continue;
    *context_id = owner;
    *usable_size = usable;
    return true;
  }
  return false;
}

std::size_t registered() noexcept {
  return used.load(std::memory_order_relaxed);
}

void prepare_thread() {
  std::call_once(install_once, install_handlers);
  thread_local AltStack alt_stack;
  (void)alt_stack;
}

}  // namespace switchyard::detail::overflow_guard
