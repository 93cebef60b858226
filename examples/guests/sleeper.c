/* Guest: sleeps in a host call from inside one of its contexts. Under
 * switchyard-host --executor the other guests make progress meanwhile, and
 * this guest resumes in the same context when the sleep ends.
 * Arguments: [MILLISECONDS] (default 50). */
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

/* Provided by switchyard-host. */
void switchyard_host_sleep_ms(unsigned milliseconds);

static unsigned milliseconds;
static int woke;

static void sleeper_entry(void) {
  printf("sleeper: sleeping %u ms in a context\n", milliseconds);
  fflush(stdout);
  switchyard_host_sleep_ms(milliseconds);
  woke = 1;
  printf("sleeper: woke up\n");
  fflush(stdout);
  wasix_context_switch(wasix_context_main);
}

int guest_main(int argc, char **argv) {
  wasix_context_id_t id;
  milliseconds = argc > 1 ? (unsigned)atoi(argv[1]) : 50u;
  if (wasix_context_create(&id, sleeper_entry) != 0 || wasix_context_switch(id) != 0) {
    perror("sleeper");
    return 1;
  }
  wasix_context_destroy(id);
  return woke ? 0 : 1;
}
