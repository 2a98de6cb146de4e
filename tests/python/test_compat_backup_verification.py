"""thywill_core.compat.backup_verification: ThyWill's `thywill verify` module over the core."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from thywill_core.compat import backup_verification as bv

KEYS = {"file_exists", "checksum_verified", "checksum_file_found", "database_integrity_ok", "errors"}


@pytest.fixture
def backup(tmp_path: Path, s1: Path) -> Path:
    """A copy of the s1 community's database as a backup file, with a sha256sum line."""
    path = tmp_path / "thywill_20250706_090500.db"
    shutil.copyfile(s1.parent / "thywill.db", path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Path(f"{path}.sha256").write_text(f"{digest}  /somewhere/else/{path.name}\n")
    return path


def _corrupt_index(path: Path) -> None:
    """An index whose entries no longer match its table: `integrity_check` lists the rows.
    The table is named like ThyWill's `invitetoken`, whose letters contain "ok"."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invitetoken(token TEXT, created_by TEXT)")
    con.execute("CREATE INDEX idx_invitetoken_token ON invitetoken(token)")
    con.executemany("INSERT INTO invitetoken VALUES (?, ?)", [(str(i), str(99 - i)) for i in range(20)])
    con.commit()
    con.execute("PRAGMA writable_schema=ON")
    con.execute(
        "UPDATE sqlite_master SET sql='CREATE INDEX idx_invitetoken_token ON invitetoken(created_by)'"
        " WHERE name='idx_invitetoken_token'"
    )
    con.commit()
    con.close()


def test_a_good_backup_with_its_checksum_passes(backup: Path) -> None:
    results = bv.verify_backup(str(backup))
    assert results == {
        "file_exists": True,
        "checksum_verified": True,
        "checksum_file_found": True,
        "database_integrity_ok": True,
        "errors": [],
    }


def test_no_checksum_file_is_not_an_error(backup: Path) -> None:
    Path(f"{backup}.sha256").unlink()
    results = bv.verify_backup(str(backup))
    assert set(results) == KEYS
    assert results["checksum_file_found"] is False and results["checksum_verified"] is False
    assert results["database_integrity_ok"] is True and results["errors"] == []


def test_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.db")
    assert bv.verify_backup(missing) == {
        "file_exists": False,
        "checksum_verified": False,
        "checksum_file_found": False,
        "database_integrity_ok": False,
        "errors": [f"Backup file not found: {missing}"],
    }


def test_checksum_mismatch_uses_the_first_token_only(backup: Path) -> None:
    Path(f"{backup}.sha256").write_text("0" * 64 + f"  {backup.name}\n")
    results = bv.verify_backup(str(backup))
    assert results["checksum_file_found"] is True and results["checksum_verified"] is False
    assert results["database_integrity_ok"] is True
    assert len(results["errors"]) == 1
    assert results["errors"][0].startswith("Checksum verification failed")


def test_a_damaged_index_fails_even_though_its_report_contains_ok(tmp_path: Path) -> None:
    # ThyWill's `'ok' in stdout.lower()` passes this file ("invitet-ok-en"); the core does not.
    path = tmp_path / "damaged.db"
    _corrupt_index(path)
    results = bv.verify_backup(str(path))
    assert results["database_integrity_ok"] is False
    assert results["errors"][0].startswith("Database integrity check failed")
    assert "missing from index idx_invitetoken_token" in results["errors"][0]


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_text("not a database at all, " * 100)
    results = bv.verify_backup(str(path))
    assert results["file_exists"] is True and results["database_integrity_ok"] is False
    assert results["errors"][0].startswith("Database integrity check error")


def test_report_text(backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bv.print_verification_report(str(backup), bv.verify_backup(str(backup)))
    out = capsys.readouterr().out
    assert out == (
        f"🔍 Verifying Backup Integrity: {backup}\n" + "=" * 50 + "\n\n"
        "📁 File integrity:\n   ✅ Checksum verification passed\n\n"
        "🗄️  Database integrity:\n   ✅ Database integrity check passed\n\n"
        "✅ Backup verification completed successfully\n"
    )
    missing = str(tmp_path / "nope.db")
    bv.print_verification_report(missing, bv.verify_backup(missing))
    assert capsys.readouterr().out.endswith(
        f"❌ Backup file not found\n   Backup file not found: {missing}\n"
    )


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thywill_core.compat.backup_verification", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_main_exit_codes(backup: Path, tmp_path: Path) -> None:
    usage = _run()
    assert usage.returncode == 1
    assert usage.stdout == "Usage: python backup_verification.py <backup_file>\n"
    ok = _run(str(backup))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.endswith("✅ Backup verification completed successfully\n")
    damaged = tmp_path / "damaged.db"
    _corrupt_index(damaged)
    bad = _run(str(damaged))
    assert bad.returncode == 1
    assert bad.stdout.endswith("❌ Backup verification failed\n")
    assert _run(str(tmp_path / "nope.db")).returncode == 1


def test_verifying_the_apps_open_database_leaves_the_apps_locks_alone(backup: Path) -> None:
    # The app holds a write lock through Python's sqlite3; verifying that same file from the
    # app's process must not drop it (a second SQLite library closing the file in-process
    # would), so a third process must still be refused the write lock afterwards.
    probe = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
        "try:\n    c.execute('BEGIN IMMEDIATE')\n    print('acquired')\n"
        "except sqlite3.OperationalError:\n    print('locked')\n"
    )

    def third_process() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe, str(backup)], capture_output=True, text=True, check=True
        ).stdout.strip()

    app = sqlite3.connect(backup, isolation_level=None)
    try:
        app.execute("BEGIN IMMEDIATE")
        assert third_process() == "locked"
        assert bv.verify_backup(str(backup))["database_integrity_ok"] is True
        assert third_process() == "locked"
    finally:
        app.execute("ROLLBACK")
        app.close()
    assert third_process() == "acquired"
