"""thywill_core.reconstruct_from_archives: relationships repaired from the text archives."""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import thywill_core

ROOT = Path(__file__).resolve().parents[2]
BEFORE_EVERYTHING = "2023-01-01T00:00:00"


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of s1-live's database with inviters, tokens, grants and sessions gone."""
    source = fixtures_dir() / "s1-live"
    if not (source / "thywill.db").is_file():
        pytest.fail(f"fixture missing: {source}")
    db = tmp_path / "thywill.db"
    shutil.copyfile(source / "thywill.db", db)
    with sqlite3.connect(db) as conn:
        conn.executescript(
            "UPDATE user SET invited_by_username = NULL;"
            "DELETE FROM invitetoken; DELETE FROM user_roles; DELETE FROM session;"
        )
    return db, source / "text_archives"


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        value = conn.execute(sql).fetchone()[0]
    assert isinstance(value, int)
    return value


def test_dry_run_then_execute_then_nothing(damaged: tuple[Path, Path]) -> None:
    db, archives = damaged
    options = {"time_zone": "utc", "as_of": BEFORE_EVERYTHING}
    dry = thywill_core.reconstruct_from_archives(archives, db, dry_run=True, **options)
    assert dry["dry_run"] is True
    assert count(db, "SELECT count(*) FROM invitetoken") == 0
    real = thywill_core.reconstruct_from_archives(archives, db, **options)
    assert real["relationships"] == dry["relationships"]
    assert real["relationships"]["inviter"]["repointed"] == 99
    assert real["relationships"]["sessions"]["inserted"] == 125
    assert real["thywill_stats"]["orphaned_prayers_fixed"] == 0
    assert count(db, "SELECT count(*) FROM invitetoken") == 119
    assert count(db, "SELECT count(*) FROM session") == 125
    again = thywill_core.reconstruct_from_archives(archives, db, **options)
    fixed = sum(r["repointed"] + r["inserted"] for r in again["relationships"].values())
    assert fixed == 0


def test_sessions_judged_now_by_default(damaged: tuple[Path, Path]) -> None:
    db, archives = damaged
    report = thywill_core.reconstruct_from_archives(archives, db, time_zone="utc")
    assert report["sessions_dropped"]["expired"] == 125
    assert count(db, "SELECT count(*) FROM session") == 0


def test_bad_options_are_invalid_input(damaged: tuple[Path, Path]) -> None:
    db, archives = damaged
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.reconstruct_from_archives(archives, db, time_zone="mars")
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.reconstruct_from_archives(archives, db, as_of="yesterday")
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.reconstruct_from_archives(archives.parent / "nowhere", db)
