/* An entrypoint that returns ends the program with exit code 129 and a
 * message on stderr naming the context; stdio is flushed. Run by
 * wasix_expect, which checks the code, the message and the flushed text. */
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

static wasix_context_id_t relay, returner;

static void returner_entry(void) {
  printf("context %llu returns now\n", (unsigned long long)returner);
  /* returning from an entrypoint is not allowed: the program ends */
}

static void relay_entry(void) {
  wasix_context_switch(returner);
  printf("relay resumed: not reached\n");
  for (;;) wasix_context_switch(wasix_context_main);
}

int main(void) {
  /* stdout is a file here, so this stays buffered until exit flushes it. */
  printf("main starts\n");
  if (wasix_context_create(&relay, relay_entry) != 0) return 1;
  if (wasix_context_create(&returner, returner_entry) != 0) return 1;
  wasix_context_switch(relay); /* the return ends the program from here */
  printf("main resumed: not reached\n");
  return 0;
}
