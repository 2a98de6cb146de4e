"""One SQLite per process: the app's own sqlite3 connection and the core on the same file.

The wheel links the system's libsqlite3, the library Python's sqlite3 module links, so the
process maps one SQLite and its in-process lock bookkeeping covers the app's connections and
the core's alike. Under a wheel built with the core's ``bundled-sqlite`` feature these tests
fail: the core's own SQLite closing the file drops the app's POSIX locks (a third process was
then granted the write lock while the app's transaction was still open), and the core's
import was granted the write lock the app holds.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

import thywill_core

# A third process asking for the write lock without waiting.
_THIRD_PROCESS = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
    "try:\n"
    "    c.execute('BEGIN IMMEDIATE')\n"
    "    c.execute('ROLLBACK')\n"
    "    print('acquired')\n"
    "except sqlite3.OperationalError as e:\n"
    "    print(e)\n"
)


def third_process(database: Path) -> str:
    """What a separate Python process gets when it asks for the write lock right now."""
    return subprocess.run(
        [sys.executable, "-c", _THIRD_PROCESS, str(database)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture(params=["wal", "delete"])
def community(request: pytest.FixtureRequest, tmp_path: Path, s1: Path) -> Path:
    """A writable copy of the s1 community's database, in WAL mode (as ThyWill runs it) or
    with a rollback journal, with a table of the app's own."""
    database = tmp_path / "thywill.db"
    shutil.copyfile(s1.parent / "thywill.db", database)
    database.chmod(0o644)
    setup = sqlite3.connect(database, isolation_level=None)
    assert setup.execute(f"PRAGMA journal_mode={request.param}").fetchone()[0] == request.param
    setup.execute("CREATE TABLE app_notes (note TEXT)")
    setup.close()
    return database


def test_the_core_shares_pythons_sqlite_library() -> None:
    library = thywill_core.sqlite_library()
    assert library["shared_with_python"] is True
    assert library["version"] == sqlite3.sqlite_version == library["python_version"]
    # Decided once per process: a second call answers the same without probing again.
    assert thywill_core.sqlite_library() == library


def test_the_apps_connection_and_the_core_write_the_same_file(
    community: Path, corpus: Path, tmp_path: Path
) -> None:
    app = sqlite3.connect(community, isolation_level=None, timeout=0)
    try:
        app.execute("BEGIN IMMEDIATE")
        app.execute("INSERT INTO app_notes VALUES ('written by the app')")
        assert third_process(community) == "database is locked"

        # The core opens and closes the app's file in the app's process...
        report = thywill_core.backup_create(community, tmp_path / "backups")
        backup = sqlite3.connect(report["path"])
        # A consistent snapshot: the app's uncommitted row is not in it.
        assert backup.execute("SELECT count(*) FROM app_notes").fetchone() == (0,)
        backup.close()
        # ...and a core operation that writes must not get the write lock the app holds.
        with pytest.raises(thywill_core.ThywillError, match="database is locked"):
            thywill_core.import_text_archives(corpus, community)

        # Still the app's lock: closing the file in the core dropped nothing.
        assert third_process(community) == "database is locked"
        app.execute("COMMIT")
    finally:
        if app.in_transaction:
            app.execute("ROLLBACK")
    assert third_process(community) == "acquired"
    assert app.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert app.execute("SELECT note FROM app_notes").fetchall() == [("written by the app",)]
    app.close()


@pytest.mark.parametrize(
    "operation",
    ["recovery_report", "validate_consistency", "recovery_test", "backup_verify"],
)
def test_reading_operations_keep_the_apps_locks(
    operation: str, community: Path, s1: Path
) -> None:
    # These read the database file outside a SQLite connection too (its header, its
    # SHA-256); a plain open and close of the file would drop the app's locks even with one
    # SQLite library, so the core reads it through SQLite's file layer.
    calls: dict[str, Callable[[], object]] = {
        "recovery_report": lambda: thywill_core.recovery_report(s1, community),
        "validate_consistency": lambda: thywill_core.validate_consistency(s1, community),
        "recovery_test": lambda: thywill_core.recovery_test(s1, community),
        "backup_verify": lambda: thywill_core.backup_verify(community, require_checksum=False),
    }
    app = sqlite3.connect(community, isolation_level=None, timeout=0)
    try:
        app.execute("BEGIN IMMEDIATE")
        app.execute("INSERT INTO app_notes VALUES ('written by the app')")
        assert third_process(community) == "database is locked"
        calls[operation]()
        assert third_process(community) == "database is locked"
        app.execute("COMMIT")
    finally:
        if app.in_transaction:
            app.execute("ROLLBACK")
        app.close()
    assert third_process(community) == "acquired"
