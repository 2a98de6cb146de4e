#!/usr/bin/env bash
# The benchmark report: every side-by-side benchmark against ThyWill's own Python on the same
# corpora, plus `sqlite3 .backup` and `cp` for backups, then the report in docs/benchmarks.md
# (the part between its `bench-report` markers). Not a test: nothing fails on time.
#
# Usage: THYWILL_CHECKOUT=<ThyWill checkout> PEER_VENV=<venv of ../shared/peer/setup.sh> scripts/bench-report.sh
#   CORPORA=s1,s1-live,synthetic:10000   fixtures by name, synthetic:N (N prayers, generated), or a folder
#   OPS=import,...    a subset of: import dryrun recovery testrecovery validate consistency
#                     communityzip userzip backup verify (default all)
#   RUNS=3            runs of each of ThyWill's commands (median); OURS_RUNS=5 of ours after each
#   SLOW_RUNS=1       runs of ThyWill's import and full-recovery (40-80 s each on s1)
#   SLOW_LIMIT=2000   prayers above which ThyWill's import and full-recovery are not run (quadratic)
#   BIG_DB_MB=512     size of the database for the backup/verify/cp/sqlite3 comparison (0: none)
#   OURS_ONLY=1       measure ours alone (no ThyWill needed); writes target/bench-report/ only
#   REPORT=docs/benchmarks.md   the file whose generated section is rewritten ("" to skip)
# Needs python3, GNU time (/usr/bin/time) and the sqlite3 CLI, as the peer harness does.
# Results: target/bench-report/results.json; `--render-only` re-renders the report from it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export THYWILL_FIXTURES="${THYWILL_FIXTURES:-$root/../shared/fixtures}"
export PEER_HARNESS="${PEER_HARNESS:-$root/../shared/peer}"
if [ "${1:-}" != "--render-only" ]; then
  if [ -z "${OURS_ONLY:-}" ] && { [ -z "${THYWILL_CHECKOUT:-}" ] || [ ! -x "${PEER_VENV:-}/bin/python" ]; }; then
    echo "bench-report: set THYWILL_CHECKOUT and PEER_VENV (../shared/peer/README.md), or OURS_ONLY=1" >&2
    exit 2
  fi
  for tool in /usr/bin/time sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench-report: $tool is needed (apt-get install time sqlite3)" >&2; exit 2; }
  done
  echo "==> building thywill (release) and the synthetic-community generator" >&2
  cargo build -q --release -p thywill-cli
  cargo bench -q -p thywill-core --bench recovery --no-run 2>/dev/null
  export THYWILL_BIN="$root/target/release/thywill"
fi
exec python3 "$root/scripts/bench_report.py" "$@"
