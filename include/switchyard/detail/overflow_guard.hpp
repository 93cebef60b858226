// Stack-overflow diagnostics: a process-wide table of guard pages and a
// SIGSEGV handler, run on a per-thread sigaltstack, that recognises a fault
// in a guard page, names the context and its stack size on stderr, and
// re-raises so the process still dies of SIGSEGV (and dumps core).
//
// The table is read from the signal handler, so it is a fixed array of
// atomics: no lock, no allocation on the read side. Writers (StackPool on
// any thread) claim slots with a CAS. See the README ("Reliability") for how a host
// installs or chains its own SIGSEGV handler.
#pragma once

#include <cstddef>
#include <cstdint>

namespace switchyard::detail::overflow_guard {

/// Slots in the table. A stack mapped while the table is full still works;
/// its overflow is then a plain SIGSEGV without the message.
inline constexpr std::size_t capacity = 1u << 15;
/// Returned by add() when the table is full.
inline constexpr int no_slot = -1;

/// Records the stack whose guard region is [guard_begin, guard_begin +
/// guard_size) and whose usable bytes end at `top`, owned by context
/// `owner`. Returns the slot, or no_slot when the table is full (then at
/// once: a full table is not probed). Any thread; lock-free.
int add(const void* guard_begin, std::size_t guard_size, const void* top, std::size_t usable_size,
        std::uint64_t owner) noexcept;
/// Names the context that now owns the stack (a cached stack is reused by a
/// new ID). `slot` comes from memory a stray write may have reached: it is
/// used only when in bounds and holding `guard_begin`, else looked up.
void set_owner(int slot, const void* guard_begin, std::uint64_t context_id) noexcept;
/// Forgets the stack before it is unmapped; `slot` is checked as above.
void remove(int slot, const void* guard_begin) noexcept;

/// Installs the SIGSEGV/SIGBUS handler once per process (chaining to the
/// handler installed before it) and an alternate signal stack on the calling
/// thread unless the thread already has one. Called when an environment with
/// guard pages starts on a thread; idempotent and cheap after the first call.
void prepare_thread();

/// What the handler knows about a fault at `address` while the thread's
/// stack pointer was `stack_pointer`: true, with the owner and the usable
/// size, when it is an overflow of the stack the thread runs on (the
/// address is in that stack's guard region and the stack pointer in that
/// stack, guard included; or the stack pointer itself is in the guard).
/// A stray write into another stack's guard is not an overflow.
/// Async-signal-safe; a host's own handler may call it.
bool find(const void* address, const void* stack_pointer, std::uint64_t* context_id, std::size_t* usable_size) noexcept;

/// Slots in use (for tests).
std::size_t registered() noexcept;

}  // namespace switchyard::detail::overflow_guard
