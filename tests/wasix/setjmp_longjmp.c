/* setjmp/longjmp inside a context: a jmp_buf set in a context stays valid
 * across switches away and back, longjmp out of deep recursion within the
 * context works, and main's own jmp_buf is unaffected by the contexts. */
#include <setjmp.h>
#include <stdio.h>

#include <wasix/context.h>

#include "check.h"

static wasix_context_id_t worker;
static jmp_buf worker_jump;
static jmp_buf main_jump;
static int unwound_depth;

static void recurse_then_jump(int depth) {
  volatile int frame[32]; /* some stack per level */
  frame[0] = depth;
  if (depth == 500) {
    /* Deep inside: leave to main and come back before jumping. */
    wasix_context_switch(wasix_context_main);
    unwound_depth = frame[0]; /* this frame survived the round trip */
    longjmp(worker_jump, depth);
  }
  if (depth < 500) recurse_then_jump(depth + 1);
  CHECK(0); /* skipped by the longjmp */
}

static void jumping_entry(void) {
  volatile int survivors = 7; /* volatile: modified between setjmp and longjmp */
  int value = setjmp(worker_jump);
  if (value == 0) {
    survivors = 8;
    recurse_then_jump(0);
    CHECK(0);
  }
  CHECK(value == 500);
  CHECK(survivors == 8);
  /* A second round: set, switch away, come back, jump. */
  value = setjmp(worker_jump);
  if (value == 0) {
    wasix_context_switch(wasix_context_main);
    longjmp(worker_jump, 2);
  }
  CHECK(value == 2);
  for (;;) wasix_context_switch(wasix_context_main);
}

static void test_longjmp_in_context(void) {
  volatile int main_local = 1;
  CHECK_OK(wasix_context_create(&worker, jumping_entry));
  if (setjmp(main_jump) == 0) {
    CHECK_OK(wasix_context_switch(worker)); /* stops at depth 500 */
    CHECK_OK(wasix_context_switch(worker)); /* longjmps there, parks in round 2 */
    CHECK(unwound_depth == 500);
    CHECK_OK(wasix_context_switch(worker)); /* longjmps again, then parks */
    main_local = 2;
    longjmp(main_jump, 1); /* main's buffer still works after all that */
  }
  CHECK(main_local == 2);
  CHECK_OK(wasix_context_destroy(worker));
}

int main(void) {
  test_longjmp_in_context();
  return check_finish("setjmp_longjmp");
}
