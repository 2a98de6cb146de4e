#!/usr/bin/env bash
# Import benchmark: thywill-core's importer (cargo bench) and ThyWill's own importer on the
# same fixture, in the same invocation, then the ratios. Not a test: nothing fails on time.
#
# Usage: scripts/bench-import.sh
#   SIZES=10000,100000   synthetic community sizes in prayers (~11 marks per prayer: over 1,000,000 marks at 100,000)
#   RUNS=5               runs per fixture measurement (median)
#   PEER_RUNS=1          runs of ThyWill's importer (about 40 s each on s1)
#   THYWILL_CHECKOUT=... PEER_VENV=...   a ThyWill checkout and the venv of ../shared/peer/setup.sh;
#                        without both, only ours is measured
#   SKIP_PEER=1          measure only ours
#   PEER_SYNTHETIC=2000,5000  also ThyWill's importer on synthetic communities of these sizes
#                        (it is quadratic: ~40 s at 2,000 prayers), each against ours on the same archive
#   PEER_TIMEOUT=900     seconds before ThyWill's run on a synthetic community is stopped
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
if [ -z "${SKIP_PEER:-}" ] && [ -n "${THYWILL_CHECKOUT:-}" ] && [ -x "${PEER_VENV:-}/bin/python" ]; then
  echo "==> ThyWill's importer (bench.py --ops import) on the same fixture"
  rm -rf "$out/peer/dbimport-s1"
  python3 "$peer/bench.py" --corpus "$fixtures/s1" --label dbimport-s1 --runs "${PEER_RUNS:-1}" --ops import \
    --thywill "$THYWILL_CHECKOUT" --venv "$PEER_VENV" \
    --results "$out/peer" >"$out/peer.log" 2>&1 || echo "(ThyWill's run failed; see $out/peer.log)"
  peer_json="$out/peer/dbimport-s1/results.json"
  echo "==> thywill-core on the fixtures again, right after ThyWill's run (same machine load)"
  cargo bench -q -p thywill-core --bench import -- --sizes "" --runs "${RUNS:-5}" | tee -a "$out/ours.jsonl"
fi

# ThyWill's importer on synthetic communities (where it finishes), and ours on the same archive.
: > "$out/synthetic-peer.jsonl"
if [ -z "${SKIP_PEER:-}" ] && [ -n "${PEER_SYNTHETIC:-}" ]; then
  bench_bin=$(cargo bench -q -p thywill-core --bench import --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable") and m["target"]["name"] == "import"][-1])')
  for size in ${PEER_SYNTHETIC//,/ }; do
    dir="$out/peer-synthetic-$size"
    rm -rf "$dir" "$dir-work"
    archives=$("$bench_bin" --generate "$size" --out "$dir")
    echo "==> ThyWill's importer on a synthetic community of $size prayers (limit ${PEER_TIMEOUT:-900} s)"
    peer_line=$(python3 scripts/peer-import.py --archives "$archives" --work "$dir-work" --timeout "${PEER_TIMEOUT:-900}")
    echo "$peer_line"
    sync
    : > "$dir/ours.jsonl"
    for run in 1 2 3 4 5; do
      rm -f "$dir/ours.db" "$dir/ours.db-wal" "$dir/ours.db-shm"
      "$bench_bin" --child-archives "$archives" --child-db "$dir/ours.db" >> "$dir/ours.jsonl"
    done
    python3 - "$size" "$peer_line" "$dir/ours.jsonl" >> "$out/synthetic-peer.jsonl" <<'PY'
import json, sys
size, peer = int(sys.argv[1]), json.loads(sys.argv[2])
ours = [json.loads(line) for line in open(sys.argv[3]) if line.startswith("{")]
secs = sorted(r["secs"] for r in ours)[len(ours) // 2]
print(json.dumps({"prayers": size, "peer": peer, "ours_median_s": secs, "ours_rows": ours[0]["rows_inserted"]}))
PY
    rm -rf "$dir" "$dir-work"
  done
fi

python3 - "$out/ours.jsonl" "$peer_json" "$out/synthetic-peer.jsonl" <<'PY'
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
for line in open(sys.argv[3]) if len(sys.argv) > 3 else []:
    r = json.loads(line)
    peer = r["peer"]
    if peer["finished"]:
        print(f"synthetic {r['prayers']} prayers, ThyWill's importer: {peer['wall_s_outer']:.1f} s wall (rc {peer['rc']}), "
              f"ours {r['ours_median_s']:.3f} s median of 5: {peer['wall_s_outer'] / r['ours_median_s']:.0f}x")
    else:
        print(f"synthetic {r['prayers']} prayers, ThyWill's importer: did not finish within {peer['timeout_s']:.0f} s; "
              f"ours {r['ours_median_s']:.3f} s: more than {peer['timeout_s'] / r['ours_median_s']:.0f}x")
for r in ours:
    if r["bench"] == "synthetic":
        print(f"synthetic {r['prayers']} prayers: {r['import_s']:.2f} s ({r.get('cpu_s')} s CPU), peak RSS {r['peak_rss_mb']} MB, "
              f"{r['rows_inserted']} rows of which {r.get('marks_inserted')} marks")
    if r["bench"] == "scaling":
        print(f"scaling {r['from']} -> {r['to']}: rows x{r['rows_ratio']}, time x{r['time_ratio']}, peak RSS x{r['peak_rss_ratio']}")
PY
