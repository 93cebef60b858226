// A context that overflows its stack must fault on the guard page (the
// process dies of SIGSEGV) instead of silently writing below its stack.
// Registered as core.death.stack_overflow, run under wasix_expect.
#include <cstdio>

#include <switchyard/switchyard.hpp>

namespace {
// The callee reads the caller's frame, so the compiler can turn this into
// neither a loop nor a tail call: every level really takes stack.
int down(volatile char* parent) {
  volatile char frame[512];
  frame[0] = static_cast<char>(parent[0] + 1);
  int below = down(frame);
  frame[1] = static_cast<char>(below);
  return frame[1];
}
}  // namespace

int main() {
  switchyard::Options options;
  options.stack_size = 64 * 1024;
  switchyard::run_main([] {
    switchyard::ContextId id = switchyard::create([] {
      volatile char top[1] = {0};
      down(top);
    });
    std::puts("overflowing");
    std::fflush(stdout);
    switchyard::switch_to(id);
  }, options);
  std::puts("not reached");
  return 0;
}
