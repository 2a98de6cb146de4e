/* Session exports: export-sessions on a copy of s1-live's database (mode 0600), restore into
 * a database rebuilt from s1-live's first month of registrations (two users, three of the
 * sessions; the other 122 are of users it does not have), dry run, real run, second run, and
 * the error paths (NULL, not found, unknown option, bad time).
 * argv[1] = fixtures dir (read only), argv[2] = scratch dir. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <sys/stat.h>

#include "thywill.h"
#include "check.h"

static void join(char *dest, size_t size, const char *dir, const char *rest) {
  int n = snprintf(dest, size, "%s/%s", dir, rest);
  if (n < 0 || (size_t)n >= size) {
    fprintf(stderr, "path too long: %s/%s\n", dir, rest);
    exit(2);
  }
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  FILE *out = fopen(to, "wb");
  if (in == NULL || out == NULL) {
    fprintf(stderr, "cannot copy %s to %s\n", from, to);
    exit(2);
  }
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) {
    if (fwrite(buffer, 1, n, out) != n) exit(2);
  }
  fclose(in);
  if (fclose(out) != 0) exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char fixture_db[4096], live[4096], month[4096], archive[4096], folder[4096], users[4096];
  char rebuilt[4096], file[4096], missing[4096];
  join(fixture_db, sizeof fixture_db, argv[1], "s1-live/thywill.db");
  join(month, sizeof month, argv[1], "s1-live/text_archives/users/2023_10_users.txt");
  join(archive, sizeof archive, argv[2], "text_archives");
  join(folder, sizeof folder, argv[2], "text_archives/users");
  join(users, sizeof users, argv[2], "text_archives/users/2023_10_users.txt");
  if (mkdir(archive, 0700) != 0 || mkdir(folder, 0700) != 0) return 2;
  copy_file(month, users);
  join(live, sizeof live, argv[2], "live.db");
  join(rebuilt, sizeof rebuilt, argv[2], "rebuilt.db");
  join(file, sizeof file, argv[2], "sessions_backup.json");
  join(missing, sizeof missing, argv[2], "missing.json");
  copy_file(fixture_db, live);

  /* Every session (the fixture's have all expired by now), written private. */
  char *json = NULL;
  CHECK_STATUS(thywill_sessions_export(live, file, "{\"include_expired\": true}", NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"total_sessions\":125");
  CHECK_CONTAINS(json, "\"schema\":\"username_based\"");
  thywill_string_free(json);
  struct stat st;
  CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);

  /* Judged now, none is active. */
  json = NULL;
  CHECK_STATUS(thywill_sessions_export(live, file, NULL, NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"total_sessions\":0,\"expired_skipped\":125");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_sessions_export(live, file, "{\"include_expired\": true}", NULL, NULL, &json), THYWILL_STATUS_OK);
  thywill_string_free(json);

  /* A database with two of the users and no session: their sessions come back once. */
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(archive, rebuilt, "{\"time_zone\": \"utc\"}", NULL, NULL, &json, NULL), THYWILL_STATUS_OK);
  thywill_string_free(json);
  const char *early = "{\"dry_run\": true, \"as_of\": \"2023-10-01T00:00:00\"}";
  json = NULL;
  CHECK_STATUS(thywill_sessions_restore(rebuilt, file, early, NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"dry_run\":true,\"total\":125,\"restored\":3,");
  CHECK_CONTAINS(json, "\"username\":\"Wei T.\",\"reason\":\"the user no longer exists\"");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_sessions_restore(rebuilt, file, "{\"as_of\": \"2023-10-01T00:00:00\"}", NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"restored\":3,\"already_present\":0");
  CHECK_CONTAINS(json, "\"restored_usernames\":[\"John B.\",\"al_haddad\"]");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_sessions_restore(rebuilt, file, NULL, NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"restored\":0,\"already_present\":3,\"expired\":122");
  thywill_string_free(json);

  /* Errors. */
  json = NULL;
  CHECK_STATUS(thywill_sessions_export(NULL, file, NULL, NULL, NULL, &json), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK(json == NULL);
  CHECK_STATUS(thywill_sessions_restore(rebuilt, missing, NULL, NULL, NULL, &json), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_sessions_restore(rebuilt, file, "{\"dryrun\": true}", NULL, NULL, &json), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_sessions_export(live, file, "{\"as_of\": \"yesterday\"}", NULL, NULL, &json), THYWILL_STATUS_INVALID_INPUT);
  CHECK(json == NULL);
  return check_failures == 0 ? 0 : 1;
}
