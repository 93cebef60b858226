// Process-wide facts about context stacks.
#pragma once

#include <cstddef>

namespace switchyard {

/// Stack mappings alive in the process, in every environment, cached ones
/// included. 0 once every run_main has returned: tests use it to prove that
/// no stack leaks.
std::size_t mapped_stacks() noexcept;

}  // namespace switchyard
