/* Import exports: text archives (fixture s1-live), JSON prayers, one prayer file, their
 * JSON options documents (a truncated prayer file corrected by update_existing), and their
 * error paths (NULL, invalid UTF-8, not found, cancellation, bad time zone, unknown option).
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

static void write_file(const char *path, const char *content) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
}

static bool file_exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return false;
  fclose(f);
  return true;
}

typedef struct {
  unsigned calls;
  unsigned stop_after; /* 0 = never */
} progress_state;

static bool on_progress(void *user_data, const char *phase, uint64_t done, uint64_t total) {
  progress_state *state = user_data;
  (void)done;
  (void)total;
  CHECK(phase != NULL && phase[0] != '\0');
  state->calls++;
  return state->stop_after == 0 || state->calls < state->stop_after;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char archives[4096], db[4096], json_path[4096], bad_json[4096], prayer[4096];
  join(archives, sizeof archives, argv[1], "s1-live/text_archives");
  join(db, sizeof db, argv[2], "thywill.db");
  join(json_path, sizeof json_path, argv[2], "prayers.json");
  join(bad_json, sizeof bad_json, argv[2], "bad.json");
  join(prayer, sizeof prayer, argv[1], "s1/text_archives/prayers/2024/06/2024_06_12_prayer_at_1033.txt");

  /* Dry run: report, no database file. */
  char *json = NULL;
  bool failed = true;
  progress_state state = {0, 0};
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"dry_run\": true, \"time_zone\": \"utc\"}", on_progress, &state, &json, &failed),
               THYWILL_STATUS_OK);
  CHECK(json != NULL && strstr(json, "\"dry_run\":true") != NULL);
  CHECK(json != NULL && strstr(json, "\"prayers\":{\"inserted\":1000") != NULL);
  CHECK(!failed);
  CHECK(state.calls > 0);
  CHECK(!file_exists(db));
  thywill_string_free(json);

  /* Real run, then a second run that inserts nothing. */
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_OK);
  CHECK(json != NULL && strstr(json, "\"prayers\":{\"inserted\":1000") != NULL);
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"time_zone\": \"+00:00\"}", NULL, NULL, &json, &failed), THYWILL_STATUS_OK);
  CHECK(json != NULL && strstr(json, "\"prayers\":{\"inserted\":0,\"already_present\":1000") != NULL);
  CHECK(json != NULL && strstr(json, "\"prayer_marks\":{\"inserted\":0,") != NULL);
  thywill_string_free(json);

  /* Some phases only: refused without their prerequisites, then run with ThyWill's counters. */
  char db_phases[4096];
  join(db_phases, sizeof db_phases, argv[2], "phases.db");
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db_phases, "{\"time_zone\": \"utc\", \"phases\": [\"ledgers\"]}",
                                            NULL, NULL, &json, NULL),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "the ledgers phase needs the prayers phase");
  CHECK(!file_exists(db_phases));
  CHECK_STATUS(thywill_import_text_archives(archives, db_phases, "{\"phases\": [\"marks\"]}", NULL, NULL, &json, NULL),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_import_text_archives(archives, db_phases,
                                            "{\"time_zone\": \"utc\", \"phases\": [\"prayers\", \"users\"]}", NULL,
                                            NULL, &json, &failed),
               THYWILL_STATUS_OK);
  CHECK(!failed);
  CHECK(json != NULL && strstr(json, "\"phases\":[\"users\",\"prayers\"]") != NULL);
  CHECK(json != NULL && strstr(json, "\"users_recovered\":100") != NULL);
  CHECK(json != NULL && strstr(json, "\"prayers\":{\"inserted\":1000") != NULL);
  thywill_string_free(json);
  json = NULL;

  /* Cancellation from the progress callback. */
  char db2[4096];
  join(db2, sizeof db2, argv[2], "cancelled.db");
  progress_state stop = {0, 1};
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db2, NULL, on_progress, &stop, &json, NULL),
               THYWILL_STATUS_CANCELLED);
  CHECK(json == NULL);

  /* Error paths. */
  CHECK_STATUS(thywill_import_text_archives(NULL, db, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_import_text_archives(archives, db, NULL, NULL, NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_import_text_archives("\xff\xfe", db, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_UTF8);
  CHECK_STATUS(thywill_import_text_archives("/no/such/archives", db, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"time_zone\": \"Mars\"}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "time_zone");
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"dryrun\": true}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "dryrun");
  CHECK_STATUS(thywill_import_text_archives(archives, db, "[", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"time_zone\": \"+24:00\"}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);

  /* JSON prayers: a good batch, then a malformed record reported with its index. */
  write_file(json_path, "[{\"text\": \"Peace for Ann\", \"author_name\": \"Ann Lee\"}]");
  json = NULL;
  CHECK_STATUS(thywill_import_prayers_json(json_path, db, NULL, NULL, NULL, &json, &failed), THYWILL_STATUS_OK);
  CHECK(!failed);
  CHECK(json != NULL && strstr(json, "\"prayers\":{\"inserted\":1") != NULL);
  thywill_string_free(json);
  write_file(bad_json, "[{\"text\": 7}]");
  json = NULL;
  CHECK_STATUS(thywill_import_prayers_json(bad_json, db, "{\"dry_run\": false}", NULL, NULL, &json, &failed), THYWILL_STATUS_OK);
  CHECK(failed);
  CHECK(json != NULL && strstr(json, "\"record\":0,\"field\":\"text\"") != NULL);
  thywill_string_free(json);
  write_file(bad_json, "[{");
  CHECK_STATUS(thywill_import_prayers_json(bad_json, db, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_import_prayers_json(NULL, db, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NULL_ARGUMENT);

  /* One prayer file into a fresh database. */
  char db3[4096];
  join(db3, sizeof db3, argv[2], "single.db");
  json = NULL;
  CHECK_STATUS(thywill_import_prayer_file(prayer, db3, "{\"time_zone\": \"utc\", \"update_existing\": true}", NULL, NULL, &json, &failed), THYWILL_STATUS_OK);
  CHECK(!failed);
  CHECK(json != NULL && strstr(json, "\"operation\":\"prayer_file\"") != NULL);
  thywill_string_free(json);
  CHECK_STATUS(thywill_import_prayer_file("/no/such/prayer.txt", db3, NULL, NULL, NULL, &json, NULL),
               THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_import_prayer_file(prayer, db3, "{\"update_existing\": 1}", NULL, NULL, &json, NULL),
               THYWILL_STATUS_INVALID_INPUT);
  /* A dry run of a file already imported: nothing new, nothing created. */
  json = NULL;
  CHECK_STATUS(thywill_import_prayer_file(prayer, db3, "{\"dry_run\": true, \"time_zone\": \"utc\"}", NULL, NULL, &json, &failed), THYWILL_STATUS_OK);
  CHECK(json != NULL && strstr(json, "\"dry_run\":true") != NULL);
  thywill_string_free(json);
  /* A truncated prayer file fails the run; the intact file corrects its row when the
   * options JSON asks for update_existing. */
  char trunc[4096], dir[4096], file[4096], db4[4096];
  join(trunc, sizeof trunc, argv[2], "trunc");
  const char *parts[] = {"", "/prayers", "/prayers/2024", "/prayers/2024/01"};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    join(dir, sizeof dir, trunc, parts[i]);
    CHECK(mkdir(dir, 0755) == 0);
  }
  join(file, sizeof file, trunc, "prayers/2024/01/2024_01_05_prayer_at_1000.txt");
  join(db4, sizeof db4, argv[2], "trunc.db");
  const char *head =
      "Prayer abcdef0123456789abcdef0123456789 by Ann Lee\nSubmitted January 05 2024 at 10:00\n\n"
      "Please pray\n\nGenerated Prayer:\nLord, be with";
  write_file(file, head);
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(trunc, db4, "{\"time_zone\": \"utc\"}", NULL, NULL,
                                                         &json, &failed),
               THYWILL_STATUS_OK);
  CHECK(failed);
  CHECK_CONTAINS(json, "truncated in its generated prayer");
  thywill_string_free(json);
  char whole[1024];
  snprintf(whole, sizeof whole, "%s Ann.\n\nActivity:\n", head);
  write_file(file, whole);
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(
                   trunc, db4, "{\"time_zone\": \"utc\", \"update_existing\": true, \"zip_limits\": {\"max_ratio\": 50}}", NULL,
                   NULL, &json, &failed),
               THYWILL_STATUS_OK);
  CHECK(!failed);
  CHECK_CONTAINS(json, "\"prayers\":{\"inserted\":0,\"already_present\":0,\"updated\":1");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(trunc, db4, NULL, NULL, NULL, &json, NULL),
               THYWILL_STATUS_OK);
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_import_text_archives(trunc, db4, "{\"update\": true}", NULL, NULL, &json, NULL),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "options_json");
  CHECK(json == NULL);

  thywill_string_free(NULL);
  return check_failures == 0 ? 0 : 1;
}
