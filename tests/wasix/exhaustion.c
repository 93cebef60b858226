/* When no stack can be mapped, wasix_context_create fails with ENOMEM and
 * the environment stays usable. The address space is capped with
 * RLIMIT_AS so that this happens after a few dozen 1 MiB stacks. Skipped
 * (exit 77) in sanitizer builds, whose shadow memory cannot live under
 * such a cap. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <wasix/context.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED

int main(void) {
  puts("exhaustion: skipped under sanitizers");
  return 77;
}

#else

#include "check.h"

#define MAX_CONTEXTS 4096

static wasix_context_id_t ids[MAX_CONTEXTS];

static void parks(void) {
  for (;;) wasix_context_switch(wasix_context_main);
}

static long vm_size_kib(void) {
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  if (status == NULL) return -1;
  while (fgets(line, sizeof line, status) != NULL) {
    if (sscanf(line, "VmSize: %ld kB", &kib) == 1) break;
  }
  fclose(status);
  return kib;
}

int main(void) {
  struct rlimit cap;
  int created = 0, i;
  wasix_context_id_t probe;
  /* Make the environment (and warm up stdio) before capping. */
  CHECK_OK(wasix_context_switch(wasix_context_main));
  printf("capping the address space at VmSize + 64 MiB\n");
  cap.rlim_cur = cap.rlim_max = (rlim_t)(vm_size_kib() + 64 * 1024) * 1024;
  if (setrlimit(RLIMIT_AS, &cap) != 0) {
    perror("setrlimit");
    return 1;
  }
  for (;;) {
    if (created == MAX_CONTEXTS) break;
    if (wasix_context_create(&ids[created], parks) != 0) break;
    ++created;
  }
  CHECK(created < MAX_CONTEXTS);
  CHECK(created > 10);
  CHECK(errno == ENOMEM);
  CHECK_ERRNO(wasix_context_create(&probe, parks), ENOMEM);
  /* Still usable: run and destroy what exists, then create again. */
  for (i = 0; i < created; ++i) CHECK_OK(wasix_context_switch(ids[i]));
  for (i = 0; i < created; ++i) CHECK_OK(wasix_context_destroy(ids[i]));
  CHECK_OK(wasix_context_create(&probe, parks));
  CHECK_OK(wasix_context_switch(probe));
  CHECK_OK(wasix_context_destroy(probe));
  printf("%d contexts fitted under the cap\n", created);
  return check_finish("exhaustion");
}

#endif
