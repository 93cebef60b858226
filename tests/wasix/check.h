/* Checks for the WASIX test programs (C and C++): a failed CHECK prints
 * where and what and the program exits 1 at check_finish(). */
#ifndef WASIX_TEST_CHECK_H
#define WASIX_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
      fflush(stderr);                                                                 \
      ++check_failures;                                                               \
    }                                                                                 \
  } while (0)

/* The call fails with -1 and errno == expected. */
#define CHECK_ERRNO(call, expected)                                                                  \
  do {                                                                                               \
    int rc_;                                                                                         \
    errno = 0;                                                                                       \
    rc_ = (call);                                                                                    \
    if (rc_ != -1 || errno != (expected)) {                                                          \
      fprintf(stderr, "%s:%d: %s returned %d with errno %d (%s), expected -1 with errno %s\n", __FILE__, \
              __LINE__, #call, rc_, errno, strerror(errno), #expected);                             \
      fflush(stderr);                                                                                \
      ++check_failures;                                                                              \
    }                                                                                                \
  } while (0)

/* The call succeeds with 0. */
#define CHECK_OK(call)                                                                                   \
  do {                                                                                                   \
    int rc_ = (call);                                                                                    \
    if (rc_ != 0) {                                                                                      \
      fprintf(stderr, "%s:%d: %s returned %d (errno %s)\n", __FILE__, __LINE__, #call, rc_, strerror(errno)); \
      fflush(stderr);                                                                                    \
      ++check_failures;                                                                                  \
    }                                                                                                    \
  } while (0)

static int check_finish(const char *name) {
  if (check_failures != 0) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
