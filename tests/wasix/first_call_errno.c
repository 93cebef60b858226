/* A successful call never changes errno, the first one in a process
 * included: that one creates the thread's environment and the logger, whose
 * colour sink asks isatty(stderr), which sets ENOTTY when stderr is not a
 * terminal (under wasix_expect it is a file). Run as
 *   wasix_first_call_errno wasix   the first call is wasix_context_create
 *   wasix_first_call_errno c_api   the first call is sy_run_main */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <switchyard/switchyard.h>
#include <wasix/context.h>

#include "check.h"

static void parks(void) {
  for (;;) wasix_context_switch(wasix_context_main);
}

static int c_main(void *arg) {
  (void)arg;
  CHECK(errno == 0);
  return 0;
}

int main(int argc, char **argv) {
  wasix_context_id_t id = 0;
  int result = -1;
  if (argc != 2) return 2;
  errno = 0;
  if (strcmp(argv[1], "wasix") == 0) {
    CHECK_OK(wasix_context_create(&id, parks));
    CHECK(errno == 0);
    CHECK_OK(wasix_context_switch(id));
    CHECK_OK(wasix_context_destroy(id));
    CHECK(errno == 0);
  } else {
    CHECK(sy_run_main(c_main, NULL, NULL, &result) == SY_OK);
    CHECK(result == 0);
    CHECK(errno == 0);
  }
  return check_finish(argv[1]);
}
