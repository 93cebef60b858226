/* The C API from C: compiled as C99 (-std=c99 -pedantic), a plain test
 * program that prints every failed check and exits nonzero if any failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/switchyard.h>

static int failures = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

#define CHECK_STATUS(call, expected)                                                                  \
  do {                                                                                                \
    sy_status got_ = (call);                                                                          \
    if (got_ != (expected)) {                                                                         \
      fprintf(stderr, "%s:%d: %s gave %s, expected %s (last error: %s)\n", __FILE__, __LINE__, #call, \
              sy_status_str(got_), sy_status_str(expected), sy_last_error());                         \
      ++failures;                                                                                     \
    }                                                                                                 \
  } while (0)

#define CHECK_ERROR_MENTIONS(text)                                                                        \
  do {                                                                                                    \
    if (strstr(sy_last_error(), (text)) == NULL) {                                                        \
      fprintf(stderr, "%s:%d: last error \"%s\" does not mention \"%s\"\n", __FILE__, __LINE__, sy_last_error(), \
              (text));                                                                                    \
      ++failures;                                                                                         \
    }                                                                                                     \
  } while (0)

/* ---- ping-pong between main and two contexts ---------------------------- */

struct pingpong {
  sy_context_id ping, pong;
  int rounds;
  int log[16];
  int logged;
  sy_context_id seen_active[2];
};

static void ping_entry(void *arg) {
  struct pingpong *p = (struct pingpong *)arg;
  sy_active(&p->seen_active[0]);
  for (;;) {
    p->log[p->logged++] = 1;
    CHECK_STATUS(sy_switch_to(p->pong), SY_OK);
  }
}

static void pong_entry(void *arg) {
  struct pingpong *p = (struct pingpong *)arg;
  sy_active(&p->seen_active[1]);
  for (;;) {
    p->log[p->logged++] = 2;
    ++p->rounds;
    CHECK_STATUS(sy_switch_to(p->rounds < 3 ? p->ping : 0), SY_OK);
  }
}

static int pingpong_main(void *arg) {
  struct pingpong *p = (struct pingpong *)arg;
  sy_context_id active = 99;
  CHECK_STATUS(sy_active(&active), SY_OK);
  CHECK(active == 0);
  CHECK_STATUS(sy_create(ping_entry, p, &p->ping), SY_OK);
  CHECK_STATUS(sy_create(pong_entry, p, &p->pong), SY_OK);
  CHECK(p->ping == 1);
  CHECK(p->pong == 2);
  CHECK(p->logged == 0); /* create does not switch */
  CHECK_STATUS(sy_switch_to(p->ping), SY_OK);
  CHECK_STATUS(sy_active(&active), SY_OK);
  CHECK(active == 0);
  CHECK_STATUS(sy_destroy(p->ping), SY_OK);
  CHECK_STATUS(sy_destroy(p->pong), SY_OK);
  return 42;
}

static void test_ping_pong(void) {
  struct pingpong p;
  int result = 0;
  int i;
  memset(&p, 0, sizeof p);
  CHECK_STATUS(sy_run_main(pingpong_main, &p, NULL, &result), SY_OK);
  CHECK(result == 42);
  CHECK(p.rounds == 3);
  CHECK(p.logged == 6);
  for (i = 0; i < 6; ++i) CHECK(p.log[i] == (i % 2 == 0 ? 1 : 2));
  CHECK(p.seen_active[0] == 1);
  CHECK(p.seen_active[1] == 2);
}

/* ---- no environment ------------------------------------------------------ */

static void never_runs(void *arg) {
  (void)arg;
  abort();
}

static void test_no_environment(void) {
  sy_context_id id = 7;
  CHECK_STATUS(sy_create(never_runs, NULL, &id), SY_ENOENV);
  CHECK(id == 7); /* untouched */
  CHECK_ERROR_MENTIONS("sy_create");
  CHECK_ERROR_MENTIONS("no switchyard environment");
  CHECK_STATUS(sy_switch_to(1), SY_ENOENV);
  CHECK_ERROR_MENTIONS("sy_switch_to(1)");
  CHECK_STATUS(sy_destroy(1), SY_ENOENV);
  CHECK_STATUS(sy_active(&id), SY_ENOENV);
}

/* ---- argument and target errors ------------------------------------------ */

struct errors {
  sy_context_id self_id;
  sy_status destroy_self, destroy_main;
  sy_context_id after_failed_switch;
};

static void destroys_self_entry(void *arg) {
  struct errors *e = (struct errors *)arg;
  e->destroy_self = sy_destroy(e->self_id);
  e->destroy_main = sy_destroy(0);
  CHECK_STATUS(sy_switch_to(e->self_id), SY_OK); /* switch to yourself: no-op */
  CHECK_STATUS(sy_switch_to(12345), SY_ENOTARGET);
  sy_active(&e->after_failed_switch); /* the caller keeps running */
  sy_switch_to(0);
  abort(); /* destroyed while suspended: never resumed */
}

static int errors_main(void *arg) {
  struct errors *e = (struct errors *)arg;
  sy_context_id id = 0;

  CHECK_STATUS(sy_create(NULL, NULL, &id), SY_EINVAL);
  CHECK_ERROR_MENTIONS("entry is NULL");
  CHECK_STATUS(sy_create(never_runs, NULL, NULL), SY_EINVAL);
  CHECK_STATUS(sy_active(NULL), SY_EINVAL);

  CHECK_STATUS(sy_switch_to(0), SY_OK); /* main to itself: no-op */
  CHECK_STATUS(sy_switch_to(99), SY_ENOTARGET);
  CHECK_ERROR_MENTIONS("sy_switch_to(99) in context 0");
  CHECK_ERROR_MENTIONS("99");
  CHECK_STATUS(sy_destroy(0), SY_EINVAL);
  CHECK_ERROR_MENTIONS("sy_destroy(0) in context 0");
  CHECK_STATUS(sy_destroy(99), SY_OK); /* unknown: no-op */

  CHECK_STATUS(sy_create(destroys_self_entry, e, &e->self_id), SY_OK);
  CHECK_STATUS(sy_switch_to(e->self_id), SY_OK);
  CHECK(e->destroy_self == SY_EINVAL);
  CHECK(e->destroy_main == SY_EINVAL);
  CHECK(e->after_failed_switch == e->self_id);
  CHECK_STATUS(sy_destroy(e->self_id), SY_OK);
  CHECK_STATUS(sy_destroy(e->self_id), SY_OK); /* already destroyed: no-op */
  CHECK_STATUS(sy_switch_to(e->self_id), SY_ENOTARGET);

  /* IDs are never reused. */
  CHECK_STATUS(sy_create(never_runs, NULL, &id), SY_OK);
  CHECK(id == e->self_id + 1);
  CHECK_STATUS(sy_destroy(id), SY_OK); /* never started: its entry never runs */
  CHECK_STATUS(sy_switch_to(id), SY_ENOTARGET);
  return 0;
}

static void test_errors(void) {
  struct errors e;
  int result = -1;
  memset(&e, 0, sizeof e);
  CHECK_STATUS(sy_run_main(errors_main, &e, NULL, &result), SY_OK);
  CHECK(result == 0);
  CHECK_STATUS(sy_run_main(NULL, NULL, NULL, NULL), SY_EINVAL);
}

/* ---- destroy releases a C context without running more of its code ------- */

struct release {
  int before, after;
  char *buffer; /* malloc'd by the context; the test frees it */
};

static void stops_midway_entry(void *arg) {
  struct release *r = (struct release *)arg;
  r->buffer = (char *)malloc(64);
  strcpy(r->buffer, "still here");
  r->before = 1;
  sy_switch_to(0);
  r->after = 1; /* must never run */
  sy_switch_to(0);
}

static int release_main(void *arg) {
  struct release *r = (struct release *)arg;
  sy_context_id id;
  CHECK_STATUS(sy_create(stops_midway_entry, r, &id), SY_OK);
  CHECK_STATUS(sy_switch_to(id), SY_OK);
  CHECK(r->before == 1);
  CHECK_STATUS(sy_destroy(id), SY_OK);
  CHECK(r->after == 0);
  CHECK(strcmp(r->buffer, "still here") == 0); /* heap data outlives the context */
  free(r->buffer);
  return 0;
}

static void test_destroy_releases_without_running(void) {
  struct release r;
  memset(&r, 0, sizeof r);
  CHECK_STATUS(sy_run_main(release_main, &r, NULL, NULL), SY_OK);
  CHECK(r.before == 1);
  CHECK(r.after == 0);
}

/* ---- teardown: contexts left alive when main returns ------------------- */

static int left_running;

static void waits_forever_entry(void *arg) {
  (void)arg;
  ++left_running;
  sy_switch_to(0);
  left_running = -1000; /* teardown must not resume it */
}

static int leaves_contexts_main(void *arg) {
  int i;
  sy_context_id id;
  (void)arg;
  for (i = 0; i < 5; ++i) {
    CHECK_STATUS(sy_create(waits_forever_entry, NULL, &id), SY_OK);
    if (i % 2 == 0) CHECK_STATUS(sy_switch_to(id), SY_OK); /* some started, some not */
  }
  return 3;
}

static void test_teardown(void) {
  int result = 0;
  left_running = 0;
  CHECK_STATUS(sy_run_main(leaves_contexts_main, NULL, NULL, &result), SY_OK);
  CHECK(result == 3);
  CHECK(left_running == 3);
  /* The environment is gone. */
  CHECK_STATUS(sy_switch_to(0), SY_ENOENV);
}

/* ---- an entry that returns ----------------------------------------------- */

static int returned_entries;

static void returns_entry(void *arg) {
  (void)arg;
  ++returned_entries;
}

static void switches_to_returner_entry(void *arg) {
  sy_switch_to(*(sy_context_id *)arg);
  abort(); /* the failure goes to main, never back here */
}

static int entry_returns_main(void *arg) {
  sy_context_id id, relay, again;
  (void)arg;
  CHECK_STATUS(sy_create(returns_entry, NULL, &id), SY_OK);
  CHECK_STATUS(sy_switch_to(id), SY_EENTRYRETURNED);
  CHECK_ERROR_MENTIONS("sy_switch_to(1) in context 0");
  CHECK_ERROR_MENTIONS("context 1 returned from its entry");
  CHECK(returned_entries == 1);
  CHECK_STATUS(sy_switch_to(id), SY_ENOTARGET); /* it has ended */
  CHECK_STATUS(sy_destroy(id), SY_OK);

  /* Reported to main even when main switched to another context. */
  CHECK_STATUS(sy_create(returns_entry, NULL, &again), SY_OK);
  CHECK_STATUS(sy_create(switches_to_returner_entry, &again, &relay), SY_OK);
  CHECK_STATUS(sy_switch_to(relay), SY_EENTRYRETURNED);
  CHECK_ERROR_MENTIONS("context 2 returned");
  CHECK(returned_entries == 2);
  CHECK_STATUS(sy_destroy(relay), SY_OK);
  return 0;
}

static void test_entry_returns(void) {
  returned_entries = 0;
  CHECK_STATUS(sy_run_main(entry_returns_main, NULL, NULL, NULL), SY_OK);
}

/* ---- options ------------------------------------------------------------- */

static int disabled_main(void *arg) {
  sy_context_id id = 0;
  (void)arg;
  CHECK_STATUS(sy_active(&id), SY_OK);
  CHECK(id == 0);
  CHECK_STATUS(sy_create(never_runs, NULL, &id), SY_ENOTSUP);
  CHECK_ERROR_MENTIONS("disabled");
  CHECK_STATUS(sy_switch_to(1), SY_ENOTSUP);
  CHECK_STATUS(sy_switch_to(0), SY_OK);
  return 5;
}

static int nested_main(void *arg) {
  (void)arg;
  return 1;
}

static int nests_main(void *arg) {
  int result = 77;
  (void)arg;
  CHECK_STATUS(sy_run_main(nested_main, NULL, NULL, &result), SY_EALREADY);
  CHECK_ERROR_MENTIONS("sy_run_main");
  CHECK(result == 77);
  return 0;
}

static void deep_entry(void *arg) {
  /* Touches 96 KiB of a 128 KiB stack. */
  volatile char block[96 * 1024];
  memset((char *)block, 1, sizeof block);
  *(int *)arg = block[100];
  sy_switch_to(0);
}

static int small_stack_main(void *arg) {
  sy_context_id id;
  int seen = 0;
  (void)arg;
  CHECK_STATUS(sy_create(deep_entry, &seen, &id), SY_OK);
  CHECK_STATUS(sy_switch_to(id), SY_OK);
  CHECK(seen == 1);
  return 0;
}

static int huge_stack_main(void *arg) {
  sy_context_id id = 0;
  int i;
  (void)arg;
  CHECK_STATUS(sy_create(never_runs, NULL, &id), SY_ENOMEM);
  CHECK_ERROR_MENTIONS("sy_create in context 0");
  CHECK_ERROR_MENTIONS("stack");
  /* The environment stays usable. */
  for (i = 0; i < 3; ++i) CHECK_STATUS(sy_switch_to(0), SY_OK);
  return 0;
}

static void test_options(void) {
  sy_options options;
  int result = 0;
  memset(&options, 0xff, sizeof options);
  sy_options_init(&options);
  CHECK(options.stack_size == 1024 * 1024);
  CHECK(options.guard_pages == 1);
  CHECK(options.enabled == 1);
  sy_options_init(NULL); /* no crash */

  options.enabled = 0;
  CHECK_STATUS(sy_run_main(disabled_main, NULL, &options, &result), SY_OK);
  CHECK(result == 5);

  sy_options_init(&options);
  CHECK_STATUS(sy_run_main(nests_main, NULL, &options, NULL), SY_OK);

  options.stack_size = 128 * 1024;
  options.guard_pages = 0;
  CHECK_STATUS(sy_run_main(small_stack_main, NULL, &options, NULL), SY_OK);

  /* 2^47 bytes per stack: more than the address space, so mmap fails. */
  sy_options_init(&options);
  options.stack_size = (size_t)1 << 47;
  CHECK_STATUS(sy_run_main(huge_stack_main, NULL, &options, NULL), SY_OK);
}

/* ---- status strings and the last-error message --------------------------- */

static void test_status_strings(void) {
  int s;
  for (s = SY_OK; s <= SY_EFAILED; ++s) {
    const char *text = sy_status_str((sy_status)s);
    CHECK(text != NULL);
    CHECK(strncmp(text, "SY_", 3) == 0);
  }
  CHECK(strstr(sy_status_str(SY_ENOTARGET), "SY_ENOTARGET") != NULL);
  CHECK(strstr(sy_status_str(SY_EENTRYRETURNED), "SY_EENTRYRETURNED") != NULL);
  CHECK(sy_status_str((sy_status)999) != NULL);
  CHECK(sy_status_str((sy_status)-1) != NULL);
  CHECK(strstr(sy_status_str((sy_status)999), "unknown") != NULL);
  CHECK(SY_OK == 0);
  CHECK(SY_EFAILED == 10);
  CHECK(sy_last_error() != NULL);
}

int main(void) {
  CHECK(sy_last_error() != NULL);
  CHECK(strcmp(sy_last_error(), "") == 0); /* no failure yet on this thread */
  test_ping_pong();
  test_no_environment();
  test_errors();
  test_destroy_releases_without_running();
  test_teardown();
  test_entry_returns();
  test_options();
  test_status_strings();
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  puts("c_api_test: all checks passed");
  return 0;
}
