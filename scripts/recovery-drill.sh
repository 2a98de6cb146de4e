#!/usr/bin/env bash
# The monthly recovery drill (docs/operations.md): proves, without touching the live
# database, that the community could be brought back today.
#
#   scripts/recovery-drill.sh DB ARCHIVES SCRATCH
#
#   1. test-recovery: rebuild from the text archives in SCRATCH and compare with DB
#   2. recovery-report: the readiness verdict (archives + newest verified backup)
#   3. the newest verified local backup, verified again from its bytes (thywill verify)
#   4. that backup restored into SCRATCH (never DB) and the restored file checked:
#      quick_check ok, integrity ok, the same rows per table as the backup's manifest
#   5. validate-consistency of the restored database with the archives
#
# Exits 0 when every step passed, 1 when any found a problem (each is listed), 2 on a usage
# error. A `partial` verdict whose only reason is rows the text archives cannot carry (e.g.
# notification_state) is reported but is not a problem; `not_ready`, or no recent verified
# backup, is.
#
# Environment: THYWILL (the command, default `thywill` on PATH), THYWILL_BACKUP_DIR (default
# backups/ beside DB), THYWILL_AUDIT_LOG (default thywill-audit.jsonl beside DB: the drill's
# operations are recorded in the community's audit trail), MAX_BACKUP_AGE_HOURS (default 26),
# KEEP_SCRATCH=1 keeps the drill's scratch folder. Needs python3 (to read the JSON reports).
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 DB ARCHIVES SCRATCH" >&2
  exit 2
fi
db=$1
archives=$2
scratch_root=$3
thywill=${THYWILL:-thywill}
db_dir=$(dirname -- "$db")
backups=${THYWILL_BACKUP_DIR:-$db_dir/backups}
audit_log=${THYWILL_AUDIT_LOG:-$db_dir/thywill-audit.jsonl}
max_age=${MAX_BACKUP_AGE_HOURS:-26}

if [ ! -f "$db" ]; then
  echo "recovery-drill: $db is not a database file" >&2
  exit 2
fi
if [ ! -d "$archives" ]; then
  echo "recovery-drill: $archives is not a folder" >&2
  exit 2
fi
mkdir -p -- "$scratch_root" || exit 2
scratch=$(mktemp -d "$scratch_root/recovery-drill-XXXXXX") || exit 2
if [ "${KEEP_SCRATCH:-0}" != 1 ]; then
  trap 'rm -rf -- "$scratch"' EXIT
fi
# test-recovery's rebuild goes to the system's temp folder: keep it in the scratch folder.
export TMPDIR=$scratch

problems=0
problem() {
  echo "PROBLEM: $*"
  problems=$((problems + 1))
}
# `tw ARGS...`: thywill on the live community's settings, its report saved as JSON.
tw() {
  "$thywill" --db "$db" --archives "$archives" --backups "$backups" --audit-log "$audit_log" "$@"
}
# `field FILE EXPRESSION`: a Python expression over the report `d` loaded from FILE.
field() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

echo "Recovery drill of $db (archives $archives, backups $backups), $(date -u +%Y-%m-%dT%H:%M:%SZ)"

echo "1. test-recovery"
tw --json test-recovery >"$scratch/test-recovery.json"
code=$?
if [ $code -ne 0 ]; then
  problem "test-recovery exited $code (1: an archive record could not be imported)"
fi
if [ -s "$scratch/test-recovery.json" ] && [ $code -le 1 ]; then
  field "$scratch/test-recovery.json" \
    '"   rows that would come back: %d, be lost: %d, be added: %d" % (d["comparison"]["come_back"], d["comparison"]["lost"], d["comparison"]["added"])'
  field "$scratch/test-recovery.json" '"\n".join("   note: " + w for w in d["warnings"])' | grep . || true
fi

echo "2. recovery-report"
if tw --json recovery-report --max-backup-age "$max_age" >"$scratch/recovery-report.json"; then
  verdict=$(field "$scratch/recovery-report.json" 'd["readiness"]')
  reasons=$(field "$scratch/recovery-report.json" '" ".join(r["kind"] for r in d["reasons"])')
  echo "   readiness: $verdict${reasons:+ ($reasons)}"
  case " $reasons " in
    *" no_recent_verified_backup "*) problem "no verified backup younger than $max_age hours" ;;
  esac
  if [ "$verdict" = not_ready ]; then
    problem "recovery-report says not_ready: users or prayers would be lost"
  fi
else
  problem "recovery-report failed"
fi

echo "3. the newest verified backup"
tw --json list >"$scratch/list.json" || problem "list failed"
backup=$(field "$scratch/list.json" \
  'max(((e["timestamp"], e["path"]) for e in d["entries"] if e["verified"] and e["location"]["type"] == "local" and "tier" in e["kind"]), default=("", ""))[1]' 2>/dev/null)
if [ -z "$backup" ]; then
  problem "no verified local backup in $backups"
else
  echo "   $backup"
  if tw --json verify "$backup" >"$scratch/verify.json"; then
    echo "   verified again: checksum and integrity ok"
  else
    problem "thywill verify $backup failed"
  fi
fi

echo "4. restore into the scratch folder"
if [ -n "$backup" ]; then
  restored=$scratch/restored.db
  # Its own --db and --backups: the live database and its backups are never touched.
  if "$thywill" --db "$restored" --backups "$scratch/backups" --audit-log "$audit_log" \
      --yes --json restore "$backup" >"$scratch/restore.json"; then
    quick=$(field "$scratch/restore.json" '",".join(d["quick_check"])')
    [ "$quick" = ok ] || problem "the restored database's quick_check says: $quick"
    if "$thywill" --audit-log "$audit_log" --json verify "$restored" --allow-missing-checksum \
        >"$scratch/verify-restored.json"; then
      same=$(python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))["table_row_counts"]
b = json.load(open(sys.argv[2]))["table_row_counts"]
print("yes" if a == b else "no: " + ", ".join(f"{t} {a.get(t)} vs {b.get(t)}" for t in sorted(set(a) | set(b)) if a.get(t) != b.get(t)))' \
        "$scratch/verify.json" "$scratch/verify-restored.json" 2>&1)
      rows=$(field "$scratch/verify-restored.json" 'sum(d["table_row_counts"].values())')
      echo "   restored: quick_check $quick, integrity ok, $rows rows"
      [ "$same" = yes ] || problem "the restored rows differ from the backup's: $same"
    else
      problem "the restored database does not pass verify"
    fi
  else
    problem "restoring $backup into the scratch folder failed"
  fi
fi

echo "5. validate-consistency of the restored database"
if [ -n "$backup" ] && [ -f "$scratch/restored.db" ]; then
  "$thywill" --db "$scratch/restored.db" --archives "$archives" --audit-log "$audit_log" \
    --json validate-consistency >"$scratch/consistency.json"
  code=$?
  if [ -s "$scratch/consistency.json" ] && [ $code -le 2 ]; then
    field "$scratch/consistency.json" '"   score %.2f (%s)" % (d["stats"]["consistency_score"], d["band"])'
  fi
  # 0 from 95, 1 from 85 (the archives lag the backup a little), 2 below, 3+ an error.
  [ $code -le 1 ] || problem "validate-consistency exited $code"
fi

if [ $problems -eq 0 ]; then
  echo "Drill passed."
  exit 0
fi
echo "Drill FAILED: $problems problem(s)."
exit 1
