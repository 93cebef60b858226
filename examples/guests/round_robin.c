/* Guest: a round-robin scheduler of 1,000 green threads on WASIX contexts.
 * Main is the scheduler: it resumes each runnable thread in turn; a thread
 * does one step of work and yields back. Thread i finishes after
 * STEPS + i % 7 steps; the scheduler then destroys it and skips it.
 * Arguments: [THREADS [STEPS]] (default 1000 and 20). Exit code 0 when every
 * thread did all its steps in order. */
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

struct green_thread {
  wasix_context_id_t context;
  int steps_wanted;
  int steps_done;
  int finished;
  long last_tick; /* scheduler tick of its previous step: steps come in turn */
  int out_of_order;
};

static struct green_thread *threads;
static int thread_count;
static int current;  /* index of the thread the scheduler resumed */
static long tick;    /* scheduler ticks */
static int starting; /* index handed to a thread on its first run */

static void yield_to_scheduler(void) { wasix_context_switch(wasix_context_main); }

static void green_thread_entry(void) {
  struct green_thread *self = &threads[starting];
  for (;;) {
    if (self->steps_done > 0 && self->last_tick >= tick) self->out_of_order = 1;
    self->last_tick = tick;
    if (++self->steps_done == self->steps_wanted) self->finished = 1;
    yield_to_scheduler();
  }
}

int guest_main(int argc, char **argv) {
  int steps = 20, runnable, i, bad = 0;
  long switches = 0;
  thread_count = argc > 1 ? atoi(argv[1]) : 1000;
  if (argc > 2) steps = atoi(argv[2]);
  if (thread_count < 1 || steps < 1) {
    fprintf(stderr, "round_robin: THREADS and STEPS must be positive\n");
    return 2;
  }
  threads = (struct green_thread *)calloc((size_t)thread_count, sizeof *threads);
  if (threads == NULL) return 1;
  tick = 0;
  for (i = 0; i < thread_count; ++i) {
    threads[i].steps_wanted = steps + i % 7;
    if (wasix_context_create(&threads[i].context, green_thread_entry) != 0) {
      perror("round_robin: wasix_context_create");
      return 1;
    }
  }
  runnable = thread_count;
  while (runnable > 0) {
    ++tick;
    for (current = 0; current < thread_count; ++current) {
      struct green_thread *t = &threads[current];
      if (t->finished) continue;
      starting = current;
      if (wasix_context_switch(t->context) != 0) {
        perror("round_robin: wasix_context_switch");
        return 1;
      }
      ++switches;
      if (t->finished) {
        wasix_context_destroy(t->context);
        --runnable;
      }
    }
  }
  for (i = 0; i < thread_count; ++i) {
    if (threads[i].steps_done != threads[i].steps_wanted || threads[i].out_of_order) ++bad;
  }
  printf("round_robin: %d green threads, %ld switches, %ld rounds, %d wrong\n", thread_count, switches, tick, bad);
  fflush(stdout);
  free(threads);
  threads = NULL;
  return bad == 0 ? 0 : 1;
}
