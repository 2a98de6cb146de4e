/* Archive-care exports: heal (dry run, real run, second run), sync-users, validate,
 * sync-archives, the repair of archive references and the integrity counts, on a database imported from one month of fixture s1-live and healed into an empty archive
 * folder; their options documents and error paths.
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

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char archives[4096], db[4096], healed[4096], prayer[4096], command[16384];
  /* One month of s1-live's prayers with all its registrations: small enough for valgrind,
   * whole enough for every kind of line heal writes. */
  join(archives, sizeof archives, argv[2], "month");
  int n = snprintf(command, sizeof command,
                   "mkdir -p '%s/prayers/2024' && cp -r '%s/s1-live/text_archives/users' '%s/' && "
                   "cp -r '%s/s1-live/text_archives/prayers/2024/04' '%s/prayers/2024/' && "
                   "chmod -R u+w '%s'",
                   archives, argv[1], archives, argv[1], archives, archives);
  if (n < 0 || (size_t)n >= sizeof command) return 2;
  CHECK(system(command) == 0);
  join(db, sizeof db, argv[2], "thywill.db");
  join(healed, sizeof healed, argv[2], "healed");
  join(prayer, sizeof prayer, healed, "prayers/2024/04/2024_04_02_prayer_at_0546.txt");
  const char *utc = "{\"time_zone\": \"utc\"}";

  char *json = NULL;
  CHECK_STATUS(thywill_import_text_archives(archives, db, utc, NULL, NULL, &json, NULL), THYWILL_STATUS_OK);
  thywill_string_free(json);

  bool problems = false;

  /* Heal into an empty folder: a dry run creates nothing. */
  bool changed = false;
  json = NULL;
  CHECK_STATUS(thywill_heal_archives(db, healed, "{\"dry_run\": true, \"time_zone\": \"utc\"}", NULL, NULL, &json, &changed),
               THYWILL_STATUS_OK);
  CHECK(changed);
  CHECK_CONTAINS(json, "\"files_created\":15");
  CHECK(!exists(healed));
  thywill_string_free(json);

  /* The real run writes the archive; the second run writes nothing. */
  json = NULL;
  CHECK_STATUS(thywill_heal_archives(db, healed, utc, NULL, NULL, &json, &changed), THYWILL_STATUS_OK);
  CHECK(changed);
  CHECK_CONTAINS(json, "\"files_created\":15");
  CHECK_CONTAINS(json, "\"registrations_written\":100");
  CHECK(exists(prayer));
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_heal_archives(db, healed, utc, NULL, NULL, &json, &changed), THYWILL_STATUS_OK);
  CHECK(!changed);
  CHECK_CONTAINS(json, "\"changes\":[]");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_sync_users(db, healed, NULL, NULL, NULL, &json, &changed), THYWILL_STATUS_OK);
  CHECK(!changed);
  CHECK_CONTAINS(json, "\"healthy\":100");
  thywill_string_free(json);

  /* A prayer file removed: validate finds and locates it, heal puts it back. */
  CHECK(remove(prayer) == 0);
  json = NULL;
  CHECK_STATUS(thywill_validate_archives(db, healed, utc, NULL, NULL, &json, &problems), THYWILL_STATUS_OK);
  CHECK(problems);
  CHECK_CONTAINS(json, "\"prayer_file_missing\":1");
  CHECK_CONTAINS(json, "\"file\":\"prayers/2024/04/2024_04_02_prayer_at_0546.txt\"");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_heal_archives(db, healed, utc, NULL, NULL, &json, NULL), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"files_created\":1");
  thywill_string_free(json);
  CHECK(exists(prayer));

  /* The two sides are level now: sync-archives changes nothing. */
  changed = true;
  json = NULL;
  CHECK_STATUS(thywill_sync_archives(db, healed, utc, NULL, NULL, &json, &changed), THYWILL_STATUS_OK);
  CHECK(!changed);
  CHECK_CONTAINS(json, "\"database_created\":false");
  CHECK_CONTAINS(json, "\"problems_by_kind\":{}");
  thywill_string_free(json);

  /* Every prayer has its path: the repair finds nothing, dry or real; no orphans. */
  changed = true;
  json = NULL;
  CHECK_STATUS(thywill_repair_archive_references(db, healed, "{\"dry_run\": true}", NULL, NULL, &json, &changed),
               THYWILL_STATUS_OK);
  CHECK(!changed);
  CHECK_CONTAINS(json, "\"prayers_without_path\":0");
  CHECK_CONTAINS(json, "\"repaired\":[]");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_relationship_integrity(db, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"prayers_without_author\":0");
  CHECK_CONTAINS(json, "\"role_grants_without_user\":0");
  thywill_string_free(json);

  /* Error paths. */
  json = NULL;
  CHECK_STATUS(thywill_repair_archive_references(db, "/no/such/archives", NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_repair_archive_references(db, healed, "{\"ledgers\": \"auto\"}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_repair_archive_references(NULL, healed, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_relationship_integrity("/no/such/thywill.db", &json), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_relationship_integrity(db, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_heal_archives(NULL, healed, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_heal_archives(db, healed, NULL, NULL, NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_heal_archives("/no/such/thywill.db", healed, NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_heal_archives(db, healed, "{\"ledgers\": \"sometimes\"}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_validate_archives(db, "/no/such/archives", NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_sync_archives(db, "/no/such/archives", NULL, NULL, NULL, &json, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_sync_archives(db, healed, "{\"scratch\": 1}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_sync_users(db, healed, "{\"dryrun\": true}", NULL, NULL, &json, NULL), THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "dryrun");
  CHECK(json == NULL);
  return check_failures == 0 ? 0 : 1;
}
