/* Archive exports: kinds, parse to JSON, re-render, check_tree, and their error paths.
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

static void write_file(const char *path, const char *content) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
}

/* mkdir -p dir/rest */
static void mkdir_p(const char *dir, const char *rest) {
  char command[8300];
  int n = snprintf(command, sizeof command, "mkdir -p '%s/%s'", dir, rest);
  if (n < 0 || (size_t)n >= sizeof command || system(command) != 0) exit(2);
}

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

typedef struct {
  unsigned calls;
  uint64_t last_done;
  uint64_t last_total;
  unsigned stop_after; /* 0 = never */
} progress_state;

static bool on_progress(void *user_data, const char *phase, uint64_t done, uint64_t total) {
  progress_state *state = user_data;
  CHECK(strcmp(phase, "check") == 0);
  state->calls++;
  state->last_done = done;
  state->last_total = total;
  return state->stop_after == 0 || state->calls < state->stop_after;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char root[4096], prayer[4096], users[4096], missing[4096];
  join(root, sizeof root, argv[1], "s1/text_archives");
  join(prayer, sizeof prayer, root, "prayers/2024/01/2024_01_01_prayer_at_0719.txt");
  join(users, sizeof users, root, "users/2023_10_users.txt");
  join(missing, sizeof missing, argv[2], "prayers/2024/01/2024_01_01_prayer_at_0000.txt");
  const char bad_utf8[] = {'p', 'r', (char)0xff, 'x', '\0'};
  char *out = NULL;

  /* --- file kind --- */
  CHECK_STATUS(thywill_archive_file_kind(prayer, &out), THYWILL_STATUS_OK);
  CHECK(out != NULL && strcmp(out, "prayer") == 0);
  thywill_string_free(out);
  CHECK_STATUS(thywill_archive_file_kind("text_archives/users/2023_10_users.txt", &out), THYWILL_STATUS_OK);
  CHECK(out != NULL && strcmp(out, "user_registrations") == 0);
  thywill_string_free(out);
  CHECK_STATUS(thywill_archive_file_kind("README.txt", &out), THYWILL_STATUS_OK);
  CHECK(out != NULL && strcmp(out, "other") == 0);
  thywill_string_free(out);
  CHECK_STATUS(thywill_archive_file_kind(NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK(out == NULL);
  CHECK_CONTAINS(thywill_last_error_message(), "path");
  CHECK_STATUS(thywill_archive_file_kind(prayer, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_file_kind(bad_utf8, &out), THYWILL_STATUS_INVALID_UTF8);
  CHECK(out == NULL);
  CHECK_CONTAINS(thywill_last_error_message(), "UTF-8");

  /* --- parse --- */
  CHECK_STATUS(thywill_archive_parse_file(prayer, &out), THYWILL_STATUS_OK);
  CHECK(strcmp(thywill_last_error_message(), "") == 0);
  CHECK_CONTAINS(out, "\"kind\":\"prayer\"");
  CHECK_CONTAINS(out, "\"id\":\"4f6d5f87c3774af7a31563ff3ff12051\"");
  CHECK_CONTAINS(out, "\"author\":\"John Lee\"");
  CHECK_CONTAINS(out, "\"diagnostics\":[]");
  thywill_string_free(out);
  CHECK_STATUS(thywill_archive_parse_file(users, &out), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"kind\":\"user_registrations\"");
  CHECK_CONTAINS(out, "\"name\":\"al_haddad\"");
  CHECK_CONTAINS(out, "\"invited_by\":\"John B.\"");
  thywill_string_free(out);
  CHECK_STATUS(thywill_archive_parse_file(missing, &out), THYWILL_STATUS_NOT_FOUND);
  CHECK(out == NULL);
  CHECK_CONTAINS(thywill_last_error_message(), missing);
  char manifest[4096];
  join(manifest, sizeof manifest, argv[1], "s1/manifest.json");
  CHECK_STATUS(thywill_archive_parse_file(manifest, &out), THYWILL_STATUS_INVALID_INPUT);
  CHECK_CONTAINS(thywill_last_error_message(), "unknown kind");
  CHECK_STATUS(thywill_archive_parse_file(NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_parse_file(prayer, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_parse_file(bad_utf8, &out), THYWILL_STATUS_INVALID_UTF8);

  /* --- re-render --- */
  char *original = read_all(prayer);
  CHECK(original != NULL);
  CHECK_STATUS(thywill_archive_rerender_file(prayer, &out), THYWILL_STATUS_OK);
  CHECK(out != NULL && original != NULL && strcmp(out, original) == 0);
  thywill_string_free(out);
  free(original);
  CHECK_STATUS(thywill_archive_rerender_file(missing, &out), THYWILL_STATUS_NOT_FOUND);
  CHECK_STATUS(thywill_archive_rerender_file(NULL, &out), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_rerender_file(prayer, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_rerender_file(bad_utf8, &out), THYWILL_STATUS_INVALID_UTF8);

  /* --- check_tree, on a small tree in the scratch dir --- */
  char tree[4096], dir[4096], file[4096];
  join(tree, sizeof tree, argv[2], "tree");
  mkdir_p(tree, "users");
  join(file, sizeof file, tree, "users/2025_07_users.txt");
  write_file(file, "User Registrations for July 2025\n\nJuly 06 2025 at 09:05 - Ann joined directly\n");
  mkdir_p(tree, "prayers/2025/07");
  join(dir, sizeof dir, tree, "prayers/2025/07/2025_07_06_prayer_at_0905.txt");
  write_file(dir, "Prayer abc by Ann\nSubmitted July 06 2025 at 09:05\n\nRain, please.\n\nActivity:\n");

  progress_state state = {0, 0, 0, 0};
  bool clean = false;
  CHECK_STATUS(thywill_archive_check_tree(tree, on_progress, &state, &out, &clean), THYWILL_STATUS_OK);
  CHECK(clean);
  CHECK_CONTAINS(out, "\"files_checked\":2");
  CHECK_CONTAINS(out, "\"problems\":[]");
  CHECK(state.calls == 3);
  CHECK(state.last_done == 2 && state.last_total == 2);
  thywill_string_free(out);

  /* The users file saved with Windows line ends: parsed fine, rendered with LF only, so
   * it differs from line 1. */
  write_file(file, "User Registrations for July 2025\r\n\r\nJuly 06 2025 at 09:05 - Ann joined directly\r\n");
  CHECK_STATUS(thywill_archive_check_tree(tree, NULL, NULL, &out, &clean), THYWILL_STATUS_OK);
  CHECK(!clean);
  CHECK_CONTAINS(out, "\"path\":\"users/2025_07_users.txt\"");
  CHECK_CONTAINS(out, "\"first_differing_line\":1");
  thywill_string_free(out);
  /* Without out_clean. */
  CHECK_STATUS(thywill_archive_check_tree(tree, NULL, NULL, &out, NULL), THYWILL_STATUS_OK);
  CHECK_CONTAINS(out, "\"files_identical\":1");
  thywill_string_free(out);

  /* The callback cancels. */
  progress_state stopper = {0, 0, 0, 1};
  CHECK_STATUS(thywill_archive_check_tree(tree, on_progress, &stopper, &out, &clean), THYWILL_STATUS_CANCELLED);
  CHECK(out == NULL);
  CHECK(stopper.calls == 1);
  CHECK_STATUS(thywill_archive_check_tree(missing, NULL, NULL, &out, NULL), THYWILL_STATUS_NOT_FOUND);
  CHECK(out == NULL);
  CHECK_STATUS(thywill_archive_check_tree(NULL, NULL, NULL, &out, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_check_tree(tree, NULL, NULL, NULL, NULL), THYWILL_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(thywill_archive_check_tree(bad_utf8, NULL, NULL, &out, NULL), THYWILL_STATUS_INVALID_UTF8);

  if (check_failures == 0) printf("ok - archive\n");
  return check_failures == 0 ? 0 : 1;
}
