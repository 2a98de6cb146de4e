#!/usr/bin/env bash
# Import benchmark: thywill-core's importer (cargo bench) and ThyWill's own importer on the
# same fixture, in the same invocation, then the ratios. Not a test: nothing fails on time.
#
# Usage: scripts/bench-import.sh
#   SIZES=10000,100000   synthetic community sizes in prayers (~11 marks per prayer: over 1,000,000 marks at 100,000)
#   RUNS=5               runs per fixture measurement (median)
#   PEER_RUNS=1          runs of ThyWill's importer (about 40 s each on s1)
#   THYWILL_CHECKOUT=/work/peer/thywill PEER_VENV=/work/peer/peer-venv   ThyWill and its venv
#   SKIP_PEER=1          measure only ours
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
fixtures="${THYWILL_FIXTURES:-$root/../shared/fixtures}"
peer="${PEER_HARNESS:-$root/../shared/peer}"
out="${BENCH_OUT:-$root/target/bench-import}"
mkdir -p "$out"
export THYWILL_FIXTURES="$fixtures"

echo "==> thywill-core (release build, in-process timings, child process per synthetic size)"
cargo bench -q -p thywill-core --bench import -- --sizes "${SIZES:-10000,100000}" --runs "${RUNS:-5}" \
  | tee "$out/ours.jsonl"

peer_json=""
if [ -z "${SKIP_PEER:-}" ] && [ -x "${PEER_VENV:-/work/peer/peer-venv}/bin/python" ]; then
  echo "==> ThyWill's importer (bench.py --ops import) on the same fixture"
  rm -rf "$out/peer/dbimport-s1"
  python3 "$peer/bench.py" --corpus "$fixtures/s1" --label dbimport-s1 --runs "${PEER_RUNS:-1}" --ops import \
    --thywill "${THYWILL_CHECKOUT:-/work/peer/thywill}" --venv "${PEER_VENV:-/work/peer/peer-venv}" \
    --results "$out/peer" >"$out/peer.log" 2>&1 || echo "(ThyWill's run failed; see $out/peer.log)"
  peer_json="$out/peer/dbimport-s1/results.json"
  echo "==> thywill-core on the fixtures again, right after ThyWill's run (same machine load)"
  cargo bench -q -p thywill-core --bench import -- --sizes "" --runs "${RUNS:-5}" | tee -a "$out/ours.jsonl"
fi

python3 - "$out/ours.jsonl" "$peer_json" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s1_runs = [r for r in ours if r["bench"] == "fixture_empty_db" and r["corpus"] == "s1"]
s1 = dict(s1_runs[0])
# Before and (when ThyWill ran) right after ThyWill's run: the mean of the medians.
s1["median_s"] = sum(r["median_s"] for r in s1_runs) / len(s1_runs)
print(f"ours, s1 into an empty database: {s1['median_s']:.3f} s (mean of {len(s1_runs)} medians: "
      + ", ".join(f"{r['median_s']:.3f}" for r in s1_runs) + f"; {s1['rows_inserted']} rows)")
for r in ours:
    if r["bench"] == "fixture_live_db":
        print(f"ours, {r['corpus']} into its own live database (nothing to do): {r['median_s']:.3f} s median")
if len(sys.argv) > 2 and sys.argv[2]:
    try:
        peer = json.load(open(sys.argv[2]))["import"]
        wall = peer["median_wall_s"]
        cpu = sorted(r["user_s"] + r["sys_s"] for r in peer["runs"])[len(peer["runs"]) // 2]
        print(f"ThyWill's importer on s1: {wall:.2f} s median wall, {cpu:.2f} s CPU, {peer['median_max_rss_mb']} MB peak RSS")
        print(f"speed ratio (ThyWill / ours, same invocation): {wall / s1['median_s']:.0f}x wall")
        cpus = [r["median_cpu_s"] for r in s1_runs if "median_cpu_s" in r]
        if cpus:
            ours_cpu = sum(cpus) / len(cpus)
            print(f"CPU-time ratio: {cpu / max(ours_cpu, 0.01):.0f}x (ours {ours_cpu:.3f} s CPU)")
    except (OSError, KeyError, ValueError) as e:
        print(f"ThyWill's result unavailable: {e}")
for r in ours:
    if r["bench"] == "synthetic":
        print(f"synthetic {r['prayers']} prayers: {r['import_s']:.2f} s ({r.get('cpu_s')} s CPU), peak RSS {r['peak_rss_mb']} MB, "
              f"{r['rows_inserted']} rows of which {r.get('marks_inserted')} marks")
    if r["bench"] == "scaling":
        print(f"scaling {r['from']} -> {r['to']}: rows x{r['rows_ratio']}, time x{r['time_ratio']}, peak RSS x{r['peak_rss_ratio']}")
PY
