/* Basic switching as WASIX programs use it: contexts resume where they left
 * off with their locals intact, one entrypoint may serve many contexts, and
 * contexts may switch among themselves, not only through main. */
#include <stdio.h>

#include <wasix/context.h>

#include "check.h"

/* wasmer's own pattern: a context that counts while main keeps resuming it. */
static wasix_context_id_t counter_ctx;
static int stop, counter;

static void counting(void) {
  int local_steps = 0; /* lives on this context's stack across switches */
  for (;;) {
    wasix_context_switch(wasix_context_main);
    if (stop) {
      CHECK(local_steps == counter);
      wasix_context_switch(wasix_context_main);
    }
    ++counter;
    ++local_steps;
  }
}

static void test_resume_with_main(void) {
  int i;
  CHECK_OK(wasix_context_create(&counter_ctx, counting));
  CHECK_OK(wasix_context_switch(counter_ctx));
  for (i = 0; i < 4; ++i) CHECK_OK(wasix_context_switch(counter_ctx));
  stop = 1;
  CHECK_OK(wasix_context_switch(counter_ctx));
  CHECK(counter == 4);
  CHECK_OK(wasix_context_destroy(counter_ctx));
}

/* Three contexts on one entrypoint pass a token around a ring, main last. */
#define RING 3
static wasix_context_id_t ring[RING];
static int next_slot; /* which slot the next started context takes */
static char trace[64];
static int traced;

static void ring_member(void) {
  const int slot = next_slot++;
  int lap;
  for (lap = 0; lap < 3; ++lap) {
    trace[traced++] = (char)('a' + slot);
    if (slot == RING - 1) {
      CHECK_OK(wasix_context_switch(lap == 2 ? wasix_context_main : ring[0]));
    } else {
      CHECK_OK(wasix_context_switch(ring[slot + 1]));
    }
  }
  CHECK(0); /* never resumed after the last lap */
}

static void test_ring(void) {
  int i;
  for (i = 0; i < RING; ++i) CHECK_OK(wasix_context_create(&ring[i], ring_member));
  CHECK_OK(wasix_context_switch(ring[0]));
  trace[traced] = '\0';
  CHECK(strcmp(trace, "abcabcabc") == 0);
  for (i = 0; i < RING; ++i) CHECK_OK(wasix_context_destroy(ring[i]));
}

/* A context may create, switch to and destroy other contexts. */
static wasix_context_id_t parent, child;
static int child_steps;

static void child_entry(void) {
  for (;;) {
    ++child_steps;
    wasix_context_switch(parent);
  }
}

static void parent_entry(void) {
  CHECK_OK(wasix_context_create(&child, child_entry));
  CHECK_OK(wasix_context_switch(child));
  CHECK_OK(wasix_context_switch(child));
  CHECK(child_steps == 2);
  CHECK_OK(wasix_context_destroy(child));
  CHECK_ERRNO(wasix_context_switch(child), EINVAL);
  wasix_context_switch(wasix_context_main);
}

static void test_nested_creation(void) {
  CHECK_OK(wasix_context_create(&parent, parent_entry));
  CHECK_OK(wasix_context_switch(parent));
  CHECK(child_steps == 2);
  CHECK_OK(wasix_context_destroy(parent));
}

int main(void) {
  test_resume_with_main();
  test_ring();
  test_nested_creation();
  return check_finish("switching");
}
