/* A WASIX context round trip (main -> context -> main) timed from inside the
 * program. Builds unchanged natively (against the library, through
 * <wasix/context.h>) and as a wasm32-wasi guest for switchyard-wasm, so
 * bench/wasm/run.sh can put the three figures side by side.
 *
 *   round_trip [ROUNDS]   (default 1,000,000; prints ns per round trip)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <wasix/context.h>

static wasix_context_id_t peer;

static void bounce(void) {
  for (;;) wasix_context_switch(wasix_context_main);
}

int main(int argc, char **argv) {
  const long rounds = argc > 1 ? atol(argv[1]) : 1000000;
  struct timespec t0, t1;
  long i;
  double ns;
  if (rounds <= 0 || wasix_context_create(&peer, bounce) != 0) return 1;
  for (i = 0; i < 1000; ++i) wasix_context_switch(peer); /* warm up */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (i = 0; i < rounds; ++i) wasix_context_switch(peer);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)rounds;
  printf("%.1f\n", ns);
  wasix_context_destroy(peer);
  return 0;
}
