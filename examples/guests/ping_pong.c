/* Guest: two contexts play ping-pong, then hand back to main.
 * Arguments: [ROUNDS] (default 5). Exit code 0 when every ball came back. */
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

static wasix_context_id_t ping, pong;
static int rounds, pings, pongs;

static void ping_entry(void) {
  for (;;) {
    ++pings;
    printf("ping %d\n", pings);
    wasix_context_switch(pong);
  }
}

static void pong_entry(void) {
  for (;;) {
    ++pongs;
    printf("  pong %d\n", pongs);
    wasix_context_switch(pongs < rounds ? ping : wasix_context_main);
  }
}

int guest_main(int argc, char **argv) {
  rounds = argc > 1 ? atoi(argv[1]) : 5;
  pings = pongs = 0;
  if (rounds < 1) {
    fprintf(stderr, "ping_pong: rounds must be positive\n");
    return 2;
  }
  if (wasix_context_create(&ping, ping_entry) != 0 || wasix_context_create(&pong, pong_entry) != 0) {
    perror("ping_pong: wasix_context_create");
    return 1;
  }
  if (wasix_context_switch(ping) != 0) {
    perror("ping_pong: wasix_context_switch");
    return 1;
  }
  wasix_context_destroy(ping);
  wasix_context_destroy(pong);
  printf("ping_pong: %d rounds played\n", rounds);
  fflush(stdout);
  return pings == rounds && pongs == rounds ? 0 : 1;
}
