#!/usr/bin/env bash
# Download benchmark: the in-call time of the community ZIP and of the busiest user's ZIP
# (include_community), ours through the installed wheel (.venv, a release build) and
# ThyWill's ArchiveDownloadService, on copies of s1, in one invocation; then the ratios.
# Both deflate at zlib's default level. Not a test: nothing fails on time.
#
# Usage: scripts/bench-downloads.sh
#   RUNS=5                        runs of each (median)
#   THYWILL_CHECKOUT=... PEER_VENV=...   a ThyWill checkout and the venv of ../shared/peer/setup.sh;
#                                 without both, only ours is measured
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="${THYWILL_FIXTURES:-$root/../shared/fixtures}"
runs="${RUNS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$fixtures/s1/text_archives" "$fixtures/s1/thywill.db" "$work/"
chmod -R u+w "$work"
user="$(sqlite3 "$work/thywill.db" "SELECT username FROM prayermark GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"

echo "==> thywill-core (the installed wheel)"
(cd "$work" && "$root/.venv/bin/python" - "$runs" "$user" <<'PY') | tee "$work/ours.json"
import json, resource, statistics, sys, time
import thywill_core
runs, user = int(sys.argv[1]), sys.argv[2]
def timed(call):
    times = []
    for _ in range(runs):
        start = time.perf_counter(); call(); times.append(time.perf_counter() - start)
    return statistics.median(times)
result = {
    "community_s": timed(lambda: thywill_core.download_community("thywill.db", "text_archives")),
    "user_s": timed(lambda: thywill_core.download_user("thywill.db", "text_archives", user)),
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}
print(json.dumps(result))
PY

if [ -n "${THYWILL_CHECKOUT:-}" ] && [ -x "${PEER_VENV:-}/bin/python" ]; then
  echo "==> ThyWill's ArchiveDownloadService"
  for n in static templates migrations; do ln -s "$THYWILL_CHECKOUT/$n" "$work/$n"; done
  (cd "$work" && ANTHROPIC_API_KEY=offline TZ=UTC PYTHONPATH="$THYWILL_CHECKOUT" PYTHONDONTWRITEBYTECODE=1 \
    TEXT_ARCHIVE_BASE_DIR=./text_archives EMAIL_DATABASE_PATH="$work/email.db" \
    "$PEER_VENV/bin/python" - "$runs" "$user" <<'PY' 2>"$work/peer.err") | tail -1 | tee "$work/peer.json"
import json, statistics, sys, time
import app  # noqa: F401  (ThyWill's services need app imported first)
from app_helpers.services.archive_download_service import ArchiveDownloadService
runs, user = int(sys.argv[1]), sys.argv[2]
service = ArchiveDownloadService("text_archives")
def timed(call):
    times = []
    for _ in range(runs):
        start = time.perf_counter(); call(); times.append(time.perf_counter() - start)
    return statistics.median(times)
print(json.dumps({
    "community_s": timed(service.create_full_community_zip),
    "user_s": timed(lambda: service.create_user_archive_zip(user, include_community=True)),
}))
PY
  python3 - "$work/ours.json" "$work/peer.json" <<'PY'
import json, sys
ours, peer = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:3])
for key in ("community_s", "user_s"):
    print(f"{key}: ours {ours[key]*1000:.1f} ms, ThyWill {peer[key]*1000:.1f} ms, {peer[key]/ours[key]:.1f}x")
PY
fi

# Synthetic communities (the recovery benchmark's generator: archives written as ThyWill
# writes them, and their import as the database): the community ZIP's time and each ZIP's
# peak memory, every measurement in its own process so that its peak RSS is its own.
sizes="${SIZES-10000,100000}"
[ -n "$sizes" ] || exit 0
cargo bench -q -p thywill-core --bench recovery --no-run
generator="$(cargo bench -q -p thywill-core --bench recovery --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "recovery" and m.get("executable"):
        print(m["executable"])' | tail -1)"
measure() {  # measure PYTHON WHO OP DIR USER: one call in a fresh process, in-call seconds and peak RSS
  (cd "$4" && "$1" - "$2" "$3" "$5" <<'PY')
import json, resource, sys, time
who, op, user = sys.argv[1:4]
if who == "ours":
    import thywill_core
    call = {"community": lambda: thywill_core.download_community("thywill.db", "text_archives"),
            "user": lambda: thywill_core.download_user("thywill.db", "text_archives", user)}[op]
else:
    import app  # noqa: F401
    from app_helpers.services.archive_download_service import ArchiveDownloadService
    service = ArchiveDownloadService("text_archives")
    call = {"community": service.create_full_community_zip,
            "user": lambda: service.create_user_archive_zip(user, include_community=True)}[op]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
call()
print(json.dumps({"who": who, "op": op, "s": round(time.perf_counter() - start, 4),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rss_before_call_mb": round(before / 1024, 1)}))
PY
}
IFS=, read -ra size_list <<<"$sizes"
for size in "${size_list[@]}"; do
  dir="$work/synthetic-$size"
  "$generator" --generate "$size" --out "$dir" >/dev/null
  busiest="$(python3 - "$dir/thywill.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT username FROM prayermark GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0])
PY
)"
  echo "==> synthetic community of $size prayers (user: $busiest)"
  for op in community user; do
    for run in $(seq "$runs"); do measure "$root/.venv/bin/python" ours "$op" "$dir" "$busiest"; done \
      | python3 -c 'import json,sys,statistics
rs=[json.loads(l) for l in sys.stdin]
print(json.dumps({"who":"ours","op":rs[0]["op"],"prayers":'"$size"',"median_s":statistics.median(r["s"] for r in rs),
  "peak_rss_mb":max(r["peak_rss_mb"] for r in rs),"rss_before_call_mb":max(r["rss_before_call_mb"] for r in rs)}))'
  done
  if [ -n "${THYWILL_CHECKOUT:-}" ] && [ -x "${PEER_VENV:-}/bin/python" ] && [ "$size" -le "${PEER_MAX_SIZE:-10000}" ]; then
    for n in static templates migrations; do ln -sfn "$THYWILL_CHECKOUT/$n" "$dir/$n"; done
    for op in community user; do
      ANTHROPIC_API_KEY=offline TZ=UTC PYTHONPATH="$THYWILL_CHECKOUT" PYTHONDONTWRITEBYTECODE=1 \
        TEXT_ARCHIVE_BASE_DIR=./text_archives EMAIL_DATABASE_PATH="$dir/email.db" \
        measure "$PEER_VENV/bin/python" thywill "$op" "$dir" "$busiest" 2>>"$work/peer.err" | tail -1
    done
  fi
  rm -rf "$dir"
done
