"""thywill_core archive care: heal_archives, sync_archives, sync_users, validate_archives,
repair_archive_references, relationship_integrity."""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import thywill_core

ROOT = Path(__file__).resolve().parents[2]


def community(tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the s1 community: its database and its archive root."""
    source = Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures")) / "s1"
    if not source.is_dir():
        pytest.fail(f"fixture corpus missing: {source}")
    db = tmp_path / "thywill.db"
    shutil.copyfile(source / "thywill.db", db)
    db.chmod(0o644)
    archives = tmp_path / "text_archives"
    shutil.copytree(source / "text_archives", archives)
    for path in archives.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return db, archives


PRAYER = "prayers/2024/04/2024_04_21_prayer_at_1247_2.txt"


def test_heal_dry_run_real_run_and_second_run(tmp_path: Path) -> None:
    db, archives = community(tmp_path)
    original = (archives / PRAYER).read_bytes()
    (archives / PRAYER).unlink()
    events: list[str] = []

    def on_progress(phase: str, done: int, total: int | None) -> bool:
        events.append(phase)
        return True

    dry = thywill_core.heal_archives(db, archives, dry_run=True, time_zone="utc")
    assert dry["dry_run"] is True
    assert dry["prayers"]["files_created"] == 1
    assert not (archives / PRAYER).exists()
    report = thywill_core.heal_archives(db, archives, time_zone="utc", progress=on_progress)
    assert report["prayers"] == dry["prayers"]
    assert report["changes"] == dry["changes"]
    assert report["changes"][0]["kind"] == "prayer_file_created"
    assert report["changes"][0]["path"] == PRAYER
    assert (archives / PRAYER).read_bytes() == original
    assert "prayers" in events
    again = thywill_core.heal_archives(db, archives, time_zone="utc")
    assert again["changes"] == []
    assert again["prayers"]["healthy"] == 1000


def test_sync_users_and_validate(tmp_path: Path) -> None:
    db, archives = community(tmp_path)
    users = archives / "users" / "2024_03_users.txt"
    lines = users.read_text(encoding="utf-8").splitlines(keepends=True)
    users.write_text("".join(lines[:-1]), encoding="utf-8")
    found = thywill_core.validate_archives(db, archives, time_zone="utc")
    assert found["problems_by_kind"] == {"registration_missing": 1}
    problem = found["problems"][0]
    assert problem["record"] == "Kwame Cooper-Mitchell"
    assert problem["file"] == "users/2024_03_users.txt"
    assert problem["healable"] is True
    report = thywill_core.sync_users(db, archives)
    assert report["users"]["registrations_written"] == 1
    assert report["prayers"]["total"] == 0
    assert thywill_core.validate_archives(db, archives, time_zone="utc")["problems_by_kind"] == {}


def test_errors_map_to_exceptions(tmp_path: Path) -> None:
    db, archives = community(tmp_path)
    with pytest.raises(thywill_core.InvalidInputError, match="ledgers"):
        thywill_core.heal_archives(db, archives, ledgers="sometimes")
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.heal_archives(tmp_path / "missing.db", archives)
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.validate_archives(db, tmp_path / "nowhere")
    with pytest.raises(thywill_core.CancelledError):
        thywill_core.heal_archives(db, archives, progress=lambda phase, done, total: False)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM prayer").fetchone()[0] == 1000


def test_sync_archives_dry_run_then_real_run_then_nothing(tmp_path: Path) -> None:
    db, archives = community(tmp_path)
    original = (archives / PRAYER).read_bytes()
    (archives / PRAYER).unlink()
    with sqlite3.connect(db) as conn:
        deleted = conn.execute("DELETE FROM prayermark WHERE created_at LIKE '2024-05%'").rowcount
    conn.close()
    assert deleted > 0

    dry = thywill_core.sync_archives(db, archives, dry_run=True, time_zone="utc")
    assert dry["dry_run"] is True and dry["validation"] is None
    assert dry["import"]["entities"]["prayer_marks"]["inserted"] == deleted
    assert dry["heal"]["prayers"]["files_created"] == 1
    assert not (archives / PRAYER).exists()

    real = thywill_core.sync_archives(db, archives, time_zone="utc")
    assert real["import"]["entities"]["prayer_marks"]["inserted"] == deleted
    assert real["heal"]["prayers"] == dry["heal"]["prayers"]
    assert (archives / PRAYER).read_bytes() == original
    assert real["validation"]["problems_by_kind"] == {}

    again = thywill_core.sync_archives(db, archives, time_zone="utc")
    assert again["heal"]["changes"] == []
    assert sum(c["inserted"] for c in again["import"]["entities"].values()) == 0

    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.sync_archives(db, tmp_path / "missing", time_zone="utc")


def test_repair_archive_references_dry_run_real_run_and_second_run(tmp_path: Path) -> None:
    db, archives = community(tmp_path)
    with sqlite3.connect(db) as connection:
        (stored,) = connection.execute(
            "SELECT text_file_path FROM prayer WHERE text_file_path LIKE ?", (f"%{PRAYER}",)
        ).fetchone()
        connection.execute("UPDATE prayer SET text_file_path = NULL WHERE text_file_path = ?", (stored,))
    connection.close()
    dry = thywill_core.repair_archive_references(db, archives, dry_run=True)
    assert dry["dry_run"] is True
    assert dry["prayers_without_path"] == 1
    assert [r["file"] for r in dry["repaired"]] == [PRAYER]
    assert dry["repaired"][0]["stored"] == stored
    report = thywill_core.repair_archive_references(db, archives)
    assert report["repaired"] == dry["repaired"]
    with sqlite3.connect(db) as connection:
        assert connection.execute(
            "SELECT count(*) FROM prayer WHERE text_file_path IS NULL"
        ).fetchone() == (0,)
    connection.close()
    again = thywill_core.repair_archive_references(db, archives)
    assert again["repaired"] == [] and again["without_file"] == []
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.repair_archive_references(db, tmp_path / "missing")


def test_relationship_integrity_counts_orphans(tmp_path: Path) -> None:
    db, _ = community(tmp_path)
    assert thywill_core.relationship_integrity(db) == {
        "database": str(db),
        "prayers_without_author": 0,
        "users_with_missing_inviter": 0,
        "role_grants_without_user": 0,
    }
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE prayer SET author_username = 'Ghost' WHERE id = (SELECT min(id) FROM prayer)"
        )
    connection.close()
    assert thywill_core.relationship_integrity(db)["prayers_without_author"] == 1
