/* The archive writer handle: every method, its files read back through the parser and
 * check_tree, and its error paths. argv[2] = scratch dir. */
#include <stdlib.h>

#include "thywill.h"
#include "check.h"

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)size + 1);
  size_t got = fread(buf, 1, (size_t)size, f);
  buf[got] = '\0';
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char base[4096];
  int n = snprintf(base, sizeof base, "%s/text_archives", argv[2]);
  if (n < 0 || (size_t)n >= sizeof base) return 2;
  const char bad_utf8[] = {'A', (char)0xc3, '\0'};
  thywill_archive_writer *writer = NULL;
  char *path = NULL;
  char *json = NULL;

  /* --- construction --- */
  CHECK_STATUS(thywill_archive_writer_new(NULL, NULL, &writer), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK(writer == NULL);
  CHECK_STATUS(thywill_archive_writer_new(base, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_writer_new(base, "yesterday", &writer), THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "ISO 8601");
  CHECK(writer == NULL);
  CHECK_STATUS(thywill_archive_writer_new(bad_utf8, NULL, &writer), THYWILL_STATUS_INVALID_UTF8);
  CHECK_STATUS(thywill_archive_writer_new(base, "2025-07-06T09:05", &writer), THYWILL_STATUS_OK);
  CHECK(writer != NULL);
  thywill_archive_writer_free(NULL);

  CHECK_STATUS(thywill_archive_writer_ensure_dirs(writer), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_archive_writer_ensure_dirs(NULL), THYWILL_STATUS_NULL_ARGUMENT);

  /* --- users --- */
  CHECK_STATUS(thywill_archive_writer_append_user_registration(writer, "Ann", NULL, NULL, &path), THYWILL_STATUS_OK);
  CHECK_CONTAINS(path, "/users/2025_07_users.txt");
  CHECK_STATUS(thywill_archive_writer_append_user_registration(writer, "Bob", "Ann", "2025-07-06 10:00", NULL), THYWILL_STATUS_OK);
  char *users = read_all(path);
  CHECK(users != NULL && strcmp(users,
      "User Registrations for July 2025\n\n"
      "July 06 2025 at 09:05 - Ann joined directly\n"
      "July 06 2025 at 10:00 - Bob joined on invitation from Ann\n") == 0);
  free(users);
  thywill_string_free(path);
  path = NULL;
  CHECK_STATUS(thywill_archive_writer_append_user_registration(writer, NULL, NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_writer_append_user_registration(writer, bad_utf8, NULL, NULL, NULL), THYWILL_STATUS_INVALID_UTF8);
  CHECK_STATUS(thywill_archive_writer_append_user_registration(NULL, "Ann", NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);

  /* --- prayers and their activity --- */
  CHECK_STATUS(thywill_archive_writer_create_prayer(writer, "p1", "Ann", NULL, "Rain, please.", "harvest", &path), THYWILL_STATUS_OK);
  CHECK_CONTAINS(path, "/prayers/2025/07/2025_07_06_prayer_at_0905.txt");
  char *second = NULL;
  CHECK_STATUS(thywill_archive_writer_create_prayer(writer, "p2", "Bob", "2025-07-06T09:05:30", "Sun.", NULL, &second), THYWILL_STATUS_OK);
  CHECK_CONTAINS(second, "_prayer_at_0905_2.txt");
  thywill_string_free(second);
  CHECK_STATUS(thywill_archive_writer_create_prayer(writer, "p3", NULL, NULL, "x", NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_writer_create_prayer(writer, "p3", "Ann", "2025-13-01T00:00", "x", NULL, NULL), THYWILL_STATUS_INVALID_INPUT);

  CHECK_STATUS(thywill_archive_writer_append_prayer_activity(writer, path, "Bob", "prayed", NULL, "2025-07-06T11:00"), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_archive_writer_append_prayer_activity(writer, path, "Ann", "testimony", "It rained!", NULL), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_archive_writer_append_prayer_activity(writer, path, NULL, "prayed", NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  char missing_file[4200];
  n = snprintf(missing_file, sizeof missing_file, "%s/no/such/dir/x.txt", base);
  if (n < 0 || (size_t)n >= sizeof missing_file) return 2;
  CHECK_STATUS(thywill_archive_writer_append_prayer_activity(writer, missing_file, "Ann", "prayed", NULL, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK_CONTAINS(thywill_last_error_message(), "no/such/dir");

  CHECK_STATUS(thywill_archive_parse_file(path, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"project_tag\":\"harvest\"");
  CHECK_CONTAINS(json, "\"actor\":\"Bob\"");
  CHECK_CONTAINS(json, "\"text\":\"It rained!\"");
  CHECK_CONTAINS(json, "\"diagnostics\":[]");
  thywill_string_free(json);
  thywill_string_free(path);
  path = NULL;

  /* --- monthly activity and ledgers --- */
  CHECK_STATUS(thywill_archive_writer_append_monthly_activity(writer, "submitted prayer p1", "Ann", "p1", "general", NULL, &path), THYWILL_STATUS_OK);
  CHECK_CONTAINS(path, "/activity/activity_2025_07.txt");
  CHECK_STATUS(thywill_archive_parse_file(path, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"tag\":\"general\"");
  thywill_string_free(json);
  thywill_string_free(path);
  path = NULL;
  CHECK_STATUS(thywill_archive_writer_append_monthly_activity(writer, NULL, "Ann", NULL, NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);

  CHECK_STATUS(thywill_archive_writer_append_ledger(writer, THYWILL_LEDGER_MARKS, "p1", "Bob", NULL, NULL, NULL, &path), THYWILL_STATUS_OK);
  CHECK_CONTAINS(path, "/prayers/marks/2025_07_marks.txt");
  thywill_string_free(path);
  path = NULL;
  CHECK_STATUS(thywill_archive_writer_append_ledger(writer, THYWILL_LEDGER_SKIPS, "p2", "Ann", NULL, NULL, "2025-08-01T00:00", NULL), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_archive_writer_append_ledger(writer, THYWILL_LEDGER_ATTRIBUTES, "p1", NULL, "answered", "true", NULL, &path), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_archive_parse_file(path, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"user\":\"system\"");
  thywill_string_free(json);
  thywill_string_free(path);
  path = NULL;
  CHECK_STATUS(thywill_archive_writer_append_ledger(writer, THYWILL_LEDGER_MARKS, "p1", NULL, NULL, NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_writer_append_ledger(writer, THYWILL_LEDGER_ATTRIBUTES, "p1", NULL, NULL, "v", NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_writer_append_ledger(writer, 7, "p1", "Ann", NULL, NULL, NULL, NULL), THYWILL_STATUS_INVALID_INPUT);

  /* Everything written re-renders byte for byte. */
  bool clean = false;
  CHECK_STATUS(thywill_archive_check_tree(base, NULL, NULL, &json, &clean), THYWILL_STATUS_OK);
  CHECK(clean);
  CHECK_CONTAINS(json, "\"files_checked\":7");
  thywill_string_free(json);

  thywill_archive_writer_free(writer);
  if (check_failures == 0) printf("ok - archive_writer\n");
  return check_failures == 0 ? 0 : 1;
}
