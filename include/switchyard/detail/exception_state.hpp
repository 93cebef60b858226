// Releasing the C++ exception state of a stack that is abandoned.
#pragma once

#include "switchyard/detail/context.hpp"

namespace switchyard::detail {

/// Frees every exception object on the caught-exceptions chain of `eh`, the
/// saved state of a context whose stack is released without being unwound
/// (a C context parked inside a C++ catch handler): its handlers will never
/// end, so the __cxa_end_catch that would have freed each one never comes.
/// Each exception on the chain loses the reference its handlers held, as if
/// the last of them ended: an exception also held elsewhere (an
/// exception_ptr, a dependent rethrow in flight) lives on. `eh` is empty
/// afterwards. Exceptions in flight but not caught on that stack (only
/// counted in `uncaught_exceptions`) cannot be reached and are not freed.
/// Call on the thread that owned the context, not on the abandoned stack.
/// A foreign exception on the chain is deleted through its own cleanup
/// (for glibc's forced unwind that aborts, as the handler ending would).
void release_caught_exceptions(ExceptionState& eh) noexcept;

}  // namespace switchyard::detail
