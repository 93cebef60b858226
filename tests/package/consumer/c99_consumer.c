/* A C99 program that embeds switchyard through its C API. Prints one line
 * and exits 0 when the contexts behaved. */
#include <stdio.h>

#include <switchyard/switchyard.h>

static sy_context_id worker;
static int steps;

static void worker_entry(void *arg) {
  int *total = (int *)arg;
  for (;;) {
    *total += ++steps;
    sy_switch_to(0);
  }
}

static int main_context(void *arg) {
  int i;
  if (sy_create(worker_entry, arg, &worker) != SY_OK) return 1;
  for (i = 0; i < 10; ++i) {
    if (sy_switch_to(worker) != SY_OK) return 1;
  }
  if (sy_switch_to(12345) != SY_ENOTARGET) return 1;
  return sy_destroy(worker) == SY_OK ? 0 : 1;
}

int main(void) {
  int total = 0, result = -1;
  sy_status status = sy_run_main(main_context, &total, NULL, &result);
  if (status != SY_OK || result != 0 || total != 55) {
    fprintf(stderr, "c99_consumer: %s, result %d, total %d: %s\n", sy_status_str(status), result, total,
            sy_last_error());
    return 1;
  }
  printf("c99_consumer: ok (total %d)\n", total);
  return 0;
}
