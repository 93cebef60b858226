/* Contexts in several pthreads at once, each thread with its own implicit
 * environment, and everything a thread leaves behind released when it exits.
 * Only <wasix/context.h>, libc and pthreads; the release is observed through
 * /proc/self/maps (and, in the sanitizer build, LeakSanitizer). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 20000

static pthread_barrier_t all_inside;

/* Per-thread state: contexts' entrypoints take no argument, so each thread
 * keeps its state in thread-local storage, as a WASIX program would. */
struct worker {
  wasix_context_id_t ping, pong;
  long pings, pongs;
  int first_id_ok;
  int failures;
  int thread_index;
};
static __thread struct worker *me;

static void ping_entry(void) {
  struct worker *w = me;
  /* All threads meet here, each inside one of its own contexts. */
  pthread_barrier_wait(&all_inside);
  for (;;) {
    ++w->pings;
    if (wasix_context_switch(w->pong) != 0) ++w->failures;
  }
}

static void pong_entry(void) {
  struct worker *w = me;
  for (;;) {
    ++w->pongs;
    /* me is per thread, and a context never moves to another thread. */
    if (me != w) ++w->failures;
    if (wasix_context_switch(w->pongs < ROUNDS ? w->ping : wasix_context_main) != 0) ++w->failures;
  }
}

static void *worker_main(void *arg) {
  struct worker *w = (struct worker *)arg;
  me = w;
  if (wasix_context_create(&w->ping, ping_entry) != 0) ++w->failures;
  if (wasix_context_create(&w->pong, pong_entry) != 0) ++w->failures;
  w->first_id_ok = w->ping == 1 && w->pong == 2;
  if (wasix_context_switch(w->ping) != 0) ++w->failures;
  if (wasix_context_destroy(w->ping) != 0) ++w->failures;
  if (wasix_context_destroy(w->pong) != 0) ++w->failures;
  return NULL;
}

static void test_parallel_threads(void) {
  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  int i;
  memset(workers, 0, sizeof workers);
  CHECK(pthread_barrier_init(&all_inside, NULL, THREADS) == 0);
  for (i = 0; i < THREADS; ++i) {
    workers[i].thread_index = i;
    CHECK(pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0);
  }
  for (i = 0; i < THREADS; ++i) pthread_join(threads[i], NULL);
  for (i = 0; i < THREADS; ++i) {
    CHECK(workers[i].failures == 0);
    CHECK(workers[i].first_id_ok);
    CHECK(workers[i].pings == ROUNDS);
    CHECK(workers[i].pongs == ROUNDS);
  }
  pthread_barrier_destroy(&all_inside);
}

/* ---- release at thread exit ---------------------------------------------- */

#define LEFT_BEHIND 50

static void parks(void) {
  char *owned = (char *)malloc(32); /* freed before parking: stacks are discarded */
  free(owned);
  for (;;) wasix_context_switch(wasix_context_main);
}

/* Creates contexts, starts half of them, destroys none, and exits. */
static void *leaves_contexts(void *arg) {
  int i, *failures = (int *)arg;
  wasix_context_id_t id;
  for (i = 0; i < LEFT_BEHIND; ++i) {
    if (wasix_context_create(&id, parks) != 0) ++*failures;
    if (i % 2 == 0 && wasix_context_switch(id) != 0) ++*failures;
  }
  return NULL;
}

static int count_mappings(void) {
  FILE *maps = fopen("/proc/self/maps", "r");
  int lines = 0, c;
  if (maps == NULL) return -1;
  while ((c = fgetc(maps)) != EOF) lines += c == '\n';
  fclose(maps);
  return lines;
}

static void run_leaving_threads(void) {
  pthread_t threads[THREADS];
  int failures[THREADS] = {0};
  int i;
  for (i = 0; i < THREADS; ++i) CHECK(pthread_create(&threads[i], NULL, leaves_contexts, &failures[i]) == 0);
  for (i = 0; i < THREADS; ++i) {
    pthread_join(threads[i], NULL);
    CHECK(failures[i] == 0);
  }
}

static void test_release_at_thread_exit(void) {
  int baseline, after, round;
  run_leaving_threads(); /* warm-up: libc arenas and thread stacks settle */
  baseline = count_mappings();
  for (round = 0; round < 20; ++round) run_leaving_threads();
  after = count_mappings();
  /* A leak would leave 20 * 4 * 50 = 4000 stacks mapped. */
  printf("mappings: %d after the warm-up, %d after 20 more rounds\n", baseline, after);
  CHECK(baseline > 0);
  CHECK(after - baseline < 100);
}

int main(void) {
  test_parallel_threads();
  test_release_at_thread_exit();
  return check_finish("threads");
}
