/* The default context stack (1 MiB) fits ordinary C programs: recursion
 * 10,000 levels deep, a recursion that uses 768 KiB of stack measured by
 * address (so it holds in sanitizer builds, whose frames are larger), and
 * stdio with floating-point formatting at the deepest point. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <wasix/context.h>

#include "check.h"

#define KIB 1024

static wasix_context_id_t ctx;
static long depth_sum;
static uintptr_t stack_top;
static size_t deepest_use;
static int frames;

/* A typical recursive function: small frame, deep chain. */
static long sum_to(long n) { return n == 0 ? 0 : n + sum_to(n - 1); }

/* Recurses until `target` bytes of stack are in use, with a buffer per frame
 * whose content is checked on the way back up. */
static int fill_stack(size_t target, int level) {
  volatile unsigned char buffer[200];
  size_t used;
  int i, ok = 1;
  for (i = 0; i < (int)sizeof buffer; ++i) buffer[i] = (unsigned char)(level + i);
  used = (size_t)(stack_top - (uintptr_t)&buffer[0]);
  if (used > deepest_use) deepest_use = used;
  if (used < target) {
    ok = fill_stack(target, level + 1);
  } else {
    char text[128];
    frames = level;
    /* printf and %f formatting need a few KiB of their own. */
    snprintf(text, sizeof text, "%.6f %e %s", 3.14159265358979 * level, 1e-300 * level, "deep");
    printf("at depth %d, %zu KiB of stack in use: %s\n", level, used / KIB, text);
  }
  for (i = 0; i < (int)sizeof buffer; ++i) ok &= buffer[i] == (unsigned char)(level + i);
  return ok;
}

static void deep_entry(void) {
  volatile int top_marker = 0;
  stack_top = (uintptr_t)&top_marker;
  depth_sum = sum_to(10000);
  wasix_context_switch(wasix_context_main);
  CHECK(fill_stack(768 * KIB, 0));
  wasix_context_switch(wasix_context_main);
  CHECK(0);
}

int main(void) {
  CHECK_OK(wasix_context_create(&ctx, deep_entry));
  CHECK_OK(wasix_context_switch(ctx));
  CHECK(depth_sum == 10000L * 10001L / 2);
  CHECK_OK(wasix_context_switch(ctx));
  CHECK(deepest_use >= 768 * KIB);
  CHECK(frames > 100);
  CHECK_OK(wasix_context_destroy(ctx));
  return check_finish("deep_recursion");
}
