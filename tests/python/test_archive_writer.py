"""ArchiveWriter: ThyWill's write API, checked against the parsers and byte layouts."""

from datetime import datetime
from pathlib import Path

import pytest

import thywill_core
from thywill_core import ArchiveWriter, PrayerArchive

T = datetime(2025, 7, 6, 9, 5)


def test_writes_a_small_community_that_reads_back_and_checks_clean(tmp_path: Path) -> None:
    base = tmp_path / "text_archives"
    writer = ArchiveWriter(base, now=T)
    writer.ensure_dirs()
    assert {p.name for p in base.iterdir()} == {"prayers", "users", "activity"}

    users_file = writer.append_user_registration("Ann")
    writer.append_user_registration("Bob", "Ann", at=datetime(2025, 7, 6, 10, 0))
    assert users_file == str(base / "users" / "2025_07_users.txt")
    assert Path(users_file).read_text() == (
        "User Registrations for July 2025\n\n"
        "July 06 2025 at 09:05 - Ann joined directly\n"
        "July 06 2025 at 10:00 - Bob joined on invitation from Ann\n"
    )

    prayer_file = writer.create_prayer(PrayerArchive("p1", "Ann", T, "Rain, please."))
    assert prayer_file == str(base / "prayers/2025/07/2025_07_06_prayer_at_0905.txt")
    # Same minute: ThyWill's collision suffix.
    second = writer.create_prayer(PrayerArchive("p2", "Bob", T, "Sun, please."), archive_first=False)
    assert second == str(base / "prayers/2025/07/2025_07_06_prayer_at_0905_2.txt")

    writer.append_prayer_activity(prayer_file, "Bob", "prayed", at=datetime(2025, 7, 6, 11, 0))
    writer.append_prayer_activity(prayer_file, "Ann", "testimony", extra="It rained!")
    writer.append_prayer_activity(prayer_file, "Ann", "answered")
    prayer = PrayerArchive.from_file(prayer_file)
    assert [a["action"]["kind"] for a in prayer.activities] == ["prayed", "testimony", "answered"]
    assert prayer.activities[1]["action"]["text"] == "It rained!"
    assert prayer.diagnostics == []

    # ThyWill passes the action text with the ID; "prayer" is inserted when missing.
    activity_file = writer.append_monthly_activity("submitted prayer p1", "Ann", "p1", "general")
    writer.append_monthly_activity("prayed for p1", "Bob", "p1")
    assert activity_file is not None
    entries = list(thywill_core.iter_activity(activity_file))
    assert [(e["user"], e["action"], e["tag"]) for e in entries] == [
        ("Ann", "submitted prayer p1", "general"),
        ("Bob", "prayed for prayer p1", None),
    ]

    marks = writer.append_prayer_mark("p1", "Bob")
    writer.append_prayer_skip("p2", "Ann", datetime(2025, 8, 1, 0, 0))
    writer.append_prayer_attribute("p1", "answered", "true")
    assert marks is not None
    assert [r["user"] for r in thywill_core.iter_ledger(marks)] == ["Bob"]
    assert (base / "prayers/skips/2025_08_skips.txt").is_file()
    attributes = list(thywill_core.iter_ledger(base / "prayers/attributes/2025_07_attributes.txt"))
    assert attributes[0]["user"] == "system"

    report = thywill_core.check_tree(base)
    assert report["problems"] == []
    assert report["files_checked"] == report["files_identical"] == 7


def test_disabled_writer_writes_nothing(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path / "a", enabled=False)
    assert not writer.enabled
    assert writer.append_user_registration("Ann") is None
    assert writer.create_prayer(PrayerArchive("p", "Ann", T, "x")) is None
    assert not (tmp_path / "a").exists()


def test_from_env_reads_thywill_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXT_ARCHIVE_BASE_DIR", str(tmp_path / "env_archives"))
    monkeypatch.setenv("TEXT_ARCHIVE_ENABLED", "yes")  # ThyWill: only "true" enables
    writer = ArchiveWriter.from_env()
    assert writer.base_dir == str(tmp_path / "env_archives")
    assert not writer.enabled
    assert "env_archives" in repr(writer)


def test_write_errors_map_to_exceptions(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, now=T)
    unreadable = PrayerArchive.parse("Prayer x by Ann\nSubmitted whenever\n\nhi\n\nActivity:\n")
    with pytest.raises(thywill_core.InvalidInputError):
        writer.create_prayer(unreadable)
    with pytest.raises(thywill_core.NotFoundError):
        writer.append_prayer_activity(tmp_path / "no" / "such" / "file.txt", "Ann", "prayed")
