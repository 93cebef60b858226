/* exit() called inside a context ends the process normally: the exit code is
 * the one given, atexit handlers run and buffered stdio is flushed. Run by
 * wasix_expect. */
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

static wasix_context_id_t ctx, other;

static void at_exit(void) { printf("atexit handler ran\n"); }

static void parked(void) {
  for (;;) wasix_context_switch(wasix_context_main);
}

static void exiting_entry(void) {
  printf("context %llu calls exit(3) with this line unflushed", (unsigned long long)ctx);
  exit(3);
}

int main(void) {
  atexit(at_exit);
  printf("main starts\n");
  if (wasix_context_create(&other, parked) != 0) return 1;
  if (wasix_context_switch(other) != 0) return 1; /* another live context at exit */
  if (wasix_context_create(&ctx, exiting_entry) != 0) return 1;
  wasix_context_switch(ctx);
  printf("main resumed: not reached\n");
  return 0;
}
