/* Backup exports: create, create-and-copy (a failing remote among good ones), verify
 * (verdicts), list, restore (and restore-safe dry run), restore from a remote (staging folder
 * gone on every path), cleanup, push to a folder remote, the JSON options documents, and
 * their error paths.
 * argv[1] = fixtures dir (read only), argv[2] = scratch dir. */
#include <stdlib.h>

#include "thywill.h"
#include "check.h"

static void join(char *dest, size_t size, const char *dir, const char *rest) {
  int n = snprintf(dest, size, "%s/%s", dir, rest);
  if (n < 0 || (size_t)n >= size) {
    fprintf(stderr, "path too long: %s/%s\n", dir, rest);
    exit(2);
  }
}

static bool exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f != NULL) {
    fclose(f);
    return true;
  }
  char command[2048];
  snprintf(command, sizeof command, "test -e '%s'", path);
  return system(command) == 0;
}

static void run(const char *command) {
  if (system(command) != 0) {
    fprintf(stderr, "command failed: %s\n", command);
    exit(2);
  }
}

/* Copies the value of "key":"..." from json into dest (no escapes expected in paths here). */
static void json_string(const char *json, const char *key, char *dest, size_t size) {
  char pattern[256];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  const char *start = json ? strstr(json, pattern) : NULL;
  dest[0] = '\0';
  if (start == NULL) return;
  start += strlen(pattern);
  const char *end = strchr(start, '"');
  if (end == NULL || (size_t)(end - start) >= size) return;
  memcpy(dest, start, (size_t)(end - start));
  dest[end - start] = '\0';
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
  char db[1024], backups[1024], command[8192], path[1024], missing[1024], usb[1024], remote[1100];
  join(db, sizeof db, argv[2], "thywill.db");
  join(backups, sizeof backups, argv[2], "backups");
  join(missing, sizeof missing, argv[2], "backups/daily/none.db");
  join(usb, sizeof usb, argv[2], "usb");
  snprintf(remote, sizeof remote, "folder:%s", usb);
  snprintf(command, sizeof command, "cp '%s/s1/thywill.db' '%s' && chmod 600 '%s'", argv[1], db, db);
  run(command);
  const char bad_utf8[] = {'p', 'r', (char)0xff, 'x', '\0'};
  char *out = NULL;
  thywill_status verdict = THYWILL_STATUS_INTERNAL;

  /* --- create --- */
  progress_state state = {0, 0};
  CHECK_STATUS(thywill_backup_create(db, backups, "weekly", NULL, on_progress, &state, &out),
               THYWILL_STATUS_OK);
  CHECK(state.calls > 0);
  CHECK_CONTAINS(out, "\"integrity_check\":[\"ok\"]");
  json_string(out, "path", path, sizeof path);
  CHECK_CONTAINS(path, "/backups/weekly/thywill_weekly_");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_create(db, backups, "monthly", NULL, NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK(out == NULL);
  CHECK_STATUS(thywill_backup_create(db, backups, NULL, "{\"bogus\": 1}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  /* The document's keys are the core's option fields; paths are arguments, never keys. */
  CHECK_STATUS(thywill_backup_create(db, backups, NULL, "{\"database\": \"/tmp/x.db\"}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "database");
  CHECK_STATUS(thywill_backup_create(db, backups, "daily",
                                     "{\"integrity_check\": false, \"now\": \"2024-06-01T02:00:00\"}",
                                     NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "thywill_daily_20240601_020000.db");
  CHECK_CONTAINS(out, "\"verification\":null");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_create(missing, backups, NULL, NULL, NULL, NULL, &out),
               THYWILL_STATUS_NOT_FOUND);
  CHECK_CONTAINS(thywill_last_error_message(), "refusing to make an empty backup");
  CHECK_STATUS(thywill_backup_create(NULL, backups, NULL, NULL, NULL, NULL, &out),
               THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_backup_create(db, backups, NULL, NULL, NULL, NULL, NULL),
               THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_backup_create(bad_utf8, backups, NULL, NULL, NULL, NULL, &out),
               THYWILL_STATUS_INVALID_UTF8);
  progress_state cancel = {0, 1};
  CHECK_STATUS(thywill_backup_create(db, backups, "hourly", NULL, on_progress, &cancel, &out),
               THYWILL_STATUS_CANCELLED);

  /* --- verify: the call succeeds, the verdict says what the backup is --- */
  CHECK_STATUS(thywill_backup_verify(path, NULL, NULL, NULL, &out, &verdict), THYWILL_STATUS_OK);
  CHECK(verdict == THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"checksum_verified\":true");
  CHECK_CONTAINS(out, "\"database_integrity_ok\":true");
  CHECK_CONTAINS(out, "\"prayer\":1000");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_verify(missing, NULL, NULL, NULL, &out, &verdict), THYWILL_STATUS_OK);
  CHECK(verdict == THYWILL_STATUS_NOT_FOUND);
  CHECK_CONTAINS(out, "\"file_exists\":false");
  thywill_string_free(out);
  char damaged[1024];
  join(damaged, sizeof damaged, argv[2], "damaged.db");
  snprintf(command, sizeof command,
           "cp '%s' '%s' && cp '%s.sha256' '%s.sha256' && "
           "printf '\\377\\377\\377\\377' | dd of='%s' bs=1 seek=9000 conv=notrunc status=none",
           path, damaged, path, damaged, damaged);
  run(command);
  CHECK_STATUS(thywill_backup_verify(damaged, "{\"full_integrity_check\": false}", NULL, NULL, &out, &verdict), THYWILL_STATUS_OK);
  CHECK(verdict == THYWILL_STATUS_CORRUPT);
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_verify(damaged, NULL, NULL, NULL, &out, NULL), THYWILL_STATUS_OK);
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_verify(NULL, NULL, NULL, NULL, &out, &verdict),
               THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_backup_verify(bad_utf8, NULL, NULL, NULL, &out, &verdict),
               THYWILL_STATUS_INVALID_UTF8);
  CHECK_STATUS(thywill_backup_verify(path, "{\"quick\": true}", NULL, NULL, &out, &verdict),
               THYWILL_STATUS_INVALID_INPUT);

  /* --- push to a folder remote, then list both --- */
  CHECK_STATUS(thywill_backup_push(path, remote, NULL, NULL, &out), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"verified\":true");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_push(path, NULL, NULL, NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_backup_push(missing, remote, NULL, NULL, &out), THYWILL_STATUS_INVALID_INPUT);
  char list_options[1200];
  snprintf(list_options, sizeof list_options, "{\"remotes\": [\"%s\"]}", remote);
  CHECK_STATUS(thywill_backup_list(backups, list_options, &out), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"type\":\"remote\"");
  CHECK_CONTAINS(out, "\"verified\":true");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_list(backups, NULL, &out), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"entries\":[{");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_list(backups, "[", &out), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_list(NULL, NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);

  /* --- restore --- */
  CHECK_STATUS(thywill_backup_restore(path, db, backups, "{\"mode\": \"safe\", \"dry_run\": true}",
                                      NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"dry_run\":true");
  CHECK_CONTAINS(out, "\"changes\":[]");
  thywill_string_free(out);
  state.calls = 0;
  CHECK_STATUS(thywill_backup_restore(path, db, backups, NULL, on_progress, &state, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"quick_check\":[\"ok\"]");
  CHECK_CONTAINS(out, "pre_restore_");
  CHECK(state.calls > 0);
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_restore(damaged, db, backups, NULL, NULL, NULL, &out),
               THYWILL_STATUS_CORRUPT);
  CHECK(out == NULL);
  CHECK_STATUS(thywill_backup_restore(missing, db, backups, NULL, NULL, NULL, &out),
               THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_backup_restore(path, db, backups, "{\"lock\": {\"wait\": -1}}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  /* The old flag keys are gone: the lock policy is one value. */
  CHECK_STATUS(thywill_backup_restore(path, db, backups, "{\"force\": true}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_restore(path, db, backups, "{\"lock\": {\"wait\": 18446744073709551615}}",
                                      NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_restore(path, db, backups, "{\"lock\": \"force\", \"dry_run\": true}",
                                      NULL, NULL, &out),
               THYWILL_STATUS_OK);
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_restore(path, NULL, backups, NULL, NULL, NULL, &out),
               THYWILL_STATUS_NULL_ARGUMENT);

  /* --- create and copy: a failing remote among good ones is reported, not fatal --- */
  char blocker[1024], good2[1100], bad_remote[1200], copy_options[4096], staging_glob[1200];
  join(blocker, sizeof blocker, argv[2], "not-a-folder");
  snprintf(command, sizeof command, "printf x > '%s'", blocker);
  run(command);
  char usb2[1024];
  join(usb2, sizeof usb2, argv[2], "usb2");
  snprintf(good2, sizeof good2, "folder:%s", usb2);
  snprintf(bad_remote, sizeof bad_remote, "folder:%s/usb", blocker);
  snprintf(copy_options, sizeof copy_options,
           "{\"remotes\": [\"%s\", \"%s\"], \"now\": \"2025-03-01T02:00:00\"}", bad_remote, good2);
  bool failed = false;
  state.calls = 0;
  CHECK_STATUS(thywill_backup_create_and_copy(db, backups, "daily", copy_options, on_progress, &state,
                                              &out, &failed),
               THYWILL_STATUS_OK);
  CHECK(failed);
  CHECK(state.calls > 0);
  CHECK_CONTAINS(out, "\"remote_failures\":[{\"target\":\"folder:");
  CHECK_CONTAINS(out, "\"remotes\":[{\"target\":\"folder:");
  CHECK_CONTAINS(out, "\"name\":\"thywill_daily_20250301_020000\"");
  thywill_string_free(out);
  char copied[1200];
  join(copied, sizeof copied, usb2, "daily/thywill_daily_20250301_020000.manifest.json");
  CHECK(exists(copied));
  snprintf(copy_options, sizeof copy_options, "{\"remotes\": [\"%s\"], \"now\": \"2025-03-02T02:00:00\"}", good2);
  failed = true;
  CHECK_STATUS(thywill_backup_create_and_copy(db, backups, NULL, copy_options, NULL, NULL, &out, &failed),
               THYWILL_STATUS_OK);
  CHECK(!failed);
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_create_and_copy(db, backups, NULL, "{\"remotes\": [\"sftp://h/x\"]}", NULL,
                                              NULL, &out, NULL),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "folder:PATH");
  CHECK_STATUS(thywill_backup_create_and_copy(missing, backups, NULL, copy_options, NULL, NULL, &out, NULL),
               THYWILL_STATUS_NOT_FOUND);
  CHECK(out == NULL);
  CHECK_STATUS(thywill_backup_create_and_copy(NULL, backups, NULL, NULL, NULL, NULL, &out, NULL),
               THYWILL_STATUS_NULL_ARGUMENT);

  /* --- restore from a remote: staged, restored, staging folder removed on every path --- */
  snprintf(staging_glob, sizeof staging_glob, "%s/.remote-staging-*", backups);
  snprintf(command, sizeof command, "ls -d %s >/dev/null 2>&1", staging_glob);
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "thywill_daily_20250301_020000", db, backups,
                                                  "{\"dry_run\": true}", NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"dry_run\":true");
  CHECK_CONTAINS(out, "\"fetch\":{");
  thywill_string_free(out);
  CHECK(system(command) != 0);
  state.calls = 0;
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "thywill_daily_20250301_020000.db", db, backups, NULL,
                                                  on_progress, &state, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"quick_check\":[\"ok\"]");
  CHECK_CONTAINS(out, ".remote-staging-");
  CHECK(state.calls > 0);
  thywill_string_free(out);
  CHECK(system(command) != 0);
  snprintf(command, sizeof command,
           "printf '\\377\\377\\377\\377' | dd of='%s/daily/thywill_daily_20250301_020000.db' bs=1 seek=9000 "
           "conv=notrunc status=none",
           usb2);
  run(command);
  snprintf(command, sizeof command, "ls -d %s >/dev/null 2>&1", staging_glob);
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "thywill_daily_20250301_020000", db, backups, NULL,
                                                  NULL, NULL, &out),
               THYWILL_STATUS_CORRUPT);
  CHECK(out == NULL);
  CHECK(system(command) != 0);
  progress_state stop = {0, 1};
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "thywill_daily_20250302_020000", db, backups, NULL,
                                                  on_progress, &stop, &out),
               THYWILL_STATUS_CANCELLED);
  CHECK(system(command) != 0);
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "thywill_daily_20200101_020000", db, backups, NULL,
                                                  NULL, NULL, &out),
               THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "nonsense", db, backups, NULL, NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "not a backup set name");
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, "thywill_daily_20250302_020000", db, backups,
                                                  "{\"lock\": \"sometimes\"}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_restore_from_remote(NULL, "thywill_daily_20250302_020000", db, backups, NULL,
                                                  NULL, NULL, &out),
               THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_backup_restore_from_remote(good2, bad_utf8, db, backups, NULL, NULL, NULL, &out),
               THYWILL_STATUS_INVALID_UTF8);

  /* --- cleanup --- */
  CHECK_STATUS(thywill_backup_cleanup(backups, "{\"dry_run\": true}", NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"dry_run\":true");
  CHECK(out != NULL && strstr(out, "\"deleted\":true") == NULL);
  CHECK_CONTAINS(out, "within the");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_cleanup(backups, "{\"policy\": {\"hourly_hours\": 0}}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "hourly_hours");
  /* Used to panic in chrono. */
  CHECK_STATUS(thywill_backup_cleanup(backups, "{\"policy\": {\"weekly_weeks\": 9223372036854775807}}",
                                      NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_cleanup(backups, "{\"hourly_hours\": 24}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_cleanup(backups, "{\"remotes\": \"folder:/x\"}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_backup_cleanup(backups, "{\"dry_run\": true, \"policy\": {\"daily_days\": 7}}",
                                      NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"policy\":{\"hourly_hours\":48,\"daily_days\":7,");
  thywill_string_free(out);
  CHECK_STATUS(thywill_backup_cleanup(NULL, NULL, NULL, NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);

  return check_failures == 0 ? 0 : 1;
}
