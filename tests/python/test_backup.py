"""Backups from Python: create, verify, list, restore, restore-safe, cleanup, folder remotes."""

import json
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


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def live(tmp_path: Path) -> Path:
    """A writable copy of the s1 database in WAL mode, as the app runs it."""
    source = fixtures_dir() / "s1" / "thywill.db"
    if not source.is_file():
        pytest.fail(f"fixture database missing: {source}")
    db = tmp_path / "thywill.db"
    shutil.copyfile(source, db)
    db.chmod(0o600)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    return db


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def test_create_verify_list(live: Path, tmp_path: Path) -> None:
    events: list[tuple[str, int, int | None]] = []
    report = thywill_core.backup_create(
        live,
        tmp_path / "backups",
        "weekly",
        now=datetime(2025, 1, 5, 3, 0, 0),
        progress=lambda phase, done, total: events.append((phase, done, total)),
    )
    assert report["path"] == str(tmp_path / "backups/weekly/thywill_weekly_20250105_030000.db")
    assert os.stat(report["path"]).st_mode & 0o777 == 0o600
    assert report["verification"] is not None
    assert report["verification"]["integrity_check"] == ["ok"]
    assert {"backup", "hash"} <= {phase for phase, _, _ in events}
    sidecar = Path(report["checksum_file"]).read_text()
    assert sidecar == f"{report['members'][0]['sha256']}  thywill_weekly_20250105_030000.db\n"

    verified = thywill_core.backup_verify(report["path"])
    assert verified["status"] == "ok"
    for key in ("file_exists", "checksum_file_found", "checksum_verified", "database_integrity_ok"):
        assert verified[key] is True
    assert verified["errors"] == []
    assert verified["table_row_counts"]["prayer"] == count(live, "prayer")

    listed = thywill_core.backup_list(tmp_path / "backups", now=datetime(2025, 1, 6, 3, 0, 0))
    [entry] = listed["entries"]
    assert entry["verified"] and entry["age_seconds"] == 86400


def test_verify_reports_or_raises(live: Path, tmp_path: Path) -> None:
    report = thywill_core.backup_create(live, tmp_path / "b")
    path = Path(report["path"])
    with path.open("r+b") as f:
        f.seek(8000)
        byte = f.read(1)
        f.seek(8000)
        f.write(bytes([byte[0] ^ 0xFF]))
    bad = thywill_core.backup_verify(path)
    assert bad["status"] == "corrupt" and not bad["checksum_verified"]
    with pytest.raises(thywill_core.CorruptError):
        thywill_core.backup_verify(path, check=True)
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.backup_verify(tmp_path / "none.db", check=True)
    assert thywill_core.backup_verify(tmp_path / "none.db")["file_exists"] is False


def test_missing_database_is_never_backed_up(tmp_path: Path) -> None:
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.backup_create(tmp_path / "thywill.db", tmp_path / "b")
    assert not (tmp_path / "thywill.db").exists()


def test_cancelling_from_progress_leaves_nothing(live: Path, tmp_path: Path) -> None:
    with pytest.raises(thywill_core.CancelledError):
        thywill_core.backup_create(live, tmp_path / "b", progress=lambda *_: False)
    assert list((tmp_path / "b" / "daily").iterdir()) == []


WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("DELETE FROM prayermark")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


def test_restore_refuses_a_writer_then_restores(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    report = thywill_core.backup_create(live, backups, now=datetime(2025, 1, 1, 2, 0, 0))
    prayers = count(live, "prayer")
    # The writer is another process, as the app is: SQLite's POSIX locks do not separate two
    # SQLite libraries inside one process (Python's and the extension's).
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline().strip() == "locked"
    with pytest.raises(thywill_core.ConflictError, match="--force"):
        thywill_core.backup_restore(report["path"], live, backups)
    writer.stdin.write("\n")
    writer.stdin.flush()
    assert writer.wait(timeout=30) == 0

    restored = thywill_core.backup_restore(report["path"], live, backups)
    assert restored["quick_check"] == ["ok"]
    assert restored["safety_backup"] is not None
    assert count(live, "prayer") == prayers
    assert count(Path(restored["safety_backup"]["path"]), "prayermark") == 0


def test_restore_safe_upgrades_an_old_schema(live: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    shutil.copyfile(live, old)
    with sqlite3.connect(old) as conn:
        conn.execute("DROP TABLE membership_application")
    report = thywill_core.backup_create(old, tmp_path / "backups")
    result = thywill_core.backup_restore(report["path"], live, tmp_path / "backups", safe=True)
    assert result["schema"] is not None
    assert {"change": "create_table", "table": "membership_application"} in result["schema"]["changes"]
    assert count(live, "membership_application") == 0


def test_cleanup_dry_run_and_folder_remote(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    usb = tmp_path / "usb"
    for stamp in (datetime(2024, 10, 1, 2), datetime(2025, 1, 1, 2)):
        made = thywill_core.backup_create(live, backups, now=stamp)
        pushed = thywill_core.backup_push(made["path"], f"folder:{usb}")
        assert all(m["verified"] for m in pushed["members"])
    now = datetime(2025, 1, 2)
    plan = thywill_core.backup_cleanup(backups, dry_run=True, now=now, remotes=[f"folder:{usb}"])
    deleting = [a for a in plan["actions"] if a["action"] == "delete"]
    assert [a["name"] for a in deleting] == ["thywill_daily_20241001_020000"] * 2
    assert "exceeds the 30d window" in deleting[0]["explanation"]
    assert (backups / "daily/thywill_daily_20241001_020000.db").exists()

    fetched = thywill_core.backup_fetch(f"folder:{usb}", "thywill_daily_20250101_020000", tmp_path / "staging")
    assert thywill_core.backup_verify(fetched)["status"] == "ok"
    done = thywill_core.backup_cleanup(backups, now=now, remotes=[f"folder:{usb}"])
    assert done["deleted_sets"] == 2
    assert not (usb / "daily/thywill_daily_20241001_020000.db").exists()


IDLE_APP = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM prayer").fetchone()
print("ready", flush=True)
sys.stdin.readline()
"""


def test_restore_refuses_beside_an_idle_app_naming_it(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    report = thywill_core.backup_create(live, backups, now=datetime(2025, 1, 1, 2, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-c", IDLE_APP, str(live)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert app.stdout is not None and app.stdin is not None
    assert app.stdout.readline().strip() == "ready"
    with pytest.raises(thywill_core.ConflictError, match=f"pid {app.pid}"):
        thywill_core.backup_restore(report["path"], live, backups)
    forced = thywill_core.backup_restore(report["path"], live, backups, force=True)
    assert [p["pid"] for p in forced["other_processes"]] == [app.pid]
    app.stdin.write("\n")
    app.stdin.flush()
    assert app.wait(timeout=30) == 0


def test_unsupported_remote_forms_are_refused(live: Path, tmp_path: Path) -> None:
    made = thywill_core.backup_create(live, tmp_path / "backups")
    with pytest.raises(thywill_core.InvalidInputError, match="folder:PATH"):
        thywill_core.backup_push(made["path"], "sftp://host/srv/x")
    assert not (Path.cwd() / "sftp:").exists()


def test_cleanup_counts_unrecorded_sources_with_the_given_database(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    legacy = thywill_core.backup_create(live, backups, now=datetime(2025, 1, 1, 2))
    thywill_core.backup_create(live, backups, now=datetime(2025, 1, 2, 2))
    manifest = Path(legacy["manifest_file"])
    data = json.loads(manifest.read_text())
    del data["source"]
    manifest.write_text(json.dumps(data))
    now = datetime(2025, 6, 1)
    assert thywill_core.backup_cleanup(backups, dry_run=True, now=now)["deleted_sets"] == 0
    assert thywill_core.backup_cleanup(backups, dry_run=True, now=now, database=live)["deleted_sets"] == 1


def staging_folders(backups: Path) -> list[str]:
    if not backups.is_dir():
        return []
    return sorted(p.name for p in backups.iterdir() if p.name.startswith(".remote-staging-"))


def test_create_and_copy_collects_a_failing_remote_and_copies_to_the_others(
    live: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    remotes = [f"folder:{tmp_path / 'usb1'}", f"folder:{blocker / 'usb'}", f"folder:{tmp_path / 'usb2'}"]
    report = thywill_core.backup_create_and_copy(
        live, tmp_path / "backups", "weekly", remotes=remotes, now=datetime(2025, 1, 5, 3, 0, 0)
    )
    assert report["backup"]["name"] == "thywill_weekly_20250105_030000"
    assert [copy["target"] for copy in report["remotes"]] == [remotes[0], remotes[2]]
    assert all(m["verified"] for copy in report["remotes"] for m in copy["members"])
    [failure] = report["remote_failures"]
    assert failure["target"] == remotes[1] and failure["error"]
    for usb in ("usb1", "usb2"):
        assert (tmp_path / usb / "weekly" / "thywill_weekly_20250105_030000.manifest.json").is_file()
    with pytest.raises(thywill_core.InvalidInputError, match="folder:PATH"):
        thywill_core.backup_create_and_copy(live, tmp_path / "backups", remotes=["sftp://host/x"])


def test_restore_from_remote_stages_restores_and_cleans_up(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    usb = f"folder:{tmp_path / 'usb'}"
    made = thywill_core.backup_create_and_copy(live, backups, remotes=[usb], now=datetime(2025, 1, 1, 2))
    assert made["remote_failures"] == []
    shutil.rmtree(backups)
    marks = count(live, "prayermark")
    with sqlite3.connect(live) as conn:
        conn.execute("DELETE FROM prayermark")
    name = made["backup"]["name"]

    dry = thywill_core.backup_restore_from_remote(usb, name, live, backups, dry_run=True)
    assert dry["restore"]["dry_run"] and dry["restore"]["verification"]["status"] == "ok"
    assert count(live, "prayermark") == 0
    assert staging_folders(backups) == []

    events: list[str] = []
    report = thywill_core.backup_restore_from_remote(
        usb, f"{name}.db", live, backups, progress=lambda phase, done, total: events.append(phase)
    )
    assert report["name"] == name and report["target"] == usb
    assert f".remote-staging-{os.getpid()}" in report["fetch"]["database"]
    assert {m["file"] for m in report["fetch"]["members"]} >= {f"{name}.db"}
    assert report["restore"]["quick_check"] == ["ok"]
    assert report["restore"]["safety_backup"] is not None
    assert {"download", "restore"} <= set(events)
    assert count(live, "prayermark") == marks
    assert staging_folders(backups) == []


def test_a_corrupt_remote_set_is_refused_and_its_staging_folder_removed(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    usb = tmp_path / "usb"
    made = thywill_core.backup_create_and_copy(live, backups, remotes=[f"folder:{usb}"])
    name = made["backup"]["name"]
    remote_db = usb / "daily" / f"{name}.db"
    data = bytearray(remote_db.read_bytes())
    data[7000] ^= 0xFF
    remote_db.write_bytes(bytes(data))
    before = live.read_bytes()
    with pytest.raises(thywill_core.CorruptError):
        thywill_core.backup_restore_from_remote(f"folder:{usb}", name, live, backups)
    assert live.read_bytes() == before
    assert staging_folders(backups) == []
    with pytest.raises(thywill_core.CancelledError):
        thywill_core.backup_restore_from_remote(f"folder:{usb}", name, live, backups, progress=lambda *_: False)
    assert staging_folders(backups) == []


def test_settings_go_through_the_cores_constructors(live: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    made = thywill_core.backup_create(live, backups)
    # force with wait used to force silently; a wait beyond the clock used to panic.
    with pytest.raises(thywill_core.InvalidInputError, match="contradict"):
        thywill_core.backup_restore(made["path"], live, backups, force=True, wait=5)
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.backup_restore(made["path"], live, backups, wait=2**64 - 1)
    # Windows the core refuses, a huge one included (it used to panic in chrono).
    for bad in ({"hourly_hours": 0}, {"daily_days": -1}, {"weekly_weeks": 2**62}, {"pre_restore_keep": -1}):
        with pytest.raises(thywill_core.InvalidInputError):
            thywill_core.backup_cleanup(backups, dry_run=True, **bad)
    plan = thywill_core.backup_cleanup(backups, dry_run=True)
    assert plan["policy"] == {
        "hourly_hours": 48,
        "daily_days": 30,
        "weekly_weeks": 12,
        "pre_restore_days": 30,
        "pre_restore_keep": 3,
    }
    assert thywill_core.backup_cleanup(backups, dry_run=True, hourly_hours=24)["policy"]["hourly_hours"] == 24
    for call in (
        lambda: thywill_core.backup_fetch(f"folder:{tmp_path}", "thywill_monthly_20250101_020000", tmp_path),
        lambda: thywill_core.backup_restore_from_remote(f"folder:{tmp_path}", "nonsense", live, backups),
    ):
        with pytest.raises(thywill_core.InvalidInputError, match="not a backup set name"):
            call()
