/* Library-wide functions: version, status names, last error (per thread), string_free. */
#include <threads.h>

#include "thywill.h"
#include "check.h"

/* Each thread fails differently and must see only its own message. */
static int fail_in_thread(void *arg) {
  const char *which = arg;
  char *out = NULL;
  int ok = 1;
  for (int i = 0; i < 50; i++) {
    if (which[0] == 'n') {
      ok &= thywill_archive_file_kind(NULL, &out) == THYWILL_STATUS_NULL_ARGUMENT;
      ok &= strstr(thywill_last_error_message(), "path must not be NULL") != NULL;
    } else {
      ok &= thywill_archive_file_kind("x", NULL) == THYWILL_STATUS_NULL_ARGUMENT;
      ok &= strstr(thywill_last_error_message(), "out_kind must not be NULL") != NULL;
    }
  }
  return ok;
}

int main(void) {
  const char *version = thywill_version();
  CHECK(version != NULL);
  CHECK(strlen(version) >= 5);
  CHECK(strchr(version, '.') != NULL);

  CHECK(strcmp(thywill_status_name(THYWILL_STATUS_OK), "OK") == 0);
  CHECK(strcmp(thywill_status_name(THYWILL_STATUS_NOT_FOUND), "NOT_FOUND") == 0);
  CHECK(strcmp(thywill_status_name(THYWILL_STATUS_NULL_ARGUMENT), "NULL_ARGUMENT") == 0);
  CHECK(strcmp(thywill_status_name(THYWILL_STATUS_INVALID_UTF8), "INVALID_UTF8") == 0);
  CHECK(strcmp(thywill_status_name(THYWILL_STATUS_PANIC), "PANIC") == 0);
  CHECK(strcmp(thywill_status_name(9999), "UNKNOWN") == 0);

  /* Nothing failed yet on this thread. */
  CHECK(strcmp(thywill_last_error_message(), "") == 0);

  thywill_string_free(NULL);

  thrd_t a, b;
  int ok_a = 0, ok_b = 0;
  CHECK(thrd_create(&a, fail_in_thread, "null path") == thrd_success);
  CHECK(thrd_create(&b, fail_in_thread, "out missing") == thrd_success);
  CHECK(thrd_join(a, &ok_a) == thrd_success && ok_a == 1);
  CHECK(thrd_join(b, &ok_b) == thrd_success && ok_b == 1);
  /* The failures on other threads left this thread's message alone. */
  CHECK(strcmp(thywill_last_error_message(), "") == 0);

  if (check_failures == 0) printf("ok - basics\n");
  return check_failures == 0 ? 0 : 1;
}
