"""Disaster recovery from Python: test-recovery and full-recovery (replace, merge, dry run)."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import thywill_core

ROOT = Path(__file__).resolve().parents[2]

IDLE_APP = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM prayer").fetchone()
print("ready", flush=True)
sys.stdin.readline()
conn.close()
"""


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def community(tmp_path: Path) -> Path:
    """A writable copy of the s1 community: thywill.db and text_archives/."""
    source = fixtures_dir() / "s1"
    if not (source / "thywill.db").is_file():
        pytest.fail(f"fixture community missing: {source}")
    shutil.copytree(source / "text_archives", tmp_path / "text_archives")
    shutil.copyfile(source / "thywill.db", tmp_path / "thywill.db")
    for path in tmp_path.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tmp_path


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        n: int = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        return n


def test_recovery_test_compares_per_table_and_touches_nothing(community: Path) -> None:
    before = digest(community)
    events: list[str] = []

    def progress(phase: str, done: int, total: int | None) -> bool:
        events.append(phase)
        return True

    report = thywill_core.recovery_test(
        community / "text_archives", community / "thywill.db", time_zone="utc", progress=progress
    )
    assert digest(community) == before
    assert report["recovery_stats"]["prayers_recovered"] == 1000
    assert report["recovery_stats"]["security_events_recovered"] == 0
    tables = {t["table"]: t for t in report["comparison"]["tables"]}
    assert tables["prayermark"]["come_back"] == 9993
    assert tables["prayermark"]["lost"] == 0
    assert {"what": "rows", "reason": tables["changelogentry"]["not_carried"][0]["reason"]} == tables[
        "changelogentry"
    ]["not_carried"][0]
    assert report["predicted_rows"]["prayer"] == 1000
    assert {"users", "prayers", "compare"} <= set(events)
    with pytest.raises(thywill_core.InvalidInputError, match="time_zone"):
        thywill_core.recovery_test(community / "text_archives", community / "thywill.db", time_zone="mars")


def test_recovery_full_dry_run_then_replace_then_merge(community: Path) -> None:
    db = community / "thywill.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM prayermark")
    backups = community / "backups"
    before = digest(community)
    dry = thywill_core.recovery_full(community / "text_archives", db, backups, dry_run=True, time_zone="utc")
    assert digest(community) == before
    assert dry["installed"] is False and dry["safety_backup"] is None
    done = thywill_core.recovery_full(
        community / "text_archives", db, backups, time_zone="utc", now=datetime(2025, 1, 1, 2, 0, 0)
    )
    assert done["installed"] is True
    assert done["table_rows"] == dry["table_rows"]
    assert count(db, "prayermark") == 9993
    assert done["safety_backup"]["path"] == str(backups / "pre_restore" / "pre_restore_20250101_020000.db")
    assert count(Path(done["safety_backup"]["path"]), "prayermark") == 0

    merged = thywill_core.recovery_full(
        community / "text_archives", db, backups, merge=True, time_zone="utc", now=datetime(2025, 1, 1, 3)
    )
    assert merged["mode"] == "merge"
    assert merged["import"]["entities"]["prayer_marks"]["inserted"] == 0
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.recovery_full(community / "text_archives", db, backups, force=True, wait=5)


def test_recovery_full_refuses_beside_an_idle_app(community: Path) -> None:
    db = community / "thywill.db"
    app = subprocess.Popen(
        [sys.executable, "-c", IDLE_APP, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert app.stdout is not None and app.stdin is not None
    assert app.stdout.readline().strip() == "ready"
    try:
        with pytest.raises(thywill_core.ConflictError, match=f"pid {app.pid}"):
            thywill_core.recovery_full(community / "text_archives", db, community / "backups", time_zone="utc")
        forced = thywill_core.recovery_full(
            community / "text_archives", db, community / "backups", force=True, time_zone="utc"
        )
        assert [p["pid"] for p in forced["other_processes"]] == [app.pid]
    finally:
        app.stdin.write("\n")
        app.stdin.flush()
        assert app.wait(timeout=30) == 0
