#!/usr/bin/env bash
# Recovery benchmark: thywill-core's test-recovery and full-recovery (cargo bench) and
# ThyWill's own on the same fixture, in the same invocation, then the ratios. Not a test:
# nothing fails on time.
#
# Usage: scripts/bench-recovery.sh
#   SIZES=10000,100000   synthetic community sizes in prayers (SIZES= for the fixtures only)
#   RUNS=5               runs per measurement (median)
#   PEER_RUNS=1          runs of each of ThyWill's commands (about 50 s each on s1)
#   THYWILL_CHECKOUT=... PEER_VENV=...   a ThyWill checkout and the venv of ../shared/peer/setup.sh;
#                        without both, only ours is measured
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
fixtures="${THYWILL_FIXTURES:-$root/../shared/fixtures}"
peer="${PEER_HARNESS:-$root/../shared/peer}"
out="${BENCH_OUT:-$root/target/bench-recovery}"
mkdir -p "$out"
export THYWILL_FIXTURES="$fixtures"

echo "==> thywill-core (release build, a child process per run)"
cargo bench -q -p thywill-core --bench recovery -- --sizes "${SIZES-10000,100000}" --runs "${RUNS:-5}" \
  | tee "$out/ours.jsonl"

peer_json=""
if [ -n "${THYWILL_CHECKOUT:-}" ] && [ -x "${PEER_VENV:-}/bin/python" ]; then
  echo "==> ThyWill's test-recovery and full-recovery (bench.py --ops testrecovery,recovery) on s1"
  rm -rf "$out/peer/recovery-s1"
  python3 "$peer/bench.py" --corpus "$fixtures/s1" --label recovery-s1 --runs "${PEER_RUNS:-1}" \
    --ops testrecovery,recovery --thywill "$THYWILL_CHECKOUT" --venv "$PEER_VENV" \
    --results "$out/peer" >"$out/peer.log" 2>&1 || echo "(ThyWill's run failed; see $out/peer.log)"
  peer_json="$out/peer/recovery-s1/results.json"
  echo "==> thywill-core on the fixtures again, right after ThyWill's run (same machine load)"
  cargo bench -q -p thywill-core --bench recovery -- --sizes "" --runs "${RUNS:-5}" | tee -a "$out/ours.jsonl"
fi

python3 - "$out/ours.jsonl" "$peer_json" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peer = {}
if len(sys.argv) > 2 and sys.argv[2]:
    try:
        peer = json.load(open(sys.argv[2]))
    except (OSError, ValueError) as e:
        print(f"ThyWill's result unavailable: {e}")
for bench, op in (("test_recovery", "testrecovery"), ("full_recovery", "recovery")):
    runs = [r for r in ours if r.get("bench") == bench and r.get("corpus") == "s1"]
    if not runs:
        continue
    wall = sum(r["median_wall_s"] for r in runs) / len(runs)
    cpu = sum(r["median_cpu_s"] for r in runs) / len(runs)
    print(f"ours, {bench} of s1: {wall:.3f} s wall, {cpu:.3f} s CPU (mean of {len(runs)} medians: "
          + ", ".join(f"{r['median_wall_s']:.3f}" for r in runs) + ")")
    if op in peer:
        p = peer[op]
        pwall = p["median_wall_s"]
        pcpu = sorted(r["user_s"] + r["sys_s"] for r in p["runs"])[len(p["runs"]) // 2]
        print(f"ThyWill's {op} on s1: {pwall:.2f} s wall, {pcpu:.2f} s CPU, {p.get('median_max_rss_mb')} MB peak RSS")
        print(f"  ratio (ThyWill / ours, same invocation): {pwall / wall:.0f}x wall, {pcpu / max(cpu, 0.01):.0f}x CPU")
for r in ours:
    if r.get("bench") in ("test_recovery", "full_recovery") and "prayers" in r:
        print(f"synthetic {r['prayers']} prayers, {r['bench']}: {r['median_wall_s']:.2f} s wall, "
              f"{r['median_cpu_s']:.2f} s CPU, peak RSS {r['peak_rss_mb']} MB")
    if r.get("bench") == "scaling" or "time_ratio" in r:
        print(json.dumps(r))
PY

# The floor under any rebuild of s1 into SQLite: SQLite itself copying s1's rows into a new
# file, table to table inside one process (INSERT ... SELECT: no archive read, no parsing,
# no per-row work outside SQLite), and reading both copies once, as a comparison must.
echo "==> the floor: SQLite copying s1's rows into a new database and reading both (no archives)"
python3 - "$fixtures/s1/thywill.db" "${RUNS:-5}" <<'PY'
import os, sqlite3, statistics, sys, tempfile, time
src, runs = sys.argv[1], int(sys.argv[2])
def once():
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        c = sqlite3.connect(os.path.join(d, "copy.db"), isolation_level=None)
        c.execute("PRAGMA synchronous=OFF")
        c.execute("PRAGMA journal_mode=OFF")
        c.execute("ATTACH ? AS s", (src,))
        tables = [r[0] for r in c.execute("SELECT name FROM s.sqlite_master WHERE type='table'")]
        schema = [r[0] for r in c.execute(
            "SELECT sql FROM s.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")]
        c.execute("BEGIN")
        for sql in schema:
            c.execute(sql)
        rows = sum(c.execute(f'INSERT INTO main."{t}" SELECT * FROM s."{t}"').rowcount for t in tables)
        c.execute("COMMIT")
        copied = time.perf_counter()
        for t in tables:
            for side in ("main", "s"):
                c.execute(f'SELECT count(*) FROM (SELECT * FROM {side}."{t}")').fetchone()
        c.close()
        return rows, copied - start, time.perf_counter() - start
results = [once() for _ in range(max(runs, 3))]
rows = results[0][0]
copy = statistics.median(r[1] for r in results)
total = statistics.median(r[2] for r in results)
print(f"s1: {rows} rows; SQLite's own copy {copy * 1000:.1f} ms, copy and both reads {total * 1000:.1f} ms "
      f"(median of {len(results)}): a rebuild-and-compare of s1 cannot take less")
PY
