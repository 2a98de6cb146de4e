/* Library-wide functions: version, status names, last error, string_free. */
#include "thywill.h"
#include "check.h"

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

  if (check_failures == 0) printf("ok - basics\n");
  return check_failures == 0 ? 0 : 1;
}
