/* Recovery exports: test-recovery (touches nothing), full-recovery dry run, replace and
 * merge, the JSON options documents, cancellation and their error paths, on s1's
 * registrations with one month of its prayers.
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

static void run(const char *command) {
  if (system(command) != 0) {
    fprintf(stderr, "command failed: %s\n", command);
    exit(2);
  }
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
  char db[1024], archives[1024], backups[1024], command[8192];
  join(db, sizeof db, argv[2], "thywill.db");
  join(archives, sizeof archives, argv[2], "text_archives");
  join(backups, sizeof backups, argv[2], "backups");
  /* s1's registrations with one month of its prayers (10 prayers, 72 marks), and the database
   * they import into as the live one: small enough for valgrind. */
  snprintf(command, sizeof command,
           "mkdir -p '%s/prayers/2024' && cp -r '%s/s1/text_archives/users' '%s/' && "
           "cp -r '%s/s1/text_archives/prayers/2024/04' '%s/prayers/2024/' && chmod -R u+w '%s'",
           archives, argv[1], archives, argv[1], archives, archives);
  run(command);
  char *imported = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"time_zone\": \"utc\"}", NULL, NULL, &imported,
                                            NULL),
               THYWILL_STATUS_OK);
  thywill_string_free(imported);
  snprintf(command, sizeof command, "chmod 600 '%s' && sha256sum '%s' > '%s/before.sha'", db, db, argv[2]);
  run(command);
  const char *utc = "{\"time_zone\": \"utc\"}";
  char *out = NULL;

  /* --- test-recovery: a per-table comparison, nothing changed --- */
  progress_state state = {0, 0};
  CHECK_STATUS(thywill_recovery_test(archives, db, utc, on_progress, &state, &out), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"prayers_recovered\":10");
  CHECK_CONTAINS(out, "\"table\":\"prayermark\"");
  CHECK_CONTAINS(out, "\"predicted_rows\"");
  CHECK(state.calls > 0);
  thywill_string_free(out);
  out = NULL;
  snprintf(command, sizeof command, "sha256sum -c --quiet '%s/before.sha'", argv[2]);
  CHECK(system(command) == 0);

  /* Options: unknown keys and bad zones are refused; cancellation is reported. */
  CHECK_STATUS(thywill_recovery_test(archives, db, "{\"nope\": 1}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK(out == NULL);
  CHECK_STATUS(thywill_recovery_test(archives, db, "{\"time_zone\": \"mars\"}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_recovery_test(NULL, db, utc, NULL, NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);
  progress_state stop = {0, 2};
  CHECK_STATUS(thywill_recovery_test(archives, db, utc, on_progress, &stop, &out),
               THYWILL_STATUS_CANCELLED);

  /* --- full-recovery: a dry run changes nothing --- */
  snprintf(command, sizeof command,
           "python3 -c \"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
           "c.execute('DELETE FROM prayermark'); c.commit()\" '%s'",
           db);
  run(command);
  snprintf(command, sizeof command, "sha256sum '%s' > '%s/before.sha'", db, argv[2]);
  run(command);
  CHECK_STATUS(thywill_recovery_full(archives, db, backups,
                                     "{\"time_zone\": \"utc\", \"dry_run\": true}", NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"installed\":false");
  thywill_string_free(out);
  out = NULL;
  snprintf(command, sizeof command, "sha256sum -c --quiet '%s/before.sha' && test ! -e '%s'", argv[2], backups);
  CHECK(system(command) == 0);

  /* --- replace, then merge (adds nothing more) --- */
  CHECK_STATUS(thywill_recovery_full(archives, db, backups,
                                     "{\"time_zone\": \"utc\", \"now\": \"2025-01-01T02:00:00\"}",
                                     on_progress, &state, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"installed\":true");
  CHECK_CONTAINS(out, "\"prayermark\":72");
  CHECK_CONTAINS(out, "pre_restore_20250101_020000.db");
  thywill_string_free(out);
  out = NULL;
  CHECK_STATUS(thywill_recovery_full(archives, db, backups,
                                     "{\"time_zone\": \"utc\", \"mode\": \"merge\", \"now\": \"2025-01-01T03:00:00\"}",
                                     NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"mode\":\"merge\"");
  CHECK_CONTAINS(out, "\"prayermark\":72");
  thywill_string_free(out);
  out = NULL;
  CHECK_STATUS(thywill_recovery_full(archives, db, NULL, "{\"mode\": \"sideways\"}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK(out == NULL);
  return check_failures == 0 ? 0 : 1;
}
