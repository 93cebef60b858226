/* Guest: a context whose entrypoint returns, which WASIX does not allow.
 * Under wasmer, and natively through <wasix/context.h>, the program ends
 * with exit code 129; switchyard-host ends only this guest, with 129. */
#include <stdio.h>

#include <wasix/context.h>

static wasix_context_id_t worker;

static void worker_entry(void) {
  printf("returns: context %llu returns from its entrypoint\n", (unsigned long long)worker);
  fflush(stdout);
}

int guest_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  if (wasix_context_create(&worker, worker_entry) != 0) return 1;
  wasix_context_switch(worker);
  printf("returns: main resumed after the return (must not happen)\n");
  return 0;
}
