"""thywill_core downloads on a copy of s1: the ZIPs, metadata, listing, a prayer's file
(served inside the archive folder only) and cleanup."""

import os
import shutil
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

import thywill_core

ROOT = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def community(tmp_path: Path) -> Path:
    """A writable copy of s1 (thywill.db and text_archives/)."""
    source = fixtures_dir() / "s1"
    if not source.is_dir():
        pytest.fail(f"fixture missing: {source}")
    shutil.copyfile(source / "thywill.db", tmp_path / "thywill.db")
    shutil.copytree(source / "text_archives", tmp_path / "text_archives")
    return tmp_path


def test_community_zip_is_deterministic_and_leaves_out_flagged_prayers(community: Path) -> None:
    db, archives = community / "thywill.db", community / "text_archives"
    calls: list[str] = []
    first = thywill_core.download_community(
        db, archives, now="2025-06-15T10:30:00", progress=lambda phase, done, total: calls.append(phase)
    )
    assert first["file_name"] == "complete_site_archive_2025_06_15_1030.zip"
    assert calls and set(calls) == {"files"}
    second = thywill_core.download_community(
        db, archives, out=community / "again.zip", now="2025-06-15T10:30:00"
    )
    assert Path(first["path"]).read_bytes() == Path(second["path"]).read_bytes()
    with sqlite3.connect(db) as conn:
        flagged = [r[0] for r in conn.execute("SELECT id FROM prayer WHERE flagged")]
    with zipfile.ZipFile(first["path"]) as z:
        text = "".join(z.read(n).decode() for n in z.namelist())
    assert flagged and not any(pid in text for pid in flagged)
    assert " prayed this prayer" not in text
    assert first["excluded"]["flagged_prayer_files"] >= len(flagged)


def test_user_zip_metadata_and_listing(community: Path) -> None:
    db, archives = community / "thywill.db", community / "text_archives"
    report = thywill_core.download_user(db, archives, "John Lee", now="2025-06-15T10:30:00")
    assert report["file_name"] == "John Lee_archive_2025_06_15.zip"
    assert 0 < len(report["first_entries"]) <= 16
    assert all(e.startswith("John Lee_text_archive/") for e in report["first_entries"])
    with zipfile.ZipFile(report["path"]) as z:
        assert report["entry_count"] == len(z.namelist())
        assert report["first_entries"] == z.namelist()[: len(report["first_entries"])]
    assert sum(report["entry_kinds"].values()) == report["entry_count"]
    metadata = thywill_core.download_user_metadata(db, archives, "John Lee")
    assert set(metadata) == {"user", "prayers", "activities", "archive_statistics"}
    assert metadata["user"]["text_file_path"].startswith("users/")
    listing = thywill_core.download_list_community(db, archives)
    assert listing["archives"][0]["type"] in {"prayers", "users", "activity"}
    with pytest.raises(thywill_core.ThywillError):
        thywill_core.download_user(db, archives, "nobody")
    with pytest.raises(thywill_core.ThywillError):
        thywill_core.download_community(db, archives, now="not a time")


def test_prayer_file_is_confined_to_the_archive_folder(community: Path) -> None:
    db, archives = community / "thywill.db", community / "text_archives"
    with sqlite3.connect(db) as conn:
        (pid,) = conn.execute("SELECT id FROM prayer WHERE NOT flagged ORDER BY id LIMIT 1").fetchone()
    served = thywill_core.download_prayer_file(db, archives, pid)
    assert Path(served["path"]).is_relative_to(archives.resolve())
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE prayer SET text_file_path = '/etc/hostname' WHERE id = ?", (pid,))
    with pytest.raises(thywill_core.AccessDeniedError):
        thywill_core.download_prayer_file(db, archives, pid)


def test_cleanup_dry_run_then_real(community: Path) -> None:
    archives = community / "text_archives"
    downloads = archives / "downloads"
    downloads.mkdir()
    old = downloads / "Ann_archive_2025_01_01.zip"
    old.write_bytes(b"x")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    dry = thywill_core.download_cleanup(archives, dry_run=True)
    assert [Path(d["path"]).name for d in dry["removed"]] == [old.name] and old.exists()
    real = thywill_core.download_cleanup(archives)
    assert len(real["removed"]) == 1 and not old.exists()
