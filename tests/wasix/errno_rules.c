/* The return values and errno rules of <wasix/context.h>, and the implicit
 * environment every thread gets on its first call. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <wasix/context.h>

#include "check.h"

static wasix_context_id_t self_id;
static int self_runs;
static int self_after_failed_switch;

static void checks_from_inside(void) {
  ++self_runs;
  /* Destroying the active context or the main context: EINVAL. */
  CHECK_ERRNO(wasix_context_destroy(self_id), EINVAL);
  CHECK_ERRNO(wasix_context_destroy(wasix_context_main), EINVAL);
  /* Switching to yourself is a no-op. */
  CHECK_OK(wasix_context_switch(self_id));
  /* A failed switch leaves the caller running. */
  CHECK_ERRNO(wasix_context_switch(424242), EINVAL);
  self_after_failed_switch = 1;
  wasix_context_switch(wasix_context_main);
  ++self_runs;
  wasix_context_switch(wasix_context_main);
  CHECK(0); /* destroyed while suspended: never resumed */
}

static void never_runs(void) { CHECK(0); }

static void test_rules(void) {
  wasix_context_id_t id = 0, unstarted = 0, later = 0;

  CHECK(wasix_context_main == 0);
  {
    /* The function itself, not only the macro (natively the header inlines
     * it, and the library still exports it for calls through a pointer or
     * from other languages). */
    wasix_context_id_t (*volatile main_fn)(void) = __wasix_context_main;
    CHECK(main_fn() == 0);
  }

  /* NULL pointer or entrypoint: EINVAL, and *context_id untouched. */
  CHECK_ERRNO(wasix_context_create(NULL, never_runs), EINVAL);
  id = 77;
  CHECK_ERRNO(wasix_context_create(&id, NULL), EINVAL);
  CHECK(id == 77);

  /* Main to itself: no-op. Destroying main: EINVAL. */
  CHECK_OK(wasix_context_switch(wasix_context_main));
  CHECK_ERRNO(wasix_context_destroy(wasix_context_main), EINVAL);

  /* Unknown targets. */
  CHECK_ERRNO(wasix_context_switch(1), EINVAL);
  CHECK_ERRNO(wasix_context_switch(UINT64_MAX), EINVAL);
  CHECK_OK(wasix_context_destroy(1));
  CHECK_OK(wasix_context_destroy(UINT64_MAX));

  /* IDs count from 1 on this thread. */
  CHECK_OK(wasix_context_create(&self_id, checks_from_inside));
  CHECK(self_id == 1);
  CHECK(self_runs == 0); /* create does not switch */
  CHECK_OK(wasix_context_switch(self_id));
  CHECK(self_runs == 1);
  CHECK(self_after_failed_switch == 1);
  CHECK_OK(wasix_context_switch(self_id));
  CHECK(self_runs == 2);

  /* Destroy, then everything about that ID is "deleted". */
  CHECK_OK(wasix_context_destroy(self_id));
  CHECK_OK(wasix_context_destroy(self_id)); /* already deleted: no-op */
  CHECK_ERRNO(wasix_context_switch(self_id), EINVAL);
  CHECK(self_runs == 2);

  /* A never-started context is discarded without running. */
  CHECK_OK(wasix_context_create(&unstarted, never_runs));
  CHECK(unstarted == 2);
  CHECK_OK(wasix_context_destroy(unstarted));
  CHECK_ERRNO(wasix_context_switch(unstarted), EINVAL);

  /* IDs are never reused. */
  CHECK_OK(wasix_context_create(&later, never_runs));
  CHECK(later == 3);
  CHECK_OK(wasix_context_destroy(later));

  /* Success leaves errno alone. */
  errno = 1234;
  CHECK_OK(wasix_context_switch(wasix_context_main));
  CHECK_OK(wasix_context_destroy(99));
  CHECK(errno == 1234);
}

/* A fresh thread needs no set-up: its first call may be any of the three. */
static void *first_call_is_switch(void *arg) {
  (void)arg;
  CHECK_OK(wasix_context_switch(wasix_context_main));
  CHECK_ERRNO(wasix_context_switch(1), EINVAL);
  return NULL;
}

static void *first_call_is_destroy(void *arg) {
  (void)arg;
  CHECK_OK(wasix_context_destroy(5));
  CHECK_ERRNO(wasix_context_destroy(wasix_context_main), EINVAL);
  return NULL;
}

static wasix_context_id_t thread_ctx;
static int thread_ctx_ran;

static void thread_entry(void) {
  thread_ctx_ran = 1;
  wasix_context_switch(wasix_context_main);
}

static void *first_call_is_create(void *arg) {
  (void)arg;
  CHECK_OK(wasix_context_create(&thread_ctx, thread_entry));
  CHECK(thread_ctx == 1); /* this thread's own counter */
  CHECK_OK(wasix_context_switch(thread_ctx));
  CHECK(thread_ctx_ran == 1);
  /* Left alive: released at thread exit. */
  return NULL;
}

static void test_fresh_threads(void) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, first_call_is_switch, NULL) == 0);
  pthread_join(t, NULL);
  CHECK(pthread_create(&t, NULL, first_call_is_destroy, NULL) == 0);
  pthread_join(t, NULL);
  CHECK(pthread_create(&t, NULL, first_call_is_create, NULL) == 0);
  pthread_join(t, NULL);
}

int main(void) {
  test_rules();
  test_fresh_threads();
  return check_finish("errno_rules");
}
