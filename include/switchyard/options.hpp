// Options of an environment, given to run_main.
#pragma once

#include <cstddef>

namespace switchyard {

/// Default usable stack size: 1 MiB, so that ordinary C programs with deep
/// recursion fit. Pages are only committed when touched, so an idle context
/// costs about one page of RSS whatever this is.
inline constexpr std::size_t default_stack_size = std::size_t{1} << 20;
/// Largest stack or guard region that can be asked for (1 TiB): larger
/// sizes, and sizes whose page rounding overflows, make create() (and
/// Executor::spawn) throw Error{errc::resource_exhausted}.
inline constexpr std::size_t max_stack_size = std::size_t{1} << 40;
/// Smallest accepted stack: smaller requests are rounded up to this.
inline constexpr std::size_t min_stack_size = std::size_t{16} << 10;
/// Default guard region below each stack: 256 KiB of PROT_NONE address space
/// (it costs no memory). A frame that jumps further than the guard is a stack
/// clash that only -fstack-clash-protection catches (docs/SEMANTICS.md).
inline constexpr std::size_t default_guard_size = std::size_t{256} << 10;
/// Default bound of the per-environment cache of released stacks.
inline constexpr std::size_t default_stack_cache = 64;

struct Options {
  /// Usable bytes per context stack, rounded up to whole pages and to at
  /// least min_stack_size.
  std::size_t stack_size = default_stack_size;
  /// A PROT_NONE guard region below each stack, so an overflow faults (and
  /// is reported, naming the context) instead of silently corrupting the
  /// neighbouring memory.
  bool guard_pages = true;
  /// Bytes of that guard region, rounded up to whole pages; 0 means one
  /// page. Larger guards catch larger single frames (a big local array near
  /// the end of a stack) at the cost of address space only.
  std::size_t guard_size = default_guard_size;
  /// false: disabled mode. The entry runs on the caller's stack, the
  /// environment exists with only the main context, and create / switch_to
  /// to any other ID throw Error{errc::unsupported}.
  bool enabled = true;
  /// At most this many released stacks are kept for reuse; 0 disables the
  /// cache (every destroy unmaps).
  std::size_t stack_cache = default_stack_cache;
};

}  // namespace switchyard
