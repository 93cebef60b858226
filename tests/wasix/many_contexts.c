/* 10,000 contexts alive at once in one thread: all created, all started in
 * a chain that passes from each to the next, each resumed again from main,
 * then destroyed in a scattered order. */
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

#include "check.h"

#define COUNT 10000

static wasix_context_id_t ids[COUNT];
static int runs[COUNT];
static int next_to_start;
static int chaining = 1;

static void member(void) {
  const int me = next_to_start++;
  int local = me * 3; /* checked after every resume */
  ++runs[me];
  /* First start: hand over to the next one; the last hands back to main. */
  CHECK_OK(wasix_context_switch(me + 1 < COUNT ? ids[me + 1] : wasix_context_main));
  for (;;) {
    CHECK(!chaining);
    CHECK(local == me * 3);
    ++runs[me];
    wasix_context_switch(wasix_context_main);
  }
}

int main(void) {
  int i, distinct = 1;
  for (i = 0; i < COUNT; ++i) {
    if (wasix_context_create(&ids[i], member) != 0) {
      perror("wasix_context_create");
      return 1;
    }
  }
  for (i = 1; i < COUNT; ++i) distinct &= ids[i] == ids[i - 1] + 1;
  CHECK(distinct);
  CHECK_OK(wasix_context_switch(ids[0]));
  CHECK(next_to_start == COUNT);
  chaining = 0;
  for (i = COUNT - 1; i >= 0; --i) CHECK_OK(wasix_context_switch(ids[i]));
  for (i = 0; i < COUNT; ++i) {
    if (runs[i] != 2) {
      CHECK(runs[i] == 2);
      break;
    }
  }
  /* Destroy in a scattered order: 7919 is prime, so i * 7919 % COUNT visits all. */
  for (i = 0; i < COUNT; ++i) CHECK_OK(wasix_context_destroy(ids[(long)i * 7919 % COUNT]));
  for (i = 0; i < COUNT; i += 997) {
    CHECK_ERRNO(wasix_context_switch(ids[i]), EINVAL);
    CHECK_OK(wasix_context_destroy(ids[i]));
  }
  printf("%d contexts created, run and destroyed\n", COUNT);
  return check_finish("many_contexts");
}
