"""thywill_core.compat._database: the app's SQLAlchemy engine handed to the core.

A file database is used in place; ThyWill's test engine (``sqlite:///:memory:`` with a
``StaticPool`` and a Session open for the whole test) goes through a serialized copy that a
writing call copies back. ``call_core`` runs in a child process when the core's SQLite is not
Python's.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

import thywill_core
from thywill_core.compat import _database
from thywill_core.compat._database import app_database, call_core


def _prayers(report: dict[str, Any]) -> int:
    return int(next(e["live_rows"] for e in report["entities"] if e["entity"] == "prayer"))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that tempfile uses for everything in the test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def memory_engine(s1: Path) -> Iterator[Engine]:
    """ThyWill's test engine, loaded with the s1 community's database."""
    engine = create_engine(
        "sqlite:///:memory:", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    raw = engine.raw_connection()
    raw.driver_connection.deserialize((s1.parent / "thywill.db").read_bytes())  # type: ignore[union-attr]
    raw.close()
    yield engine
    engine.dispose()


def test_a_file_database_is_used_in_place(
    tmp_path: Path, s1: Path, corpus: Path, private_tmp: Path
) -> None:
    database = tmp_path / "thywill.db"
    shutil.copyfile(s1.parent / "thywill.db", database)
    database.chmod(0o644)
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        session.execute(text("DELETE FROM prayer WHERE rowid % 10 = 0"))
        session.commit()
    inode = database.stat().st_ino
    with app_database(engine, writes=True) as path:
        assert path == str(database)
        report = call_core("import_text_archives", corpus, path)
    assert report["entities"]["prayers"]["inserted"] == 100
    # Written in place: the same file, seen by the app's next session, no copy anywhere.
    assert database.stat().st_ino == inode
    assert list(private_tmp.iterdir()) == []
    with Session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 1000
    engine.dispose()


def test_a_reading_call_sees_what_the_app_committed(
    memory_engine: Engine, s1: Path, private_tmp: Path
) -> None:
    with Session(memory_engine) as session:
        session.execute(text("DELETE FROM prayer WHERE rowid <= 10"))
        session.commit()
        with app_database(memory_engine) as path:
            assert Path(path).parent.parent == private_tmp
            assert _prayers(call_core("recovery_report", s1, path)) == 990
        # Flushed but not committed: refused, and neither committed nor rolled back.
        session.execute(text("DELETE FROM prayer WHERE rowid <= 20"))
        with pytest.raises(thywill_core.ConflictError, match="open transaction"):
            with app_database(memory_engine):
                pass
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 980
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 990
    # The private copy is gone.
    assert list(private_tmp.iterdir()) == []


def test_a_writing_call_leaves_its_rows_in_the_apps_session(
    memory_engine: Engine, s1: Path
) -> None:
    with Session(memory_engine) as session:
        session.execute(text("DELETE FROM prayer WHERE rowid % 4 = 0"))
        session.commit()
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 750
        with app_database(memory_engine, writes=True) as path:
            report = call_core("import_text_archives", s1, path)
        assert report["entities"]["prayers"]["inserted"] == 250
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 1000
        assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        # The app keeps writing to its own connection afterwards.
        session.execute(text("DELETE FROM prayer WHERE rowid = 1"))
        session.commit()
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 999


def test_a_writing_call_is_refused_inside_the_apps_transaction(
    memory_engine: Engine, s1: Path
) -> None:
    with Session(memory_engine) as session:
        session.execute(text("DELETE FROM prayer WHERE rowid <= 5"))
        ran = False
        with pytest.raises(thywill_core.ConflictError, match="open transaction"):
            with app_database(memory_engine, writes=True):
                ran = True
        assert ran is False
        # The app's uncommitted change is untouched (no rollback behind its back).
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 995
        session.commit()
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 995


def test_an_open_result_blocks_the_copy_back_and_leaves_the_app_unchanged(
    memory_engine: Engine, s1: Path
) -> None:
    with Session(memory_engine) as session:
        session.execute(text("DELETE FROM prayer WHERE rowid <= 5"))
        session.commit()
        reading = session.execute(text("SELECT id FROM prayer"))
        reading.fetchone()
        with pytest.raises(thywill_core.ConflictError, match="unchanged"):
            with app_database(memory_engine, writes=True) as path:
                call_core("import_text_archives", s1, path)
        reading.close()
        assert session.execute(text("SELECT count(*) FROM prayer")).scalar_one() == 995


def test_memory_urls_are_not_files() -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"):
        assert _database.database_file_of(create_engine(url)) is None
    assert _database.database_file_of(create_engine("sqlite:///app.db")) == "app.db"


@pytest.fixture
def not_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """call_core as it runs where the core's SQLite is not Python's: in a child process."""
    library = dict(thywill_core.sqlite_library(), shared_with_python=False)
    monkeypatch.setattr(thywill_core, "sqlite_library", lambda: library)


def test_a_child_process_call_returns_what_the_in_process_call_returns(
    tmp_path: Path, s1: Path, corpus: Path
) -> None:
    database = tmp_path / "thywill.db"
    shutil.copyfile(s1.parent / "thywill.db", database)
    database.chmod(0o644)
    in_process = call_core("backup_verify", database, require_checksum=False)
    dry = call_core("import_text_archives", corpus, database, dry_run=True)
    with pytest.MonkeyPatch.context() as patch:
        library = dict(thywill_core.sqlite_library(), shared_with_python=False)
        patch.setattr(thywill_core, "sqlite_library", lambda: library)
        parent = os.getpid()
        calls: list[int] = []
        child = call_core("backup_verify", database, require_checksum=False)
        child_dry = call_core(
            "import_text_archives",
            corpus,
            database,
            dry_run=True,
            progress=lambda *_: calls.append(os.getpid()),
        )
    assert {k: v for k, v in child.items() if k != "duration_ms"} == {
        k: v for k, v in in_process.items() if k != "duration_ms"
    }
    assert child_dry["entities"] == dry["entities"] and child_dry["dry_run"] is True
    # The progress callable stayed behind: it was never called, in this process or another.
    assert calls == [] and parent == os.getpid()


@pytest.mark.usefixtures("not_shared")
def test_a_child_process_error_is_the_same_thywill_core_exception(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(thywill_core.ThywillError) as in_child:
        call_core("import_text_archives", missing, tmp_path / "db.sqlite")
    with pytest.raises(thywill_core.ThywillError) as in_process:
        thywill_core.import_text_archives(missing, tmp_path / "db.sqlite")
    assert type(in_child.value) is type(in_process.value)
    assert str(in_child.value) == str(in_process.value)
    assert in_child.value.path == in_process.value.path
    with pytest.raises(TypeError):
        call_core("backup_verify", 42, no_such_argument=True)


@pytest.mark.usefixtures("not_shared")
def test_backup_verification_runs_in_a_child_when_not_shared(
    tmp_path: Path, s1: Path
) -> None:
    from thywill_core.compat import backup_verification

    database = tmp_path / "thywill.db"
    shutil.copyfile(s1.parent / "thywill.db", database)
    assert backup_verification.verify_backup(str(database))["database_integrity_ok"] is True
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    assert backup_verification.verify_backup(str(bad))["database_integrity_ok"] is False


def test_sqlite3_connection_is_what_the_memory_engine_holds(memory_engine: Engine) -> None:
    connection = _database._driver_connection(memory_engine)
    assert isinstance(connection, sqlite3.Connection)
    assert connection.execute("SELECT count(*) FROM prayer").fetchone() == (1000,)
