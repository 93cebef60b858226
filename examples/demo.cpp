// A small tour: two contexts play ping-pong with main, one is destroyed
// mid-function (its RAII runs), and one fails (its exception reaches main).
#include <cstdio>
#include <stdexcept>

#include <switchyard/switchyard.hpp>

namespace sy = switchyard;

struct Announce {
  const char* what;
  ~Announce() { std::printf("  ~Announce(%s) ran during the unwind\n", what); }
};

int main() {
  int rounds = sy::run_main([] {
    sy::Environment& env = sy::Environment::current();
    int rounds = 0;
    sy::ContextId ping = 0, pong = 0;
    ping = env.create([&] {
      Announce guard{"ping"};
      for (;;) {
        std::printf("ping %d (in context %llu)\n", ++rounds, static_cast<unsigned long long>(env.active()));
        env.switch_to(pong);
      }
    });
    pong = env.create([&] {
      Announce guard{"pong"};
      for (;;) {
        std::printf("pong %d (in context %llu)\n", rounds, static_cast<unsigned long long>(env.active()));
        env.switch_to(rounds < 3 ? ping : sy::main_context_id);
      }
    });
    env.switch_to(ping);
    std::printf("back in main after %d rounds; %zu contexts live\n", rounds, env.live_contexts());
    env.destroy(ping);
    env.destroy(pong);

    sy::ContextId failing = env.create([] { throw std::runtime_error("boom"); });
    try {
      env.switch_to(failing);
    } catch (const std::runtime_error& e) {
      std::printf("main caught the failure of context %llu: %s\n", static_cast<unsigned long long>(failing), e.what());
    }
    std::printf("%zu contexts live, %llu switches\n", env.live_contexts(),
                static_cast<unsigned long long>(env.stats().switches));
    return rounds;
  });
  return rounds == 3 ? 0 : 1;
}
