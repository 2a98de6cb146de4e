"""thywill_core imports: text archives (folder and ZIP), JSON prayers, one prayer file."""

import json
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest

import thywill_core


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()[0]


def test_text_archives_typed_report_progress_and_idempotency(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "thywill.db"
    events: list[tuple[str, int, int | None]] = []
    dry = thywill_core.import_text_archives(corpus, db, dry_run=True, time_zone="utc")
    assert not db.exists()
    assert dry.dry_run and dry.database == ":memory:"
    report = thywill_core.import_text_archives(
        corpus, db, time_zone="utc", progress=lambda phase, done, total: events.append((phase, done, total))
    )
    assert isinstance(report, thywill_core.ImportReport)
    assert report.entities == dry.entities
    prayers = report.entities["prayers"]
    assert isinstance(prayers, thywill_core.EntityCounts)
    assert prayers.inserted == 1000 and prayers.failed == 0
    assert report.counts("prayer_marks").inserted == count(db, "SELECT count(*) FROM prayermark")
    assert not report.has_failures and report.failures == []
    assert {"users", "prayers", "ledgers"} <= {phase for phase, _, _ in events}
    as_dict = report.to_dict()
    assert as_dict["entities"]["prayers"]["inserted"] == 1000
    assert json.loads(report.to_json())["operation"] == "text_archives"
    again = thywill_core.import_text_archives(corpus, db, time_zone="utc")
    assert again.total_changes == 0
    assert again.counts("prayers").already_present == 1000


def test_zip_input_and_unsafe_zip(corpus: Path, tmp_path: Path) -> None:
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((corpus / "users").iterdir()):
            zf.write(path, f"complete_site_archive/users/{path.name}")
    report = thywill_core.import_text_archives(archive, tmp_path / "a.db")
    assert report.counts("users").inserted == 100
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.txt", "x")
    with pytest.raises(thywill_core.InvalidInputError, match="leaves the extraction folder"):
        thywill_core.import_text_archives(evil, tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()


def test_progress_can_cancel_and_exceptions_propagate(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(thywill_core.CancelledError):
        thywill_core.import_text_archives(corpus, tmp_path / "c.db", progress=lambda *_: False)

    def boom(phase: str, done: int, total: int | None) -> None:
        raise KeyError("from the callback")

    with pytest.raises(KeyError):
        thywill_core.import_text_archives(corpus, tmp_path / "d.db", progress=boom)


def test_gil_is_released_during_an_import(corpus: Path, tmp_path: Path) -> None:
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        thywill_core.import_text_archives(corpus, tmp_path / "e.db")
    finally:
        stop.set()
        thread.join()
    assert ticks > 1000


def test_json_prayers_and_located_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"text": "Peace", "author_name": "Ann Lee"}]))
    db = tmp_path / "thywill.db"
    report = thywill_core.import_prayers_json(good, db)
    assert report.counts("prayers").inserted == 1
    assert report.counts("users").inserted == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"text": "ok"}, {"text": 5}]))
    report = thywill_core.import_prayers_json(bad, db)
    assert report.has_failures
    assert report.failures[0]["record"] == 1 and report.failures[0]["field"] == "text"
    assert count(db, "SELECT count(*) FROM prayer") == 1
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(thywill_core.ArchiveFormatError):
        thywill_core.import_prayers_json(broken, db)
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.import_prayers_json(tmp_path / "missing.json", db)


def test_single_prayer_file(corpus: Path, tmp_path: Path) -> None:
    file = corpus / "prayers/2024/06/2024_06_12_prayer_at_1033.txt"
    db = tmp_path / "thywill.db"
    report = thywill_core.import_prayer_file(file, db, time_zone="utc")
    assert report.operation == "prayer_file"
    assert report.counts("prayers").inserted == 1
    again = thywill_core.import_prayer_file(file, db, update_existing=True, dry_run=True)
    assert again.counts("prayers").already_present == 1
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.import_prayer_file(file, db, time_zone="Mars")


PRAYER = (
    "Prayer abcdef0123456789abcdef0123456789 by Ann Lee\nSubmitted January 05 2024 at 10:00\n\n"
    "Please pray\n\nGenerated Prayer:\nLord, be with Ann.\n\nActivity:\n"
)


def test_truncated_file_fails_and_update_existing_corrects_it(tmp_path: Path) -> None:
    month = tmp_path / "text_archives" / "prayers" / "2024" / "01"
    month.mkdir(parents=True)
    file = month / "2024_01_05_prayer_at_1000.txt"
    file.write_text(PRAYER[: PRAYER.index("be with")])
    db = tmp_path / "thywill.db"
    report = thywill_core.import_text_archives(tmp_path / "text_archives", db, time_zone="utc")
    assert report.has_failures
    assert "truncated in its generated prayer" in str(report.failures[0]["reason"])
    assert count(db, "SELECT count(*) FROM prayer WHERE generated_prayer IS NULL") == 1
    file.write_text(PRAYER)
    kept = thywill_core.import_text_archives(tmp_path / "text_archives", db, time_zone="utc")
    assert not kept.has_failures and kept.counts("prayers").updated == 0
    fixed = thywill_core.import_text_archives(
        tmp_path / "text_archives", db, time_zone="utc", update_existing=True
    )
    assert fixed.counts("prayers").updated == 1
    assert count(db, "SELECT count(*) FROM prayer WHERE generated_prayer IS NULL") == 0


def test_zip_limits_are_keyword_options(tmp_path: Path) -> None:
    archive = tmp_path / "zeros.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("text_archives/extra/zeros.bin", b"\0" * (4 << 20))
    with pytest.raises(thywill_core.InvalidInputError, match="max_zip_ratio"):
        thywill_core.import_text_archives(archive, tmp_path / "a.db")
    with pytest.raises(thywill_core.InvalidInputError, match="max_zip_bytes"):
        thywill_core.import_text_archives(
            archive, tmp_path / "b.db", max_zip_ratio=2000, max_zip_bytes=1 << 20
        )
    report = thywill_core.import_text_archives(archive, tmp_path / "c.db", max_zip_ratio=2000)
    assert not report.has_failures
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()


def test_a_fifo_is_skipped_and_a_non_utf8_name_imports(tmp_path: Path) -> None:
    import os

    month = tmp_path / "text_archives" / "prayers" / "2024" / "01"
    month.mkdir(parents=True)
    os.mkfifo(month / "2024_01_06_prayer_at_1000.txt")
    odd = os.fsencode(month) + b"/2024_01_05_prayer_at_1000_\xff.txt"
    with open(odd, "w") as f:
        f.write(PRAYER)
    report = thywill_core.import_text_archives(tmp_path / "text_archives", tmp_path / "a.db")
    assert not report.has_failures
    assert report.counts("prayers").inserted == 1
    reasons = [str(n["reason"]) for n in report.notes]
    assert any("not a regular file (FIFO)" in r for r in reasons)
    assert any("not valid UTF-8" in r for r in reasons)
    with pytest.raises(thywill_core.InvalidInputError, match="not a regular file"):
        thywill_core.parse_file(month / "2024_01_06_prayer_at_1000.txt")


def test_text_archive_phases_one_at_a_time(corpus: Path, tmp_path: Path) -> None:
    names = thywill_core.import_phase_names()
    assert names[:4] == ["users", "user_attributes", "prayers", "ledgers"]
    assert len(names) == 12
    needs = dict(thywill_core.import_phase_prerequisites())
    assert needs["ledgers"] == ["users", "prayers"]
    assert needs["notifications"] == ["users", "auth"]
    db = tmp_path / "thywill.db"
    # Marks need their prayers: refused, nothing written.
    with pytest.raises(thywill_core.InvalidInputError, match="the ledgers phase needs the prayers phase"):
        thywill_core.import_text_archive_phases(corpus, db, ["ledgers"], time_zone="utc")
    assert not db.exists()
    with pytest.raises(thywill_core.InvalidInputError, match="unknown import phase"):
        thywill_core.import_text_archive_phases(corpus, db, ["marks"], time_zone="utc")
    dry = thywill_core.import_text_archive_phases(corpus, db, ["prayers", "users"], dry_run=True, time_zone="utc")
    assert not db.exists()
    report = thywill_core.import_text_archive_phases(corpus, db, ["prayers", "users"], time_zone="utc")
    assert report["phases"] == ["users", "prayers"]
    assert report["recovery_stats"] == dry["recovery_stats"]
    assert report["recovery_stats"]["users_recovered"] == 100
    assert report["recovery_stats"]["prayers_recovered"] == 1000
    assert report["recovery_stats"]["prayer_skips_recovered"] == 0
    assert report["import"]["entities"]["prayers"]["inserted"] == 1000
    ledgers = thywill_core.import_text_archive_phases(corpus, db, ["ledgers"], time_zone="utc")
    assert ledgers["recovery_stats"]["prayer_skips_recovered"] == count(db, "SELECT count(*) FROM prayerskip") > 0
    # Phase by phase gives what one full import gives.
    full = tmp_path / "full.db"
    thywill_core.import_text_archives(corpus, full, time_zone="utc")
    rest = [n for n in names if n not in ("users", "prayers", "ledgers")]
    thywill_core.import_text_archive_phases(corpus, db, rest, time_zone="utc")
    for table in ("user", "prayer", "prayermark", "prayerskip", "session", "invitetoken"):
        assert count(db, f"SELECT count(*) FROM {table}") == count(full, f"SELECT count(*) FROM {table}"), table
