/* The audit trail from C: a backup and a failed one leave their lines beside the database
 * (the acting user on the first), a configured file takes them instead, "off" takes none,
 * reading a damaged log lists its bad lines, and bad options are refused.
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

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  char fixture_db[4096], db[4096], log[4096], other[4096], options[8192], missing[4096];
  join(fixture_db, sizeof fixture_db, argv[1], "s1/thywill.db");
  join(db, sizeof db, argv[2], "thywill.db");
  join(log, sizeof log, argv[2], "thywill-audit.jsonl");
  join(other, sizeof other, argv[2], "other.jsonl");
  join(missing, sizeof missing, argv[2], "missing.db");
  copy_file(fixture_db, db);

  char *json = NULL;
  CHECK_STATUS(thywill_audit_set_acting_user("Miriam"), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_backup_create(db, NULL, NULL, NULL, NULL, NULL, &json), THYWILL_STATUS_OK);
  thywill_string_free(json);
  CHECK_STATUS(thywill_audit_set_acting_user(NULL), THYWILL_STATUS_OK);
  json = NULL;
  CHECK_STATUS(thywill_backup_create(missing, NULL, NULL, NULL, NULL, NULL, &json), THYWILL_STATUS_NOT_FOUND);

  struct stat st;
  CHECK(stat(log, &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_STATUS(thywill_audit_read(log, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"operation\":\"backup.create\"");
  CHECK_CONTAINS(json, "\"user\":\"Miriam\"");
  CHECK_CONTAINS(json, "\"result\":\"failed\"");
  CHECK_CONTAINS(json, "\"kind\":\"not_found\"");
  CHECK_CONTAINS(json, "\"unreadable_count\":0");
  thywill_string_free(json);
  CHECK_STATUS(thywill_audit_read(log, "{\"operation\": \"download\"}", &json), THYWILL_STATUS_OK);
  CHECK(strstr(json, "backup.create") == NULL);
  thywill_string_free(json);

  /* Into one configured file, then nowhere. */
  snprintf(options, sizeof options, "{\"mode\": \"file\", \"path\": \"%s\"}", other);
  CHECK_STATUS(thywill_audit_configure(options), THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_backup_create(missing, NULL, NULL, NULL, NULL, NULL, &json), THYWILL_STATUS_NOT_FOUND);
  CHECK(stat(other, &st) == 0);
  CHECK_STATUS(thywill_audit_configure("{\"mode\": \"off\"}"), THYWILL_STATUS_OK);
  off_t before = st.st_size;
  CHECK_STATUS(thywill_backup_create(missing, NULL, NULL, NULL, NULL, NULL, &json), THYWILL_STATUS_NOT_FOUND);
  CHECK(stat(other, &st) == 0 && st.st_size == before);
  CHECK_STATUS(thywill_audit_configure(NULL), THYWILL_STATUS_OK);

  /* A damaged line is listed, not an error. */
  FILE *f = fopen(other, "ab");
  CHECK(f != NULL);
  fputs("{\"time\": cut short\n", f);
  fclose(f);
  CHECK_STATUS(thywill_audit_read(other, NULL, &json), THYWILL_STATUS_OK);
  CHECK_CONTAINS(json, "\"unreadable_count\":1");
  thywill_string_free(json);

  /* Refusals. */
  CHECK_STATUS(thywill_audit_configure("{\"mode\": \"file\"}"), THYWILL_STATUS_INVALID_INPUT);
  CHECK_STATUS(thywill_audit_configure("{\"mode\": \"sideways\"}"), THYWILL_STATUS_INVALID_INPUT);
  CHECK(thywill_audit_read(NULL, NULL, &json) != THYWILL_STATUS_OK);
  CHECK_STATUS(thywill_audit_take_failures(&json), THYWILL_STATUS_OK);
  CHECK(strcmp(json, "[]") == 0);
  thywill_string_free(json);
  printf("audit: ok\n");
  return check_failures == 0 ? 0 : 1;
}
