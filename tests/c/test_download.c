/* Downloads: the community ZIP, a user's ZIP, metadata, the listing, one prayer's file
 * (served, without who flagged it unless for a moderator, unknown) and cleanup, on s1's database with
 * a small archive tree (two months of registrations, December 2023's prayers and activity),
 * and the error paths (NULL, unknown option, unknown user).
 * argv[1] = fixtures dir (read only), argv[2] = scratch dir. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
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

static const char *FILES[] = {
    "users/2023_10_users.txt",
    "users/2023_11_users.txt",
    "activity/activity_2023_12.txt",
    "prayers/2023/12/2023_12_13_prayer_at_0630.txt",
    "prayers/2023/12/2023_12_24_prayer_at_0632.txt",
    "prayers/2023/12/2023_12_30_prayer_at_1844.txt",
    "prayers/2023/12/2023_12_30_prayer_at_2238.txt",
};
static const char *DIRS[] = {"text_archives", "text_archives/users", "text_archives/activity",
                             "text_archives/prayers", "text_archives/prayers/2023",
                             "text_archives/prayers/2023/12"};

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char db[4096], from[4096], to[4096], archives[4096], rest[512];
  join(from, sizeof from, argv[1], "s1/thywill.db");
  join(db, sizeof db, argv[2], "thywill.db");
  copy_file(from, db);
  for (size_t i = 0; i < sizeof DIRS / sizeof DIRS[0]; i++) {
    join(to, sizeof to, argv[2], DIRS[i]);
    if (mkdir(to, 0700) != 0) return 2;
  }
  for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
    snprintf(rest, sizeof rest, "s1/text_archives/%s", FILES[i]);
    join(from, sizeof from, argv[1], rest);
    snprintf(rest, sizeof rest, "text_archives/%s", FILES[i]);
    join(to, sizeof to, argv[2], rest);
    copy_file(from, to);
  }
  join(archives, sizeof archives, argv[2], "text_archives");

  /* The community ZIP: named after the export time, in downloads/, no marks. */
  char *json = NULL;
  CHECK_STATUS(thywill_download_community(db, archives, "{\"now\": \"2025-06-15T10:30:00\"}",
                                          NULL, NULL, &json),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"file_name\":\"complete_site_archive_2025_06_15_1030.zip\"");
  CHECK_CONTAINS(json, "complete_site_archive/prayers/2023/12/2023_12_13_prayer_at_0630.txt");
  CHECK_CONTAINS(json, "complete_site_archive/README.txt");
  CHECK(strstr(json, "/marks/") == NULL);
  thywill_string_free(json);
  json = NULL;
  join(to, sizeof to, argv[2], "text_archives/downloads/complete_site_archive_2025_06_15_1030.zip");
  struct stat st;
  CHECK(stat(to, &st) == 0 && st.st_size > 0);

  /* A user's ZIP; their prayers outside this small tree are reported, not copied. */
  CHECK_STATUS(thywill_download_user(db, archives, "John Lee",
                                     "{\"now\": \"2025-06-15T10:30:00\", \"include_community\": false}",
                                     NULL, NULL, &json),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"file_name\":\"John Lee_archive_2025_06_15.zip\"");
  CHECK_CONTAINS(json, "John Lee_text_archive/personal/registration.txt");
  /* The report counts the entries and names the first few, never all of them. */
  CHECK_CONTAINS(json, "\"entry_count\":");
  CHECK_CONTAINS(json, "\"entry_kinds\":{\"prayer_files\":");
  CHECK_CONTAINS(json, "\"first_entries\":[\"John Lee_text_archive/activities/my_prayer_activities.txt\"");
  CHECK_CONTAINS(json, "John Lee_text_archive/activities/my_prayer_activities.txt");
  CHECK_CONTAINS(json, "\"skipped_paths\":[{\"owner\":\"prayer ");
  thywill_string_free(json);
  json = NULL;

  CHECK_STATUS(thywill_download_user_metadata(db, archives, "John Lee", NULL, &json),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"display_name\":\"John Lee\"");
  CHECK_CONTAINS(json, "\"text_file_path\":\"users/2023_11_users.txt\"");
  thywill_string_free(json);
  json = NULL;

  CHECK_STATUS(thywill_download_list_community(db, archives, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "{\"type\":\"prayers\",\"period\":\"2023-12\",\"path\":\"prayers/2023/12\",\"file_count\":4,\"compressed\":false}");
  thywill_string_free(json);
  json = NULL;

  /* One prayer's file: served from inside the folder; unknown prayers are not found. */
  CHECK_STATUS(thywill_download_prayer_file(db, archives, "24588c05c6a244f1b75bb6470a7430a5",
                                            NULL, &json),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"file_name\":\"prayer_24588c05c6a244f1b75bb6470a7430a5_2023_12_13.txt\"");
  CHECK_CONTAINS(json, "\"content\":null,\"excluded_lines\":0");
  thywill_string_free(json);
  json = NULL;

  /* Flagged, then unflagged: who did it is left out of the content unless for a moderator. */
  join(to, sizeof to, argv[2], "text_archives/prayers/2023/12/2023_12_13_prayer_at_0630.txt");
  FILE *prayer = fopen(to, "ab");
  CHECK(prayer != NULL);
  fputs("December 22 2023 at 10:00 - Ruth flagged this prayer\n"
        "December 23 2023 at 10:00 - Admin unflagged this prayer\n",
        prayer);
  CHECK(fclose(prayer) == 0);
  CHECK_STATUS(thywill_download_prayer_file(db, archives, "24588c05c6a244f1b75bb6470a7430a5",
                                            NULL, &json),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "Levi prayed this prayer\\n\",\"excluded_lines\":2");
  CHECK(strstr(json, "flagged this prayer") == NULL);
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_download_prayer_file(db, archives, "24588c05c6a244f1b75bb6470a7430a5",
                                            "{\"include_moderation\": true}", &json),
               THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"content\":null,\"excluded_lines\":0");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_download_prayer_file(db, archives, "no-such-prayer", NULL, &json),
               THYWILL_STATUS_NOT_FOUND);
  CHECK(json == NULL);

  /* Cleanup: the fresh ZIPs are kept; the dry run removes nothing. */
  CHECK_STATUS(thywill_download_cleanup(archives, "{\"dry_run\": true}", &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"removed\":[]");
  CHECK_CONTAINS(json, "\"kept\":2");
  thywill_string_free(json);
  json = NULL;
  CHECK_STATUS(thywill_download_cleanup(archives, "{\"max_age_seconds\": 0}", &json),
               THYWILL_STATUS_OK);
  thywill_string_free(json);
  json = NULL;

  /* Errors. */
  CHECK_STATUS(thywill_download_user(db, archives, NULL, NULL, NULL, NULL, &json),
               THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_download_user(db, archives, "nobody", NULL, NULL, NULL, &json),
               THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_download_community(db, archives, "{\"bogus\": 1}", NULL, NULL, &json),
               THYWILL_STATUS_INVALID_INPUT);
  CHECK(json == NULL);
  puts("test_download: ok");
  return check_failures == 0 ? 0 : 1;
}
