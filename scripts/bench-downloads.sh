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
