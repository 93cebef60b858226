// release_caught_exceptions: libstdc++'s caught-exceptions chain, walked
// from outside the stack that owned it.
//
// The chain is libstdc++'s (libsupc++/unwind-cxx.h, eh_catch.cc):
// __cxa_eh_globals::caughtExceptions points at the innermost caught
// exception's __cxa_exception header, and each header links to the next
// outer one through nextException. A dependent exception (made by
// std::rethrow_exception) has a __cxa_dependent_exception header of the same
// layout up to unwindHeader, so both are read through one mirror below.
#include "switchyard/detail/exception_state.hpp"

#include <unwind.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <typeinfo>

#if defined(_LIBCPP_VERSION)
#error "switchyard's exception state handling follows libstdc++ (libsupc++); libc++ is not supported"
#endif
#if defined(__ARM_EABI_UNWINDER__)
#error "the ARM EH ABI lays __cxa_exception out differently; switchyard supports x86_64 and aarch64"
#endif

namespace switchyard::detail {

namespace {

// Mirror of libsupc++'s __cxa_exception (generic unwinder layout). Only
// nextException, handlerCount and unwindHeader are used; the others keep
// the offsets.
struct CxaException {
  std::type_info* exception_type;
  void (*exception_destructor)(void*);
  void (*unexpected_handler)();
  std::terminate_handler terminate_handler;
  CxaException* next_exception;
  int handler_count;  // handlers that caught it; negated while it is rethrown
  int handler_switch_value;
  const unsigned char* action_record;
  const unsigned char* language_specific_data;
  _Unwind_Ptr catch_temp;
  void* adjusted_ptr;
  _Unwind_Exception unwind_header;  // last: the thrown object (if primary) follows it
};
static_assert(sizeof(void*) != 8 || offsetof(CxaException, unwind_header) == 80,
              "__cxa_exception layout differs from libsupc++'s on LP64");

// "GNUCC++\0" (primary) and "GNUCC++\x01" (dependent): libsupc++'s classes.
constexpr std::uint64_t gxx_primary_class = 0x474e5543432b2b00ull;
constexpr std::uint64_t gxx_dependent_class = 0x474e5543432b2b01ull;

bool is_gxx(_Unwind_Exception_Class exception_class) noexcept {
  return exception_class == gxx_primary_class || exception_class == gxx_dependent_class;
}

}  // namespace

void release_caught_exceptions(ExceptionState& eh) noexcept {
  auto* header = static_cast<CxaException*>(eh.caught_exceptions);
  eh = ExceptionState{};
  while (header != nullptr) {
    if (!is_gxx(header->unwind_header.exception_class)) {
      // __cxa_begin_catch takes a foreign exception only onto an empty chain
      // (it terminates otherwise), so it is the outermost one, and its
      // nextException is not ours to read. __cxa_end_catch deletes it so.
      _Unwind_DeleteException(&header->unwind_header);
      break;
    }
    CxaException* const next = header->next_exception;
    // handler_count > 0: that many handlers on the abandoned stack; the last
    // one's __cxa_end_catch would delete it. < 0: rethrown and propagating on
    // that stack, where no handler will ever catch it now. Either way the
    // chain holds one reference (for a dependent: to its primary), which
    // _Unwind_DeleteException drops, destroying the object if it was the last.
    _Unwind_DeleteException(&header->unwind_header);
    header = next;
  }
}

}  // namespace switchyard::detail
