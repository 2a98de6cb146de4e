/* Coverage exports: validate-consistency (read-only, scored, --fix dry and real) and
 * recovery-report (shares, backups, verdict), the JSON options documents and their error
 * paths. argv[1] = fixtures dir (read only), argv[2] = scratch dir. */
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

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char db[1024], archives[1024], backups[1024], command[8192];
  join(db, sizeof db, argv[2], "thywill.db");
  join(archives, sizeof archives, argv[2], "text_archives");
  join(backups, sizeof backups, argv[2], "backups");
  /* s1's registrations with one month of its prayers, and the database they import into: small
   * enough for valgrind, consistent by construction. */
  snprintf(command, sizeof command,
           "mkdir -p '%s/prayers/2024' && cp -r '%s/s1/text_archives/users' '%s/' && "
           "cp -r '%s/s1/text_archives/prayers/2024/04' '%s/prayers/2024/' && chmod -R u+w '%s'",
           archives, argv[1], archives, argv[1], archives, archives);
  run(command);
  char *out = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db, "{\"time_zone\": \"utc\"}", NULL, NULL, &out, NULL),
               THYWILL_STATUS_OK);
  thywill_string_free(out);
  snprintf(command, sizeof command,
           "(cd '%s' && find . -type f ! -name before.sha ! -name thywill-audit.jsonl | sort | xargs sha256sum) > '%s/before.sha'",
           argv[2], argv[2]);
  run(command);

  /* --- validate-consistency: 100, nothing changed but its audit line (docs/audit.md) --- */
  CHECK_STATUS(thywill_validate_consistency(archives, db, "{\"time_zone\": \"utc\"}", NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"consistency_score\":100.0");
  CHECK_CONTAINS(out, "\"band\":\"EXCELLENT\"");
  CHECK_CONTAINS(out, "\"entity\":\"prayermark\"");
  thywill_string_free(out);
  out = NULL;
  snprintf(command, sizeof command, "cd '%s' && sha256sum -c --quiet before.sha", argv[2]);
  CHECK(system(command) == 0);
  CHECK_STATUS(thywill_validate_consistency(archives, db, "{\"nope\": 1}", NULL, NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK(out == NULL);
  CHECK_STATUS(thywill_validate_consistency(NULL, db, NULL, NULL, NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);

  /* A registration line removed: found; a dry fix writes nothing; the fix gives 100. */
  snprintf(command, sizeof command, "sed -i '/ - PhoebePatel67 /d' '%s/users/2025_07_users.txt'", archives);
  run(command);
  CHECK_STATUS(thywill_validate_consistency(archives, db,
                                            "{\"time_zone\": \"utc\", \"fix\": true, \"dry_run\": true}",
                                            NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"registration_missing\"");
  CHECK_CONTAINS(out, "\"score_after_fix\":null");
  thywill_string_free(out);
  out = NULL;
  snprintf(command, sizeof command, "grep -q ' - PhoebePatel67 ' '%s/users/2025_07_users.txt'", archives);
  CHECK(system(command) != 0);
  CHECK_STATUS(thywill_validate_consistency(archives, db, "{\"time_zone\": \"utc\", \"fix\": true}",
                                            NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"score_after_fix\":100.0");
  thywill_string_free(out);
  out = NULL;
  CHECK(system(command) == 0);

  /* --- recovery-report: shares, no backup, then a fresh one --- */
  CHECK_STATUS(thywill_recovery_report(archives, db, backups, "{\"time_zone\": \"utc\"}", NULL, NULL, &out),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"readiness\":\"partial\"");
  CHECK_CONTAINS(out, "\"newest_verified\":null");
  CHECK_CONTAINS(out, "\"no_recent_verified_backup\"");
  thywill_string_free(out);
  out = NULL;
  CHECK_STATUS(thywill_backup_create(db, backups, "daily", NULL, NULL, NULL, &out), THYWILL_STATUS_OK);
  thywill_string_free(out);
  out = NULL;
  CHECK_STATUS(thywill_recovery_report(archives, db, backups, NULL, NULL, NULL, &out), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"verified_sets\":1");
  CHECK_CONTAINS(out, "\"recent\":true");
  thywill_string_free(out);
  out = NULL;
  CHECK_STATUS(thywill_recovery_report(archives, db, backups, "{\"max_backup_age_hours\": \"x\"}", NULL,
                                       NULL, &out),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK(out == NULL);
  return check_failures == 0 ? 0 : 1;
}
