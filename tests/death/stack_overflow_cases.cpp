// More stack-overflow diagnostics, one case per argument, each run under
// wasix_expect (core.death.stack_overflow_*):
//   reused  - context 2 overflows on the cached stack of destroyed context 1:
//             the message names 2, the stack's current owner.
//   thread  - the overflow happens on a second thread, which got its own
//             alternate signal stack when its environment started.
//   chain   - a fault that is not in a guard page reaches the handler the
//             host installed before switchyard (it exits 42).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <switchyard/switchyard.hpp>
#include <thread>

namespace {
// Each level calls the next through a volatile function pointer and uses
// its frame after the call, so no level can become a loop or a tail call.
void step(volatile char* parent, unsigned level);
void (*volatile next_step)(volatile char*, unsigned) = step;

void step(volatile char* parent, unsigned level) {
  volatile char frame[1024];
  frame[level % sizeof frame] = parent[0];
  next_step(frame, level + 1);
  parent[0] = frame[level % sizeof frame];
}

void overflow() {
  volatile char top[1] = {0};
  step(top, 0);
}

switchyard::Options small_stacks() {
  switchyard::Options options;
  options.stack_size = 64 * 1024;
  return options;
}

void reused() {
  switchyard::run_main(
      [] {
        switchyard::ContextId first = switchyard::create([] { switchyard::switch_to(0); });
        switchyard::switch_to(first);
        switchyard::destroy(first);  // its stack goes to the cache
        switchyard::ContextId second = switchyard::create(overflow);
        std::printf("overflowing in %llu\n", static_cast<unsigned long long>(second));
        std::fflush(stdout);
        switchyard::switch_to(second);
      },
      small_stacks());
}

void on_thread() {
  std::thread worker([] {
    switchyard::run_main(
        [] {
          switchyard::ContextId id = switchyard::create(overflow);
          std::puts("overflowing on a second thread");
          std::fflush(stdout);
          switchyard::switch_to(id);
        },
        small_stacks());
  });
  worker.join();
}

void host_handler(int) {
  const char text[] = "host handler saw a fault\n";
  ssize_t ignored = ::write(STDOUT_FILENO, text, sizeof text - 1);
  (void)ignored;
  ::_exit(42);
}

void chain() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = host_handler;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGSEGV, &action, nullptr);
  switchyard::run_main(
      [] {
        switchyard::ContextId id = switchyard::create([] {
          // A fault that is not in a guard page: switchyard passes it on.
          // An inaccessible page, not a null pointer, which UBSan would
          // report as undefined behaviour before any fault.
          void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (page == MAP_FAILED) ::_exit(3);
          *static_cast<volatile int*>(page) = 1;
        });
        switchyard::switch_to(id);
      },
      small_stacks());
}
}  // namespace

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "";
  if (std::strcmp(which, "reused") == 0)
    reused();
  else if (std::strcmp(which, "thread") == 0)
    on_thread();
  else if (std::strcmp(which, "chain") == 0)
    chain();
  else {
    std::fputs("usage: stack_overflow_cases reused|thread|chain\n", stderr);
    return 2;
  }
  std::puts("not reached");
  return 0;
}
