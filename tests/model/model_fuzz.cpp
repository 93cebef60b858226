// libFuzzer entry: every input is an operation stream for the model driver.
// Built with SWITCHYARD_BUILD_FUZZ=ON and clang; run by .ci/fuzz.
#include <cstddef>
#include <cstdint>

#include "model_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  model::run(data, size, "fuzz input");
  return 0;
}
