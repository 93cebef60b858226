// More stack-overflow diagnostics, one case per argument, each run under
// wasix_expect (core.death.stack_overflow_*):
//   reused  - context 2 overflows on the cached stack of destroyed context 1:
//             the message names 2, the stack's current owner.
//   thread  - the overflow happens on a second thread, which got its own
//             alternate signal stack when its environment started.
//   chain   - a fault that is not in a guard page reaches the handler the
//             host installed before switchyard (it exits 42).
//   clash   - a 32 KiB local array near the end of a 64 KiB stack: one frame
//             that jumps far past a one-page guard, caught by the default
//             256 KiB guard region and reported, naming context 2.
//   wild    - main writes into the guard region of suspended context 1: a
//             stray write, not an overflow of the running stack, so no
//             "stack overflow" message; the process dies of SIGSEGV.
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

// Recurses `levels` deep with 1 KiB frames, then touches the lowest byte of
// a 32 KiB array (stacks grow down: the array's first byte is its lowest).
void deep_then_big(unsigned levels) {
  if (levels > 0) {
    volatile char frame[1024];
    frame[0] = static_cast<char>(levels);
    deep_then_big(levels - 1);
    frame[1] = frame[0];
    return;
  }
  volatile char big[32 * 1024];
  big[0] = 1;
  big[sizeof big - 1] = big[0];
}
void (*volatile deep_then_big_ptr)(unsigned) = deep_then_big;

void clash() {
  switchyard::run_main(
      [] {
        // A suspended neighbour whose stack the clash would reach with a
        // one-page guard.
        switchyard::ContextId neighbour = switchyard::create([] { switchyard::switch_to(0); });
        switchyard::switch_to(neighbour);
        switchyard::ContextId id = switchyard::create([] { deep_then_big_ptr(44); });
        std::printf("clashing in %llu\n", static_cast<unsigned long long>(id));
        std::fflush(stdout);
        switchyard::switch_to(id);
      },
      small_stacks());
}

void wild() {
  switchyard::run_main(
      [] {
        static volatile char* inside = nullptr;
        switchyard::ContextId id = switchyard::create([] {
          volatile char local = 0;
          inside = &local;
          switchyard::switch_to(0);
        });
        switchyard::switch_to(id);
        // 64 KiB of stack lie below `inside`, rounded; 128 KiB below it is
        // well inside the 256 KiB guard region, and far from main's stack.
        volatile char* stray = inside - 128 * 1024;
        std::puts("writing into a suspended context's guard region");
        std::fflush(stdout);
        *stray = 1;
      },
      small_stacks());
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
  else if (std::strcmp(which, "clash") == 0)
    clash();
  else if (std::strcmp(which, "wild") == 0)
    wild();
  else {
    std::fputs("usage: stack_overflow_cases reused|thread|chain|clash|wild\n", stderr);
    return 2;
  }
  std::puts("not reached");
  return 0;
}
