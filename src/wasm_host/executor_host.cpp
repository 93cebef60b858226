// The one C++20 translation unit of the host: it uses the executor API
// (include/switchyard/executor.hpp), which the C API does not cover, and
// includes no wabt header.
#include "executor_host.hpp"

#include <boost/fiber/operations.hpp>
#include <chrono>

#include "guest.hpp"
#include "switchyard/executor.hpp"

namespace switchyard_wasm {

int run_on_executor(std::vector<std::unique_ptr<Guest>>& guests, std::size_t stack_size) {
  switchyard::Executor executor;
  blocking_hooks.sleep_ns = [](uint64_t nanoseconds) {
    switchyard::Executor::try_current()->sleep_for(std::chrono::nanoseconds(nanoseconds));
  };
  blocking_hooks.yield = [] { boost::this_fiber::yield(); };
  switchyard::Options options;
  if (stack_size != 0) options.stack_size = stack_size;
  std::vector<switchyard::EnvironmentHandle<int>> handles;
  for (auto& guest : guests) {
    Guest* g = guest.get();
    handles.push_back(executor.spawn([g] { return g->run(); }, options));
  }
  executor.run();
  blocking_hooks = BlockingHooks{};
  int status = 0;
  for (auto& handle : handles) {
    const int s = handle.get();
    if (status == 0) status = s;
  }
  return status;
}

}  // namespace switchyard_wasm
