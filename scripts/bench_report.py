"""The benchmark report's driver and renderer (run it through scripts/bench-report.sh).

ThyWill's side is measured by the peer harness's own code (`bench.py`'s `prepare` and `run_op`:
the same work-folder layout, environment and GNU time as its published baseline). Ours runs the
release `thywill` command in a work folder prepared the same way, from the same corpus copy and
the same starting database, under the same GNU time (CPU, peak RSS; the wall time is read
around it at a finer resolution than GNU time prints); its in-call
time is the `duration_ms` of the operation's audit line. Runs alternate between the two, so
both see the same machine load. Nothing here fails on time.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench-report"
RESULTS = OUT / "results.json"
START_MARK = "<!-- bench-report:start -->"
END_MARK = "<!-- bench-report:end -->"

# op -> (ThyWill's command as the harness runs it, the starting database, ours as a command line)
OPS: dict[str, tuple[str, str, list[str]]] = {
    "import": ("scripts/utils/import_text_archives.py", "empty", ["import", "text-archives"]),
    "dryrun": ("import_text_archives.py --dry-run", "empty", ["import", "text-archives", "--dry-run"]),
    "recovery": ("archive_validation full-recovery", "empty", ["full-recovery", "--yes"]),
    "testrecovery": ("archive_validation test-recovery", "empty", ["test-recovery"]),
    "validate": ("archive_validation validate", "empty", ["validate-archives"]),
    "consistency": ("validate_archive_consistency.py --summary", "original", ["validate-consistency"]),
    "communityzip": ("create_full_community_zip()", "original", ["download", "community", "--out", "community.zip"]),
    "userzip": ("create_user_archive_zip(top user, include_community=True)", "original",
                ["download", "user", "{user}", "--out", "user.zip"]),
    "backup": ("deployment/backup_management.sh daily", "original", ["backup", "daily"]),
    "verify": ("app_helpers.cli.backup_verification FILE", "original", ["verify", "{backup}"]),
}
SLOW_OPS = ("import", "recovery")
OURS_LABEL = {
    "import": "thywill import text-archives",
    "dryrun": "thywill import text-archives --dry-run",
    "recovery": "thywill full-recovery --yes",
    "testrecovery": "thywill test-recovery",
    "validate": "thywill validate-archives",
    "consistency": "thywill validate-consistency",
    "communityzip": "thywill download community",
    "userzip": "thywill download user NAME",
    "backup": "thywill backup daily",
    "verify": "thywill verify FILE",
}
# Exit codes that are results, not failures (a check that finds problems exits 1, a score below 95 exits 1 or 2).
ACCEPTED_RC = {"validate": (0, 1), "consistency": (0, 1, 2), "import": (0, 1), "dryrun": (0, 1)}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


# ---------------------------------------------------------------- the peer harness


class Peer:
    """ThyWill's side, through the peer harness's bench.py (imported, not copied)."""

    def __init__(self) -> None:
        harness = Path(os.environ["PEER_HARNESS"]).resolve()
        sys.path.insert(0, str(harness))
        import bench  # type: ignore[import-not-found]

        bench.THYWILL = str(Path(os.environ["THYWILL_CHECKOUT"]).resolve())
        bench.VENV_PY = str(Path(os.environ["PEER_VENV"]).resolve() / "bin" / "python")
        self.bench = bench
        import compare_db  # type: ignore[import-not-found]

        self.compare_db = compare_db

    def prepare(self, wd: Path, corpus: Path, db: str) -> None:
        self.bench.prepare(str(wd), str(corpus), db)

    def run(self, op: str, corpus: Path, wd: Path, logs: Path) -> dict[str, Any]:
        logp = str(logs / f"thywill-{op}-{time.monotonic_ns()}")
        if op == "verify":
            self.bench.prepare(str(wd), str(corpus), "original")
            os.makedirs(wd / "deployment", exist_ok=True)
            shutil.copy2(Path(self.bench.THYWILL) / "deployment/backup_management.sh", wd / "deployment")
            self.bench.sh(["bash", str(wd / "deployment/backup_management.sh"), "daily"], str(wd), logp + "-setup",
                          timed=False)
            made = sorted((wd / "backups" / "daily").glob("*.db"))
            if not made:
                raise RuntimeError(f"ThyWill's backup for verify made nothing: see {logp}-setup.stderr")
            backup = made[-1]
            r = self.bench.sh([self.bench.VENV_PY, "-m", "app_helpers.cli.backup_verification", str(backup)],
                              str(wd), logp)
            r["verified"] = "completed successfully" in Path(logp + ".stdout").read_text()
            return r
        r, info = self.bench.run_op(op, str(corpus), str(wd), logp)
        r.update(info)
        return r

    def startup(self, corpus: Path, wd: Path, logs: Path) -> dict[str, Any]:
        r, _ = self.bench.run_op("startup", str(corpus), str(wd), str(logs / f"thywill-startup-{time.monotonic_ns()}"))
        return r


# ---------------------------------------------------------------- ours


def emptied_copy(corpus_db: Path, dest: Path) -> None:
    """A database with the corpus's schema and no rows (OURS_ONLY mode, no ThyWill `db init`)."""
    shutil.copy2(corpus_db, dest)
    con = sqlite3.connect(dest)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        con.execute(f'DELETE FROM "{table}"')
    con.commit()
    con.execute("VACUUM")
    con.close()


EMPTY_DB: Path | None = None


def empty_database(scratch: Path, corpus: Path, peer: Peer | None) -> Path:
    """The starting database of the rebuilding commands and validate, made once: ThyWill's own `db init`
    (what the harness gives ThyWill's side), or the corpus's schema without rows in OURS_ONLY mode."""
    global EMPTY_DB
    if EMPTY_DB is None or not EMPTY_DB.exists():
        made = scratch / "empty-template"
        if peer is not None:
            peer.prepare(made, corpus, "empty")
        else:
            made.mkdir(parents=True, exist_ok=True)
            emptied_copy(corpus / "thywill.db", made / "thywill.db")
        EMPTY_DB = made / "thywill.db"
    return EMPTY_DB


def prepare_ours(wd: Path, corpus: Path, db: str, peer: Peer | None) -> None:
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    shutil.copytree(corpus / "text_archives", wd / "text_archives", symlinks=True)
    subprocess.run(["chmod", "-R", "u+w", str(wd)], check=True)
    source = corpus / "thywill.db" if db == "original" else empty_database(wd.parent, corpus, peer)
    shutil.copy2(source, wd / "thywill.db")
    os.chmod(wd / "thywill.db", 0o644)


def timed_process(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Runs argv under GNU time, as the harness runs ThyWill's commands: its peak RSS and CPU
    (a Python fork's own pages would inflate the RSS of a direct child), and the wall time at
    finer resolution than GNU time prints."""
    times = log.with_suffix(".time")
    with open(log.with_suffix(".stdout"), "wb") as out, open(log.with_suffix(".stderr"), "wb") as err:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(times)] + argv, cwd=cwd, env=env,
                              stdout=out, stderr=err)
        wall = time.perf_counter() - start
    user, system, rss_kb = times.read_text().split()[-3:]
    return {"rc": proc.returncode, "wall_s": round(wall, 4), "cpu_s": round(float(user) + float(system), 3),
            "max_rss_mb": round(int(rss_kb) / 1024, 1)}


def ours_env(wd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THYWILL_") and k not in ("DATABASE_PATH",)}
    env.update({"TZ": "UTC", "NO_COLOR": "1"})
    return env


def last_audit_ms(wd: Path) -> int | None:
    log = wd / "audit.jsonl"
    if not log.exists():
        return None
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return lines[-1].get("duration_ms") if lines else None


def run_ours(op: str, corpus: Path, wd: Path, logs: Path, peer: Peer | None, who: str) -> dict[str, Any]:
    _, db, args = OPS[op]
    prepare_ours(wd, corpus, db, peer)
    base = [os.environ["THYWILL_BIN"], "--db", "thywill.db", "--archives", "text_archives",
            "--audit-log", "audit.jsonl", "--json"]
    env = ours_env(wd)
    backup = ""
    if op == "verify":
        made = subprocess.run(base + ["backup", "daily"], cwd=wd, env=env, capture_output=True, text=True)
        if made.returncode != 0:
            raise RuntimeError(f"setup backup failed: {made.stderr}")
        backup = str(next((wd / "backups").rglob("*.db")))
    argv = base + [a.replace("{user}", who).replace("{backup}", backup) for a in args]
    r = timed_process(argv, wd, env, logs / f"ours-{op}-{time.monotonic_ns()}")
    r["in_call_ms"] = last_audit_ms(wd)
    return r


# ---------------------------------------------------------------- corpora


def busiest_user(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    row = con.execute("SELECT username FROM prayermark GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    con.close()
    return row[0]


def corpus_facts(name: str, corpus: Path, made_by: str) -> dict[str, Any]:
    con = sqlite3.connect(f"file:{corpus / 'thywill.db'}?mode=ro", uri=True)
    counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
              for t in ("user", "prayer", "prayermark", "prayerskip") if
              con.execute("SELECT 1 FROM sqlite_master WHERE name=?", (t,)).fetchone()}
    con.close()
    files = total = 0
    for base, _, names in os.walk(corpus / "text_archives"):
        for n in names:
            files += 1
            total += os.path.getsize(os.path.join(base, n))
    return {"name": name, "made_by": made_by, "rows": counts, "db_bytes": (corpus / "thywill.db").stat().st_size,
            "archive_files": files, "archive_bytes": total}


def resolve_corpus(spec: str, scratch: Path) -> tuple[str, Path, str]:
    fixtures = Path(os.environ["THYWILL_FIXTURES"])
    if spec.startswith("synthetic:"):
        size = int(spec.split(":", 1)[1])
        out = scratch / f"synthetic-{size}"
        if not (out / "thywill.db").exists():
            subprocess.run(["cargo", "bench", "-q", "-p", "thywill-core", "--bench", "recovery", "--",
                            "--generate", str(size), "--out", str(out)], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            con = sqlite3.connect(out / "thywill.db")
            con.execute("PRAGMA journal_mode=DELETE")
            con.close()
        return f"synthetic {size:,}", out, "this crate's archive writers (deterministic), imported by thywill"
    if (fixtures / spec / "thywill.db").exists():
        return spec, fixtures / spec, "ThyWill's own code (../shared/peer gen_corpus.py)"
    return Path(spec).name, Path(spec), "given folder"


def big_database(scratch: Path, mb: int) -> Path:
    """s1's database plus one filler table to reach `mb` MB, for the copy-speed comparison."""
    out = scratch / f"big-{mb}"
    db = out / "thywill.db"
    if db.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    fixtures = Path(os.environ["THYWILL_FIXTURES"])
    shutil.copytree(fixtures / "s1" / "text_archives", out / "text_archives")
    shutil.copy2(fixtures / "s1" / "thywill.db", db)
    os.chmod(db, 0o644)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE bench_filler (b BLOB)")
    chunk = 256 * 1024
    for _ in range(mb * 1024 * 1024 // chunk):
        con.execute("INSERT INTO bench_filler VALUES (randomblob(?))", (chunk,))
    con.commit()
    con.close()
    return out


# ---------------------------------------------------------------- the run


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": runs,
        "median_wall_s": median([r.get("wall_s") for r in runs]),
        "median_cpu_s": median([r.get("cpu_s", (r.get("user_s") or 0) + (r.get("sys_s") or 0)) for r in runs]),
        "peak_rss_mb": max((r.get("max_rss_mb") or 0) for r in runs) if runs else None,
        "median_in_call_ms": median([r.get("in_call_ms") for r in runs]),
        "median_call_s": median([r.get("call_s") for r in runs]),
        "rcs": sorted({r.get("rc") for r in runs}),
    }


def fidelity(peer: Peer | None, corpus: Path, rebuilt: Path) -> dict[str, Any] | None:
    if peer is None or not rebuilt.exists():
        return None
    return peer.compare_db.compare(str(corpus / "thywill.db"), str(rebuilt))["summary"]


def measure_corpus(name: str, corpus: Path, peer: Peer | None, scratch: Path, logs: Path) -> dict[str, Any]:
    runs, ours_runs, slow_runs = env_int("RUNS", 3), env_int("OURS_RUNS", 5), env_int("SLOW_RUNS", 1)
    slow_limit = env_int("SLOW_LIMIT", 2000)
    facts = corpus_facts(name, corpus, "")
    prayers = facts["rows"].get("prayer", 0)
    who = busiest_user(corpus / "thywill.db")
    result: dict[str, Any] = {"ops": {}, "user": who}
    wd = scratch / "work"
    chosen = [op for op in os.environ.get("OPS", ",".join(OPS)).split(",") if op in OPS]
    for op in chosen:
        theirs: list[dict[str, Any]] = []
        ours: list[dict[str, Any]] = []
        note = ""
        peer_runs = slow_runs if op in SLOW_OPS else runs
        if peer is not None and op in SLOW_OPS and prayers > slow_limit:
            peer_runs, note = 0, f"ThyWill's not run above {slow_limit:,} prayers: quadratic, hours"
        run_ours(op, corpus, wd / "warm-up", logs, peer, who)  # untimed: page cache, first-run effects
        shutil.rmtree(wd / "warm-up", ignore_errors=True)
        for i in range(max(peer_runs, 1) if peer is not None else 1):
            if peer is not None and i < peer_runs:
                print(f"[{name}] ThyWill {op} run {i + 1}/{peer_runs}", file=sys.stderr, flush=True)
                t = peer.run(op, corpus, wd / "thywill", logs)
                if op in SLOW_OPS and i == 0:
                    t["fidelity"] = fidelity(peer, corpus, wd / "thywill" / "thywill.db")
                theirs.append(t)
                shutil.rmtree(wd / "thywill", ignore_errors=True)
            for j in range(ours_runs):
                o = run_ours(op, corpus, wd / "ours", logs, peer, who)
                if op in SLOW_OPS and i == 0 and j == 0:
                    o["fidelity"] = fidelity(peer, corpus, wd / "ours" / "thywill.db")
                ours.append(o)
            shutil.rmtree(wd / "ours", ignore_errors=True)
        entry = {"thywill": summarise(theirs) if theirs else None, "ours": summarise(ours), "note": note}
        bad = [f"ours {r['rc']}" for r in ours if r["rc"] not in ACCEPTED_RC.get(op, (0,))]
        bad += [f"ThyWill's {r['rc']}" for r in theirs if r.get("rc") not in ACCEPTED_RC.get(op, (0,))]
        if bad:
            entry["note"] = (entry["note"] + "; " if entry["note"] else "") + f"exit code {bad[0]}: see the logs"
        result["ops"][op] = entry
        s = entry["ours"]
        t = entry["thywill"]
        print(f"[{name}] {op}: ours {s['median_wall_s']} s" + (f", ThyWill {t['median_wall_s']} s" if t else ""),
              file=sys.stderr, flush=True)
    if peer is not None:
        result["thywill_startup"] = summarise([peer.startup(corpus, wd / "startup", logs) for _ in range(runs)])
        shutil.rmtree(wd / "startup", ignore_errors=True)
    return result


def measure_copies(big: Path, peer: Peer | None, scratch: Path, logs: Path) -> dict[str, Any]:
    """Backing up a large database: cp, sqlite3 .backup, ThyWill's script, ours; then verify."""
    runs = env_int("RUNS", 3)
    db = big / "thywill.db"
    dest = scratch / "copy-dest"
    out: dict[str, list[dict[str, Any]]] = {"cp": [], "sqlite3 .backup": [], "ours backup": [], "ours verify": []}
    if peer is not None:
        out["ThyWill backup_management.sh daily"] = []
        out["ThyWill backup_verification"] = []
    env = ours_env(scratch)
    for _ in range(runs):
        for label, argv in (("cp", ["cp", str(db), str(dest / "cp.db")]),
                            ("sqlite3 .backup", ["sqlite3", str(db), f".backup '{dest / 'sqlite.db'}'"])):
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            subprocess.run(["sync"], check=True)
            out[label].append(timed_process(argv, scratch, env, logs / f"copy-{label.split()[0]}-{time.monotonic_ns()}"))
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        subprocess.run(["sync"], check=True)
        out["ours backup"].append(run_ours("backup", big, scratch / "work-ours", logs, peer, ""))
        shutil.rmtree(scratch / "work-ours", ignore_errors=True)
        subprocess.run(["sync"], check=True)
        out["ours verify"].append(run_ours("verify", big, scratch / "work-ours", logs, peer, ""))
        shutil.rmtree(scratch / "work-ours", ignore_errors=True)
        if peer is not None:
            subprocess.run(["sync"], check=True)
            out["ThyWill backup_management.sh daily"].append(peer.run("backup", big, scratch / "work-thywill", logs))
            shutil.rmtree(scratch / "work-thywill", ignore_errors=True)
            subprocess.run(["sync"], check=True)
            out["ThyWill backup_verification"].append(peer.run("verify", big, scratch / "work-thywill", logs))
            shutil.rmtree(scratch / "work-thywill", ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    return {"db_bytes": db.stat().st_size, "tools": {k: summarise(v) for k, v in out.items()}}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gb = None
    try:
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass

    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "kernel": platform.release(),
            "rustc": out(["rustc", "--version"]), "python": platform.python_version(),
            "sqlite3_cli": out(["sqlite3", "--version"]).split(" ")[0],
            "commit": out(["git", "rev-parse", "--short", "HEAD"]), "load_before": os.getloadavg()[0]}


def run() -> dict[str, Any]:
    peer = None if os.environ.get("OURS_ONLY") else Peer()
    OUT.mkdir(parents=True, exist_ok=True)
    logs = OUT / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    scratch = Path(tempfile.mkdtemp(prefix="bench-report-", dir=os.environ.get("BENCH_SCRATCH")))
    results: dict[str, Any] = {"machine": machine(), "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "settings": {k: os.environ.get(k) for k in
                                          ("CORPORA", "OPS", "RUNS", "OURS_RUNS", "SLOW_RUNS", "SLOW_LIMIT", "BIG_DB_MB")},
        "ours_only": peer is None, "corpora": []}
    try:
        for spec in os.environ.get("CORPORA", "s1,s1-live,synthetic:10000").split(","):
            name, corpus, made_by = resolve_corpus(spec.strip(), scratch)
            facts = corpus_facts(name, corpus, made_by)
            facts.update(measure_corpus(name, corpus, peer, scratch, logs))
            results["corpora"].append(facts)
            RESULTS.write_text(json.dumps(results, indent=1, default=str))
        big_mb = env_int("BIG_DB_MB", 512)
        if big_mb > 0:
            big = big_database(scratch, big_mb)
            results["copies"] = measure_copies(big, peer, scratch, logs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["machine"]["load_after"] = os.getloadavg()[0]
    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps(results, indent=1, default=str))
    return results


# ---------------------------------------------------------------- the report


def fmt_s(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def fmt_ratio(theirs: float | None, ours: float | None) -> str:
    if not theirs or not ours:
        return "–"
    r = theirs / ours
    return f"**{r:.0f}×**" if r >= 10 else f"**{r:.1f}×**"


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        START_MARK,
        "",
        "## Side by side with ThyWill",
        "",
        f"Written by `scripts/bench-report.sh` on {results['started'][:10]} (commit `{m['commit']}`). "
        f"Machine: {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, {m['memory_gb']} GB, Linux {m['kernel']}; "
        f"{m['rustc']}; Python {m['python']}; sqlite3 CLI {m['sqlite3_cli']}. Load average "
        f"{m['load_before']:.2f} at the start, {m.get('load_after', 0):.2f} at the end.",
        "",
        "Each row is one command run as a user runs it, a whole process in a fresh work folder laid out "
        "like a ThyWill deployment, from the same corpus copy and the same starting database "
        "(ThyWill's `db init` for the rebuilding commands and for validate, as the harness runs them, so "
        "`thywill validate-archives` exits 1, reporting what the archives hold and the empty database "
        "lacks; the corpus database for the others). "
        "ThyWill's side is timed by the peer harness's own code (`../shared/peer/bench.py`, GNU time); "
        "ours, the `thywill` release binary, under the same GNU time (wall time read around it at a finer resolution). Runs alternate between the two. Times are "
        "medians; the ratio is ThyWill's median wall time over ours. ThyWill's times include starting "
        "Python and importing its app (the `startup` line). *In-call* is the operation alone: ours from "
        "its audit line's `duration_ms`, ThyWill's measured around the call (ZIPs only).",
        "",
    ]
    if results.get("ours_only"):
        lines += ["*This run measured ours alone (`OURS_ONLY=1`).*", ""]
    lines += ["| corpus | made by | users | prayers | marks | database | archive files |",
              "|---|---|---|---|---|---|---|"]
    for c in results["corpora"]:
        rows = c["rows"]
        lines.append(f"| {c['name']} | {c['made_by']} | {rows.get('user', 0):,} | {rows.get('prayer', 0):,} | "
                     f"{rows.get('prayermark', 0):,} | {c['db_bytes'] / 1e6:.1f} MB | "
                     f"{c['archive_files']:,} ({c['archive_bytes'] / 1e6:.1f} MB) |")
    for c in results["corpora"]:
        lines += ["", f"### {c['name']}", "",
                  "| operation | ThyWill | ours | ThyWill wall | ours wall | ratio | ThyWill peak RSS | ours peak RSS | "
                  "in-call: ThyWill / ours | runs |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for op, e in c["ops"].items():
            t, o = e["thywill"], e["ours"]
            theirs_cmd = OPS[op][0]
            in_call = ""
            if o.get("median_in_call_ms") is not None:
                theirs_call = fmt_s(t["median_call_s"]) if t and t.get("median_call_s") is not None else "–"
                in_call = f"{theirs_call} / {o['median_in_call_ms']:.0f} ms"
            runs = f"{len(t['runs']) if t else 0} / {len(o['runs'])}"
            lines.append(
                f"| {op} | `{theirs_cmd}` | `{OURS_LABEL[op]}` | {fmt_s(t['median_wall_s']) if t else '–'} | "
                f"{fmt_s(o['median_wall_s'])} | {fmt_ratio(t['median_wall_s'] if t else None, o['median_wall_s'])} | "
                f"{str(t['peak_rss_mb']) + ' MB' if t else '–'} | {o['peak_rss_mb']} MB | {in_call} | {runs} |")
            if e.get("note"):
                lines[-1] = lines[-1][:-2] + f" ({e['note']}) |"
        s = c.get("thywill_startup")
        if s:
            lines.append(f"| startup | `python -c 'import app'` | – | {fmt_s(s['median_wall_s'])} | – | – | "
                         f"{s['peak_rss_mb']} MB | – | – | {len(s['runs'])} / 0 |")
        fid = []
        for op in SLOW_OPS:
            e = c["ops"].get(op, {})
            for who, side in (("ThyWill", e.get("thywill")), ("ours", e.get("ours"))):
                f = side and side["runs"] and side["runs"][0].get("fidelity")
                if f:
                    fid.append(f"| {op} | {who} | {f.get('users_exact_set')} | {f.get('prayers_exact_set')} | "
                               f"{f.get('prayer_text_mismatches')} | {f.get('marks_matched')} | "
                               f"{f.get('marks_missing')} | {f.get('marks_extra')} |")
        if fid:
            lines += ["", f"What the rebuilt database holds against {c['name']}'s own (`compare_db.py` summary, "
                          "first run):", "",
                      "| operation | who | same users | same prayers | prayer texts differing | marks matched | "
                      "marks missing | marks extra |", "|---|---|---|---|---|---|---|---|"] + fid
    cp = results.get("copies")
    if cp:
        base = cp["tools"]["cp"]["median_wall_s"]
        lines += ["", f"### Backing up a {cp['db_bytes'] / 1e6:.0f} MB database", "",
                  "`s1`'s database with one filler table. `cp` and `sqlite3 .backup` copy only; ThyWill's script "
                  "and ours also check the copy's integrity (`PRAGMA integrity_check`) and write its sha256; ours "
                  "also fsyncs and writes a manifest. Verify: ThyWill's `backup_verification` (sha256, integrity "
                  "check) and ours (sha256, integrity check, ThyWill's tables).", "",
                  "| tool | median wall | vs `cp` | CPU | peak RSS | runs |", "|---|---|---|---|---|---|"]
        for label, s in cp["tools"].items():
            vs = f"{s['median_wall_s'] / base:.2f}×" if base and s["median_wall_s"] else "–"
            lines.append(f"| {label} | {fmt_s(s['median_wall_s'])} | {vs} | {fmt_s(s['median_cpu_s'])} | "
                         f"{s['peak_rss_mb']} MB | {len(s['runs'])} |")
    lines += ["", END_MARK]
    return "\n".join(lines) + "\n"


def write_report(text: str, target: Path) -> None:
    current = target.read_text() if target.exists() else ""
    if START_MARK in current and END_MARK in current:
        head, rest = current.split(START_MARK, 1)
        tail = rest.split(END_MARK, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = current + ("\n" if current else "") + text
    target.write_text(new)


def main() -> int:
    if sys.argv[1:] == ["--render-only"]:
        results = json.loads(RESULTS.read_text())
    else:
        results = run()
    text = render(results)
    report = os.environ.get("REPORT", "docs/benchmarks.md")
    if report and not results.get("ours_only"):
        write_report(text, ROOT / report)
        print(f"wrote {report} and {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    else:
        (OUT / "report.md").write_text(text)
        print(f"wrote {(OUT / 'report.md').relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
