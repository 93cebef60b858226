// Guest (C++): an exception leaves a context's entrypoint. WASIX rethrows it
// in main from the pending wasix_context_switch; this guest's main does not
// catch it, so it leaves guest_main and switchyard-host reports the guest as
// failed with the exception's message. The host and the other guests go on.
#include <wasix/context.h>

#include <cstdio>
#include <stdexcept>
#include <string>

extern "C" int guest_main(int argc, char** argv) {
  static std::string reason;
  reason = argc > 1 ? argv[1] : "the guest gave up";
  wasix_context_id_t worker;
  if (wasix_context_create(&worker, [] { throw std::runtime_error("thrown by a guest context: " + reason); }) != 0) {
    return 1;
  }
  wasix_context_switch(worker);
  std::puts("throws: not reached");
  return 0;
}
