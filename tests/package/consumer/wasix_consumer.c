/* A WASIX-style program built natively against the installed library: it
 * uses only <wasix/context.h>. With the argument "return", one of its
 * entrypoints returns, which must end it with exit code 129. */
#include <stdio.h>
#include <string.h>

#include <wasix/context.h>

static wasix_context_id_t ping, pong;
static int volleys;

static void ping_entry(void) {
  for (;;) {
    ++volleys;
    wasix_context_switch(pong);
  }
}

static void pong_entry(void) {
  for (;;) {
    ++volleys;
    wasix_context_switch(volleys < 100 ? ping : wasix_context_main);
  }
}

static void returning_entry(void) {}

int main(int argc, char **argv) {
  if (wasix_context_create(&ping, ping_entry) != 0 || wasix_context_create(&pong, pong_entry) != 0) return 1;
  if (wasix_context_switch(ping) != 0 || volleys != 100) return 1;
  if (wasix_context_destroy(ping) != 0 || wasix_context_destroy(pong) != 0) return 1;
  if (argc > 1 && strcmp(argv[1], "return") == 0) {
    wasix_context_id_t returner;
    if (wasix_context_create(&returner, returning_entry) != 0) return 1;
    printf("wasix_consumer: switching to an entrypoint that returns\n");
    wasix_context_switch(returner);
    return 1; /* not reached: the return ends the program with 129 */
  }
  printf("wasix_consumer: ok (%d volleys)\n", volleys);
  return 0;
}
