/* The switchyard-wasm guest suite: one wasm32-wasi program, one case per
 * first argument, so each engine translates one module. Built with clang
 * against <wasix/context.h> and wasi-libc; run by tests/wasm/CMakeLists.txt
 * under wasix_expect with both engines.
 *
 *   suite.wasm CASE [ARGS...]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include <wasix/context.h>

#include "../wasix/check.h"

static wasix_context_id_t ctx_a, ctx_b;

/* ---- switching: resume with locals, self-switch, a ring, nested creation --- */

static int counter;
static void counting(void) {
  int local = 0;
  for (;;) {
    ++counter;
    ++local;
    CHECK(local == counter);
    CHECK_OK(wasix_context_switch(ctx_a)); /* self-switch: a no-op */
    wasix_context_switch(wasix_context_main);
  }
}

#define RING 4
static wasix_context_id_t ring[RING];
static char trace[64];
static int traced, next_slot;
static void ring_member(void) {
  const int slot = next_slot++;
  int lap;
  for (lap = 0; lap < 2; ++lap) {
    trace[traced++] = (char)('a' + slot);
    wasix_context_switch(slot == RING - 1 ? (lap == 1 ? wasix_context_main : ring[0]) : ring[slot + 1]);
  }
  CHECK(0);
}

static int child_steps;
static void child_entry(void) {
  for (;;) {
    ++child_steps;
    wasix_context_switch(ctx_a);
  }
}
static void parent_entry(void) {
  CHECK_OK(wasix_context_create(&ctx_b, child_entry));
  CHECK_OK(wasix_context_switch(ctx_b));
  CHECK_OK(wasix_context_switch(ctx_b));
  CHECK(child_steps == 2);
  CHECK_OK(wasix_context_destroy(ctx_b));
  CHECK_ERRNO(wasix_context_switch(ctx_b), EINVAL);
  wasix_context_switch(wasix_context_main);
  CHECK(0);
}

static int case_switching(void) {
  int i;
  CHECK_OK(wasix_context_switch(wasix_context_main)); /* main to itself: no-op */
  CHECK_OK(wasix_context_create(&ctx_a, counting));
  for (i = 0; i < 100; ++i) CHECK_OK(wasix_context_switch(ctx_a));
  CHECK(counter == 100);
  CHECK_OK(wasix_context_destroy(ctx_a));
  for (i = 0; i < RING; ++i) CHECK_OK(wasix_context_create(&ring[i], ring_member));
  CHECK_OK(wasix_context_switch(ring[0]));
  trace[traced] = '\0';
  CHECK(strcmp(trace, "abcdabcd") == 0);
  for (i = 0; i < RING; ++i) CHECK_OK(wasix_context_destroy(ring[i]));
  CHECK_OK(wasix_context_create(&ctx_a, parent_entry));
  CHECK_OK(wasix_context_switch(ctx_a));
  CHECK_OK(wasix_context_destroy(ctx_a));
  return check_finish("switching");
}

/* ---- errors and errno ------------------------------------------------------- */

static void never_runs(void) { CHECK(0); }
static int takes_an_int(int x) { return x + 1; }

static wasix_context_id_t self_id;
static void checks_from_inside(void) {
  CHECK_ERRNO(wasix_context_destroy(self_id), EINVAL);
  CHECK_ERRNO(wasix_context_destroy(wasix_context_main), EINVAL);
  CHECK_OK(wasix_context_switch(self_id));
  CHECK_ERRNO(wasix_context_switch(424242), EINVAL);
  wasix_context_switch(wasix_context_main);
  CHECK(0);
}

static int case_errors(void) {
  wasix_context_id_t id = 77;
  CHECK(wasix_context_main == 0);
  CHECK_ERRNO(wasix_context_create(NULL, never_runs), EINVAL);
  CHECK_ERRNO(wasix_context_create(&id, NULL), EINVAL);
  CHECK(id == 77);
  /* The host checks entrypoints at create: a table entry that is null, out
   * of range, or not () -> () is EINVAL (the import, below the wrapper). */
  CHECK(__wasix_import_context_create(&id, (void (*)(void))(uintptr_t)0) == EINVAL);
  CHECK(__wasix_import_context_create(&id, (void (*)(void))(uintptr_t)100000) == EINVAL);
  CHECK_ERRNO(wasix_context_create(&id, (void (*)(void))(uintptr_t)takes_an_int), EINVAL);
  CHECK(id == 77);
  CHECK(takes_an_int(1) == 2);
  CHECK_ERRNO(wasix_context_destroy(wasix_context_main), EINVAL);
  CHECK_ERRNO(wasix_context_switch(1), EINVAL);
  CHECK_ERRNO(wasix_context_switch(UINT64_MAX), EINVAL);
  CHECK_OK(wasix_context_destroy(1));
  CHECK_OK(wasix_context_destroy(UINT64_MAX));
  CHECK_OK(wasix_context_create(&self_id, checks_from_inside));
  CHECK(self_id == 1);
  CHECK_OK(wasix_context_switch(self_id));
  CHECK_OK(wasix_context_destroy(self_id));
  CHECK_OK(wasix_context_destroy(self_id));
  CHECK_ERRNO(wasix_context_switch(self_id), EINVAL);
  CHECK_OK(wasix_context_create(&id, never_runs));
  CHECK(id == 2);
  CHECK_OK(wasix_context_destroy(id));
  errno = 1234;
  CHECK_OK(wasix_context_switch(wasix_context_main));
  CHECK_OK(wasix_context_destroy(99));
  CHECK(errno == 1234);
  return check_finish("errors");
}

/* ---- destroy: started and unstarted contexts, many rounds ------------------- */

static int started_runs;
static void parks(void) {
  volatile char on_shadow_stack[256];
  on_shadow_stack[0] = 1;
  for (;;) {
    ++started_runs;
    wasix_context_switch(wasix_context_main);
  }
}

static int case_destroy(int rounds) {
  int i;
  for (i = 0; i < rounds; ++i) {
    wasix_context_id_t started, unstarted;
    CHECK_OK(wasix_context_create(&started, parks));
    CHECK_OK(wasix_context_create(&unstarted, never_runs));
    CHECK_OK(wasix_context_switch(started));
    CHECK_OK(wasix_context_switch(started));
    CHECK_OK(wasix_context_destroy(unstarted));
    CHECK_OK(wasix_context_destroy(started));
    CHECK_ERRNO(wasix_context_switch(started), EINVAL);
  }
  CHECK(started_runs == 2 * rounds);
  /* Left alive at exit: released by the host after main returns. */
  CHECK_OK(wasix_context_create(&ctx_a, parks));
  CHECK_OK(wasix_context_switch(ctx_a));
  printf("destroyed %d started and %d unstarted contexts\n", rounds, rounds);
  return check_finish("destroy");
}

/* ---- endings: an entrypoint returns, a trap, exit() ----------------------- */

/* The guest's stdio buffers live in its memory: nothing flushes them when
 * an entrypoint returns, so this one flushes first. */
static void returns(void) {
  printf("context %llu returns now\n", (unsigned long long)ctx_b);
  fflush(stdout);
}
static void parked(void) {
  for (;;) wasix_context_switch(wasix_context_main);
}

static int case_returns(void) {
  printf("main starts\n");
  CHECK_OK(wasix_context_create(&ctx_a, parked));
  CHECK_OK(wasix_context_switch(ctx_a));
  CHECK_OK(wasix_context_create(&ctx_b, returns));
  fflush(stdout);
  wasix_context_switch(ctx_b);
  printf("main resumed: not reached\n");
  return 1;
}

static volatile uintptr_t far_away = 0xfffffff0u;
static void traps(void) {
  printf("context %llu reads outside its memory\n", (unsigned long long)ctx_b);
  fflush(stdout);
  printf("%d\n", *(volatile int *)far_away);
  printf("not reached\n");
}

static int case_trap(void) {
  CHECK_OK(wasix_context_create(&ctx_a, parks)); /* a started context left behind */
  CHECK_OK(wasix_context_switch(ctx_a));
  CHECK_OK(wasix_context_create(&ctx_b, traps));
  wasix_context_switch(ctx_b);
  printf("main resumed: not reached\n");
  return 1;
}

static int case_trap_in_main(void) {
  CHECK_OK(wasix_context_create(&ctx_a, parks));
  CHECK_OK(wasix_context_switch(ctx_a));
  __builtin_trap();
}

static void at_exit(void) { printf("atexit handler ran\n"); }
static void exits(void) {
  printf("context %llu calls exit(3) with this line unflushed", (unsigned long long)ctx_b);
  exit(3);
}

static int case_exit(void) {
  atexit(at_exit);
  printf("main starts\n");
  CHECK_OK(wasix_context_create(&ctx_a, parks));
  CHECK_OK(wasix_context_switch(ctx_a));
  CHECK_OK(wasix_context_create(&ctx_b, exits));
  wasix_context_switch(ctx_b);
  printf("main resumed: not reached\n");
  return 1;
}

/* ---- shadow stacks: each context has its own ------------------------------- */

static void fill(volatile unsigned char *buffer, size_t size, unsigned char seed) {
  size_t i;
  for (i = 0; i < size; ++i) buffer[i] = (unsigned char)(seed + i * 7);
}
static int intact(volatile unsigned char *buffer, size_t size, unsigned char seed) {
  size_t i;
  for (i = 0; i < size; ++i) {
    if (buffer[i] != (unsigned char)(seed + i * 7)) return 0;
  }
  return 1;
}

/* B enters a frame and parks in it; A then allocates and fills 4 KiB and
 * parks; B returns from its frame and allocates 4 KiB of its own. With one
 * shared __stack_pointer, B's new buffer lands on A's. */
static __attribute__((noinline)) void b_small_frame(void) {
  volatile unsigned char small[64];
  fill(small, sizeof small, 1);
  wasix_context_switch(wasix_context_main);
  CHECK(intact(small, sizeof small, 1));
}
static __attribute__((noinline)) void b_big_frame(void) {
  volatile unsigned char buffer[4096];
  fill(buffer, sizeof buffer, 0x5a);
  wasix_context_switch(wasix_context_main);
  CHECK(intact(buffer, sizeof buffer, 0x5a));
  wasix_context_switch(wasix_context_main);
}
static void b_entry(void) {
  b_small_frame();
  b_big_frame();
  CHECK(0);
}
static __attribute__((noinline)) void a_big_frame(void) {
  volatile unsigned char buffer[4096];
  fill(buffer, sizeof buffer, 0xa5);
  wasix_context_switch(wasix_context_main);
  CHECK(intact(buffer, sizeof buffer, 0xa5));
  printf("context A's buffer is intact\n");
  wasix_context_switch(wasix_context_main);
}
static void a_entry(void) {
  a_big_frame();
  CHECK(0);
}

static int case_shadow(void) {
  volatile unsigned char mine[4096];
  fill(mine, sizeof mine, 0x33);
  CHECK_OK(wasix_context_create(&ctx_a, a_entry));
  CHECK_OK(wasix_context_create(&ctx_b, b_entry));
  CHECK_OK(wasix_context_switch(ctx_b)); /* B parks in its small frame */
  CHECK_OK(wasix_context_switch(ctx_a)); /* A fills its 4 KiB */
  CHECK_OK(wasix_context_switch(ctx_b)); /* B returns, fills 4 KiB */
  CHECK_OK(wasix_context_switch(ctx_a)); /* A checks */
  CHECK_OK(wasix_context_switch(ctx_b)); /* B checks */
  CHECK(intact(mine, sizeof mine, 0x33));
  CHECK_OK(wasix_context_destroy(ctx_a));
  CHECK_OK(wasix_context_destroy(ctx_b));
  return check_finish("shadow");
}

/* ---- shadow-stack overflow (the module is built with wasm-opt --stack-check) */

static __attribute__((noinline)) int eat_stack(int depth) {
  volatile unsigned char buffer[1024];
  fill(buffer, sizeof buffer, (unsigned char)depth);
  if (depth == 0) return buffer[0];
  return eat_stack(depth - 1) + buffer[sizeof buffer - 1];
}
static void overflows(void) {
  printf("context %llu overflows its shadow stack\n", (unsigned long long)ctx_a);
  fflush(stdout);
  printf("%d\n", eat_stack(1 << 20));
  printf("not reached\n");
}

static int case_overflow(void) {
  CHECK_OK(wasix_context_create(&ctx_a, overflows));
  wasix_context_switch(ctx_a);
  printf("main resumed: not reached\n");
  return 1;
}

/* ---- recursion through a function pointer until the call stack is full --- */

static int (*volatile recurse_ptr)(int);
static int recurse(int n) { return n == 0 ? 0 : recurse_ptr(n - 1) + 1; }
static void recurses(void) {
  recurse_ptr = recurse;
  printf("%d\n", recurse_ptr(1 << 24));
  printf("not reached\n");
}

static int case_indirect(void) {
  CHECK_OK(wasix_context_create(&ctx_a, recurses));
  wasix_context_switch(ctx_a);
  printf("main resumed: not reached\n");
  return 1;
}

/* ---- WASI: args, environment, clocks, files, poll --------------------------- */

static int case_wasi(int argc, char **argv) {
  const char *dir = "/sandbox/work";
  char path[128], buffer[64];
  struct stat st;
  struct timespec t0, t1, sleep_for = {0, 20 * 1000 * 1000};
  FILE *f;
  DIR *d;
  struct dirent *entry;
  int found = 0, fd;
  struct pollfd pfd;

  CHECK(argc == 3 && strcmp(argv[2], "arg two") == 0);
  CHECK(getenv("GREETING") != NULL && strcmp(getenv("GREETING"), "hello wasm") == 0);
  CHECK(getenv("NOT_SET") == NULL);

  CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0);
  CHECK(nanosleep(&sleep_for, NULL) == 0);
  CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0);
  CHECK((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec) >= 20 * 1000 * 1000);
  CHECK(clock_gettime(CLOCK_REALTIME, &t0) == 0 && t0.tv_sec > 1600000000);

  /* Leftovers of an earlier run. */
  snprintf(path, sizeof path, "%s/a.txt", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/b.txt", dir);
  unlink(path);
  rmdir(dir);

  CHECK(mkdir(dir, 0755) == 0);
  CHECK_ERRNO(mkdir(dir, 0755), EEXIST);
  snprintf(path, sizeof path, "%s/a.txt", dir);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK(fputs("hello, file", f) >= 0);
    CHECK(fclose(f) == 0);
  }
  CHECK(stat(path, &st) == 0 && st.st_size == 11 && S_ISREG(st.st_mode));
  f = fopen(path, "r+");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK(fseek(f, 7, SEEK_SET) == 0);
    CHECK(ftell(f) == 7);
    CHECK(fgets(buffer, sizeof buffer, f) != NULL && strcmp(buffer, "file") == 0);
    CHECK(fseek(f, 0, SEEK_END) == 0 && ftell(f) == 11);
    CHECK(fclose(f) == 0);
  }
  fd = open(path, O_RDONLY);
  CHECK(fd >= 0);
  pfd.fd = fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN));
  CHECK(fstat(fd, &st) == 0 && st.st_size == 11);
  CHECK(close(fd) == 0);
  d = opendir(dir);
  CHECK(d != NULL);
  if (d != NULL) {
    while ((entry = readdir(d)) != NULL) found += strcmp(entry->d_name, "a.txt") == 0;
    CHECK(closedir(d) == 0);
  }
  CHECK(found == 1);
  {
    char to[128];
    snprintf(to, sizeof to, "%s/b.txt", dir);
    CHECK(rename(path, to) == 0);
    CHECK_ERRNO(stat(path, &st), ENOENT);
    CHECK_ERRNO(rmdir(dir), ENOTEMPTY);
    CHECK(unlink(to) == 0);
  }
  CHECK(rmdir(dir) == 0);
  CHECK_ERRNO(stat(dir, &st), ENOENT);
  return check_finish("wasi");
}

/* ---- the preopen sandbox: nothing escapes ----------------------------------- */

static int opens(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd >= 0) {
    close(fd);
    fprintf(stderr, "opened %s: it should not be reachable\n", path);
    return 1;
  }
  return 0;
}

static int raw_opens(const char *path) {
  __wasi_fd_t fd;
  __wasi_errno_t e = __wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  if (e == 0) {
    (void)!__wasi_fd_close(fd);
    fprintf(stderr, "raw path_open(%s) succeeded: it should not\n", path);
    return 1;
  }
  return 0;
}

static int case_sandbox(void) {
  FILE *f;
  struct stat st;
  /* Inside is fine, also through a symlink that stays inside. */
  unlink("/sandbox/inside.txt");
  unlink("/sandbox/link-in");
  unlink("/sandbox/link-out");
  unlink("/sandbox/link-abs");
  unlink("/sandbox/link-dotdot");
  f = fopen("/sandbox/inside.txt", "w");
  CHECK(f != NULL);
  if (f != NULL) fclose(f);
  CHECK(symlink("inside.txt", "/sandbox/link-in") == 0);
  CHECK(stat("/sandbox/link-in", &st) == 0);
  /* Escapes: .., absolute paths, symlinks out; via libc and raw WASI. */
  CHECK(!opens("/sandbox/../secret.txt"));
  CHECK_ERRNO(open("/sandbox/../secret.txt", O_RDONLY), ENOTCAPABLE);
  CHECK(!opens("/sandbox/sub/../../secret.txt"));
  CHECK(!opens("/etc/passwd"));
  CHECK(!opens("/secret.txt"));
  CHECK(symlink("../secret.txt", "/sandbox/link-out") == 0);
  CHECK(!opens("/sandbox/link-out"));
  CHECK(symlink("/etc/passwd", "/sandbox/link-abs") == 0);
  CHECK(!opens("/sandbox/link-abs"));
  CHECK(symlink("..", "/sandbox/link-dotdot") == 0);
  CHECK(!opens("/sandbox/link-dotdot/secret.txt"));
  CHECK(!raw_opens("../secret.txt"));
  CHECK(!raw_opens("/etc/passwd"));
  CHECK(!raw_opens("link-out"));
  CHECK(!raw_opens("link-dotdot/secret.txt"));
  CHECK(stat("/sandbox/../secret.txt", &st) != 0);
  CHECK(stat("/sandbox/link-out", &st) != 0);
  CHECK(mkdir("/sandbox/../escaped", 0755) != 0);
  CHECK(unlink("/sandbox/../secret.txt") != 0);
  CHECK(unlink("/sandbox/link-dotdot/secret.txt") != 0);
  CHECK(rename("/sandbox/inside.txt", "/sandbox/../moved.txt") != 0);
  CHECK(rename("/sandbox/link-dotdot/secret.txt", "/sandbox/stolen.txt") != 0);
  CHECK(rmdir("/sandbox/..") != 0);
  CHECK(stat("/sandbox/inside.txt", &st) == 0);
  return check_finish("sandbox");
}

/* ---- a guest that sleeps (for --instances) --------------------------------- */

static int case_sleep(void) {
  struct timespec t = {0, 200 * 1000 * 1000};
  CHECK(nanosleep(&t, NULL) == 0);
  printf("slept 200 ms\n");
  return check_finish("sleep");
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "";
  if (strcmp(name, "switching") == 0) return case_switching();
  if (strcmp(name, "errors") == 0) return case_errors();
  if (strcmp(name, "destroy") == 0) return case_destroy(argc > 2 ? atoi(argv[2]) : 1000);
  if (strcmp(name, "returns") == 0) return case_returns();
  if (strcmp(name, "trap") == 0) return case_trap();
  if (strcmp(name, "trap_in_main") == 0) return case_trap_in_main();
  if (strcmp(name, "exit") == 0) return case_exit();
  if (strcmp(name, "shadow") == 0) return case_shadow();
  if (strcmp(name, "overflow") == 0) return case_overflow();
  if (strcmp(name, "indirect") == 0) return case_indirect();
  if (strcmp(name, "wasi") == 0) return case_wasi(argc, argv);
  if (strcmp(name, "sandbox") == 0) return case_sandbox();
  if (strcmp(name, "sleep") == 0) return case_sleep();
  fprintf(stderr, "usage: suite.wasm CASE (unknown case '%s')\n", name);
  return 2;
}
