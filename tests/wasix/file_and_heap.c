/* Open FILE*s and malloc'd data survive switches: two contexts write in
 * turns to a stream main opened, one context opens a file that another
 * closes, and heap blocks pass between contexts and are freed by others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wasix/context.h>

#include "check.h"

static wasix_context_id_t writer_a, writer_b;
static FILE *shared;      /* opened by main */
static FILE *handed_over; /* opened by writer_a, closed by writer_b */
static char *block_from_a;
static char path[64];

static void writer_a_entry(void) {
  char *mine = (char *)malloc(4096);
  int round;
  memset(mine, 'a', 4096);
  snprintf(path, sizeof path, "wasix_file_and_heap_%ld.txt", (long)getpid());
  handed_over = fopen(path, "w+");
  CHECK(handed_over != NULL);
  for (round = 1; round <= 3; ++round) {
    fprintf(shared, "A%d ", round);
    if (handed_over != NULL) fprintf(handed_over, "from a %d\n", round);
    wasix_context_switch(writer_b);
    /* B ran in between; our block and stream position are intact. */
    CHECK(mine[0] == 'a' && mine[4095] == 'a');
  }
  block_from_a = mine; /* B frees it */
  printf("writer a: done\n");
  wasix_context_switch(writer_b);
  CHECK(0);
}

static void writer_b_entry(void) {
  int round;
  for (round = 1; round <= 3; ++round) {
    char *scratch = (char *)malloc((size_t)round * 1000);
    memset(scratch, 'b', (size_t)round * 1000);
    fprintf(shared, "B%d ", round);
    wasix_context_switch(writer_a);
    CHECK(scratch[round * 1000 - 1] == 'b');
    free(scratch);
  }
  CHECK(block_from_a != NULL && block_from_a[100] == 'a');
  free(block_from_a);
  block_from_a = NULL;
  if (handed_over != NULL) {
    char line[32];
    int lines = 0;
    rewind(handed_over);
    while (fgets(line, sizeof line, handed_over) != NULL) ++lines;
    CHECK(lines == 3);
    CHECK(fclose(handed_over) == 0);
    handed_over = NULL;
  }
  printf("writer b: done\n");
  wasix_context_switch(wasix_context_main);
  CHECK(0);
}

int main(void) {
  char content[128];
  size_t n;
  shared = tmpfile();
  CHECK(shared != NULL);
  if (shared == NULL) return 1;
  CHECK_OK(wasix_context_create(&writer_a, writer_a_entry));
  CHECK_OK(wasix_context_create(&writer_b, writer_b_entry));
  CHECK_OK(wasix_context_switch(writer_a));
  rewind(shared);
  n = fread(content, 1, sizeof content - 1, shared);
  content[n] = '\0';
  CHECK(strcmp(content, "A1 B1 A2 B2 A3 B3 ") == 0);
  fclose(shared);
  CHECK(handed_over == NULL);
  CHECK(remove(path) == 0);
  CHECK_OK(wasix_context_destroy(writer_a));
  CHECK_OK(wasix_context_destroy(writer_b));
  return check_finish("file_and_heap");
}
