/* reconstruct-from-archives: a database imported from a registration file whose second
 * user "joined directly" gets its inviter back from the real file (dry run, real run,
 * second run), and the error paths (NULL, not found, unknown option, bad time).
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

static void write_file(const char *path, const char *text) {
  FILE *out = fopen(path, "wb");
  if (out == NULL) exit(2);
  if (fputs(text, out) < 0) exit(2);
  if (fclose(out) != 0) exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char damaged[4096], damaged_users[4096], damaged_file[4096];
  char archive[4096], users[4096], file[4096], db[4096], missing[4096];
  join(damaged, sizeof damaged, argv[2], "damaged");
  join(damaged_users, sizeof damaged_users, argv[2], "damaged/users");
  join(damaged_file, sizeof damaged_file, argv[2], "damaged/users/2023_10_users.txt");
  join(archive, sizeof archive, argv[2], "text_archives");
  join(users, sizeof users, argv[2], "text_archives/users");
  join(file, sizeof file, argv[2], "text_archives/users/2023_10_users.txt");
  join(db, sizeof db, argv[2], "thywill.db");
  join(missing, sizeof missing, argv[2], "nowhere");
  if (mkdir(damaged, 0700) != 0 || mkdir(damaged_users, 0700) != 0) return 2;
  if (mkdir(archive, 0700) != 0 || mkdir(users, 0700) != 0) return 2;
  write_file(damaged_file,
             "User Registrations for October 2023\n\n"
             "October 02 2023 at 09:20 - John B. joined directly\n"
             "October 24 2023 at 07:44 - al_haddad joined directly\n");
  write_file(file,
             "User Registrations for October 2023\n\n"
             "October 02 2023 at 09:20 - John B. joined directly\n"
             "October 24 2023 at 07:44 - al_haddad joined on invitation from John B.\n");
  char *json = NULL;
  CHECK_STATUS(thywill_import_text_archives(damaged, db, "{\"time_zone\": \"utc\"}", NULL, NULL, &json, NULL), THYWILL_STATUS_OK);
  thywill_string_free(json);

  const char *dry = "{\"dry_run\": true, \"time_zone\": \"utc\"}";
  json = NULL;
  CHECK_STATUS(thywill_reconstruct_from_archives(archive, db, dry, NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"dry_run\":true");
  CHECK_CONTAINS(json, "\"inviter\":{\"found\":1,\"repointed\":1,\"inserted\":0,\"already_right\":0");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_reconstruct_from_archives(archive, db, "{\"time_zone\": \"utc\"}", NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"dry_run\":false");
  CHECK_CONTAINS(json, "\"inviter\":{\"found\":1,\"repointed\":1,\"inserted\":0,\"already_right\":0");
  CHECK_CONTAINS(json, "\"missing_users_created\":0");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_reconstruct_from_archives(archive, db, NULL, NULL, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"inviter\":{\"found\":1,\"repointed\":0,\"inserted\":0,\"already_right\":1");
  thywill_string_free(json);

  /* Errors. */
  json = NULL;
  CHECK_STATUS(thywill_reconstruct_from_archives(NULL, db, NULL, NULL, NULL, &json), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK(json == NULL);
  CHECK_STATUS(thywill_reconstruct_from_archives(missing, db, NULL, NULL, NULL, &json), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_reconstruct_from_archives(archive, missing, NULL, NULL, NULL, &json), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_reconstruct_from_archives(archive, db, "{\"dryrun\": true}", NULL, NULL, &json), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_reconstruct_from_archives(archive, db, "{\"as_of\": \"yesterday\"}", NULL, NULL, &json), THYWILL_STATUS_INVALID_INPUT);
  CHECK(json == NULL);
  return check_failures == 0 ? 0 : 1;
}
