"""thywill_core sessions: export to sessions_backup.json (0600) and restore after a rebuild."""

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

import thywill_core

ROOT = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    """A writable copy of s1-live's database."""
    source = fixtures_dir() / "s1-live" / "thywill.db"
    if not source.is_file():
        pytest.fail(f"fixture database missing: {source}")
    db = tmp_path / "thywill.db"
    shutil.copyfile(source, db)
    return db


def rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM session ORDER BY id").fetchall()


def test_round_trip_restores_equal_rows(live_db: Path, tmp_path: Path) -> None:
    original = rows(live_db)
    out = tmp_path / "sessions_backup.json"
    report = thywill_core.export_sessions(live_db, out, include_expired=True)
    assert report["total_sessions"] == 125 and report["schema"] == "username_based"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert document["total_sessions"] == 125
    assert set(document["sessions"][0]) == {
        "session_id",
        "username",
        "created_at",
        "expires_at",
        "ip_address",
        "device_info",
        "auth_request_id",
        "is_fully_authenticated",
    }
    # Reports show id prefixes only.
    assert all(s["id_prefix"].endswith("...") for s in report["sessions"])
    with sqlite3.connect(live_db) as conn:
        conn.execute("DELETE FROM session")
    dry = thywill_core.restore_sessions(live_db, out, dry_run=True, as_of="2023-10-01T00:00:00")
    assert rows(live_db) == []
    real = thywill_core.restore_sessions(live_db, out, as_of="2023-10-01T00:00:00")
    assert dry["restored"] == real["restored"] == 125
    assert rows(live_db) == original
    again = thywill_core.restore_sessions(live_db, out, as_of="2023-10-01T00:00:00")
    assert (again["restored"], again["already_present"]) == (0, 125)


def test_active_only_expired_and_missing_users(live_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "active.json"
    report = thywill_core.export_sessions(live_db, out, as_of="2025-09-20T00:00:00")
    assert 0 < report["total_sessions"] < 125
    assert report["total_sessions"] + report["expired_skipped"] == 125
    with sqlite3.connect(live_db) as conn:
        conn.execute("DELETE FROM session")
        gone = report["usernames"][0]
        conn.execute("DELETE FROM user WHERE display_name = ?", (gone,))
    late = thywill_core.restore_sessions(live_db, out, dry_run=True, as_of="2030-01-01T00:00:00")
    assert late["restored"] == 0 and late["expired"] == report["total_sessions"]
    now = thywill_core.restore_sessions(live_db, out, as_of="2025-09-20T00:00:00")
    assert [s["username"] for s in now["unknown_users"]] and all(
        s["username"] == gone for s in now["unknown_users"]
    )
    assert now["restored"] + len(now["unknown_users"]) == report["total_sessions"]


def test_errors_map_to_the_exception_classes(live_db: Path, tmp_path: Path) -> None:
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.restore_sessions(live_db, tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.restore_sessions(live_db, bad)
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.export_sessions(live_db, tmp_path / "x.json", as_of="yesterday")
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.export_sessions(tmp_path / "absent.db", tmp_path / "x.json")


def test_default_file_is_thywills_name_in_the_current_folder(
    live_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = thywill_core.export_sessions(live_db, include_expired=True)
    written = tmp_path / "sessions_backup.json"
    assert report["file"] == "sessions_backup.json"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert json.loads(written.read_text())["total_sessions"] == 125
