/* Minimal assertions shared by the C tests: each failure prints its line and makes the
 * program exit 1, whatever main() returns (a destructor checks the count after main);
 * run.sh counts programs, not checks. */
#ifndef THYWILL_TEST_CHECK_H
#define THYWILL_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;

/* Runs after main() returns: a program whose main() forgot to return the failures still
 * fails. */
__attribute__((destructor)) static void check_exit_status(void) {
  if (check_failures != 0) {
    fflush(NULL);
    _Exit(1);
  }
}

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
      check_failures++;                                                          \
    }                                                                            \
  } while (0)

#define CHECK_STATUS(call, expected)                                             \
  do {                                                                           \
    thywill_status check_st_ = (call);                                           \
    if (check_st_ != (expected)) {                                               \
      fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n", __FILE__,     \
              __LINE__, #call, thywill_status_name((uint32_t)check_st_),         \
              thywill_last_error_message(), #expected);                          \
      check_failures++;                                                          \
    }                                                                            \
  } while (0)

#define CHECK_CONTAINS(haystack, needle)                                         \
  do {                                                                           \
    const char *check_h_ = (haystack);                                           \
    if (check_h_ == NULL || strstr(check_h_, (needle)) == NULL) {                \
      fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
              __LINE__, check_h_ ? check_h_ : "(null)", (needle));               \
      check_failures++;                                                          \
    }                                                                            \
  } while (0)

#endif
