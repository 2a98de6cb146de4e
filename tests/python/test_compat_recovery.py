"""thywill_core.compat: ThyWill's text importer, complete recovery and their CLI modules.

Real SQLite files and in-memory databases behind SQLAlchemy engines (as ThyWill's app and
tests hold them), a copy of the s1 community's archives, and real subprocesses running the
CLI modules the way ThyWill's ``./thywill`` does (``python -m app_helpers.cli.X``) in a
ThyWill-shaped tree whose modules hold the one-line swap.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from thywill_core.compat import database_recovery as dr  # noqa: E402
from thywill_core.compat import text_importer_service as ti  # noqa: E402
from thywill_core.compat.text_archive_service import TextArchiveService  # noqa: E402

IMPORTER_KEYS = {
    "users_imported",
    "prayers_imported",
    "prayer_marks_imported",
    "prayer_attributes_imported",
    "activity_logs_imported",
    "user_attributes_imported",
    "errors",
}


def _count(engine: Any, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar())


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Any]:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'thywill.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def memory_engine() -> Iterator[Any]:
    engine = sqlalchemy.create_engine("sqlite:///:memory:")
    yield engine
    engine.dispose()


@pytest.fixture
def uses_engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets the ``engine`` global of both modules, as ThyWill's tests patch it."""

    def use(engine: Any) -> Any:
        monkeypatch.setattr(ti, "engine", engine)
        monkeypatch.setattr(dr, "engine", engine)
        return engine

    return use


def _importer(tmp_path: Path) -> ti.TextImporterService:
    return ti.TextImporterService(TextArchiveService(str(tmp_path / "service_base")))


# --- text_importer_service ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_import_brings_back_the_community_and_a_second_run_adds_nothing(
    kind: str, request: pytest.FixtureRequest, corpus: Path, tmp_path: Path, uses_engine: Any
) -> None:
    engine = uses_engine(request.getfixturevalue(f"{kind}_engine"))
    importer = _importer(tmp_path)

    dry = importer.import_from_archive_directory(str(corpus), dry_run=True)
    assert dry["success"] is True and dry["dry_run"] is True
    assert set(dry["stats"]) == IMPORTER_KEYS
    assert dry["stats"]["prayers_imported"] == 1000
    # Nothing of the dry run stays.
    with engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'prayer'"
        ).scalar()
    assert tables == 0 or _count(engine, "prayer") == 0

    real = importer.import_from_archive_directory(str(corpus), dry_run=False)
    assert real["success"] is True and real["dry_run"] is False
    # The dry run's numbers are the real run's (rows, not lines).
    assert real["stats"] == dry["stats"]
    assert real["stats"]["users_imported"] == 100
    assert real["stats"]["prayer_marks_imported"] == 9993
    assert real["stats"]["errors"] == []
    assert _count(engine, "prayer") == 1000
    assert _count(engine, "prayermark") == 9993
    with engine.connect() as connection:
        path = connection.exec_driver_sql("SELECT text_file_path FROM prayer LIMIT 1").scalar()
    # ThyWill stores str(Path(archive_dir) / relative path).
    assert path.startswith(f"{corpus}/prayers/")

    again = importer.import_from_archive_directory(str(corpus), dry_run=False)
    assert again["success"] is True
    assert {k: v for k, v in again["stats"].items() if k != "errors"} == {
        k: 0 for k in IMPORTER_KEYS - {"errors"}
    }
    assert _count(engine, "prayer") == 1000


def test_import_of_a_missing_folder_is_thywills_error_dict(tmp_path: Path, uses_engine: Any) -> None:
    uses_engine(None)
    result = _importer(tmp_path).import_from_archive_directory(str(tmp_path / "nowhere"))
    assert result == {"error": f"Archive directory not found: {tmp_path / 'nowhere'}"}


def test_engine_is_read_from_the_module_at_call_time(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    importer = _importer(tmp_path)  # built before the engine is set, as ThyWill's singleton
    first = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'first.db'}")
    second = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'second.db'}")
    monkeypatch.setattr(ti, "engine", first)
    assert importer.import_from_archive_directory(str(corpus))["stats"]["prayers_imported"] == 1000
    monkeypatch.setattr(ti, "engine", second)
    assert importer.import_from_archive_directory(str(corpus))["stats"]["prayers_imported"] == 1000
    assert _count(first, "prayer") == _count(second, "prayer") == 1000


def test_a_failed_import_returns_success_false_with_the_error(
    corpus: Path, tmp_path: Path, uses_engine: Any
) -> None:
    # A database file that is not a database: the core refuses it.
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    uses_engine(sqlalchemy.create_engine(f"sqlite:///{bad}"))
    result = _importer(tmp_path).import_from_archive_directory(str(corpus))
    assert result["success"] is False
    assert result["error"]
    assert result["stats"]["errors"] == [f"Import failed: {result['error']}"]


def test_validation_and_repair_of_missing_archive_references(
    corpus: Path, tmp_path: Path, file_engine: Any, uses_engine: Any
) -> None:
    uses_engine(file_engine)
    importer = _importer(tmp_path)
    importer.import_from_archive_directory(str(corpus))

    clean = importer.validate_import_consistency(str(corpus))
    assert clean == {
        "prayers_checked": 1000,
        "users_checked": 100,
        "inconsistencies": [],
        "missing_archives": [],
        "missing_db_records": [],
    }

    with file_engine.begin() as connection:
        ids = [
            row[0]
            for row in connection.exec_driver_sql("SELECT id FROM prayer ORDER BY id LIMIT 2")
        ]
        connection.exec_driver_sql(
            "UPDATE prayer SET text_file_path = NULL WHERE id IN (?, ?)", tuple(ids)
        )
    broken = importer.validate_import_consistency(str(corpus))
    assert len(broken["missing_archives"]) == 2
    assert all(any(i in m for i in ids) for m in broken["missing_archives"])

    dry = importer.repair_missing_archive_references(str(corpus), dry_run=True)
    assert dry == {"prayers_repaired": 2, "users_repaired": 0, "errors": []}
    with file_engine.connect() as connection:
        nulls = connection.exec_driver_sql(
            "SELECT count(*) FROM prayer WHERE text_file_path IS NULL"
        ).scalar()
    assert nulls == 2

    assert importer.repair_missing_archive_references(str(corpus)) == dry
    assert importer.validate_import_consistency(str(corpus)) == clean
    assert importer.repair_missing_archive_references(str(corpus))["prayers_repaired"] == 0


def test_validation_lists_a_prayer_file_without_its_row(
    corpus: Path, tmp_path: Path, memory_engine: Any, uses_engine: Any
) -> None:
    uses_engine(memory_engine)
    importer = _importer(tmp_path)
    importer.import_from_archive_directory(str(corpus))
    with memory_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM prayer WHERE rowid = 1")
    result = importer.validate_import_consistency(str(corpus))
    assert result["prayers_checked"] == 999
    assert len(result["missing_db_records"]) == 1


# --- database_recovery -----------------------------------------------------------------


def test_complete_recovery_dry_run_then_real_then_nothing_left_to_do(
    corpus: Path, memory_engine: Any, uses_engine: Any
) -> None:
    uses_engine(memory_engine)
    dry = dr.CompleteSystemRecovery(str(corpus)).perform_complete_recovery(dry_run=True)
    assert dry["success"] is True and dry["dry_run"] is True
    stats: Dict[str, Any] = dry["stats"]
    assert stats["users_recovered"] == 100
    assert stats["prayers_recovered"] == 1000  # ThyWill never counted prayers
    assert stats["prayer_marks_recovered"] == 9993  # ThyWill: prayer files + ledger, twice
    assert stats["prayer_skips_recovered"] == 1500
    assert stats["sessions_recovered"] > 0 and stats["invite_tokens_recovered"] > 0
    assert stats["errors"] == []
    with memory_engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'prayer'"
        ).scalar() == 0

    real = dr.CompleteSystemRecovery(str(corpus)).perform_complete_recovery(dry_run=False)
    assert real["success"] is True
    assert {k: v for k, v in real["stats"].items() if isinstance(v, int)} == {
        k: v for k, v in stats.items() if isinstance(v, int)
    }
    assert _count(memory_engine, "prayer") == 1000
    assert _count(memory_engine, "prayerskip") == 1500
    # No admin grant invented for the first user (ThyWill's handle_missing_data).
    assert not any("Granted admin" in w for w in real["stats"]["warnings"])

    second = dr.CompleteSystemRecovery(str(corpus)).perform_complete_recovery(dry_run=False)
    counters = {k: v for k, v in second["stats"].items() if isinstance(v, int)}
    # Roles count the ones the database already had by name; nothing else is added.
    assert {k: v for k, v in counters.items() if k != "roles_recovered"} == {
        k: 0 for k in counters if k != "roles_recovered"
    }


def test_recovery_of_a_missing_folder_fails_like_thywills(tmp_path: Path, uses_engine: Any) -> None:
    uses_engine(None)
    recovery = dr.CompleteSystemRecovery(str(tmp_path / "gone"))
    result = recovery.perform_complete_recovery(dry_run=True)
    assert result["success"] is False
    assert result["error"] == f"Archive directory not found: {tmp_path / 'gone'}"
    assert result["stats"]["errors"] == [f"Recovery failed: {result['error']}"]


def test_structure_warnings_and_lazy_services(tmp_path: Path) -> None:
    root = tmp_path / "archives"
    root.mkdir()
    recovery = dr.CompleteSystemRecovery(str(root))
    assert recovery._archive_service is None and recovery._text_importer is None
    recovery._validate_archive_structure()
    assert recovery.recovery_stats["warnings"] == [
        "Missing core directory: prayers",
        "Missing core directory: users",
        "Missing core directory: activity",
    ]
    assert not (root / "prayers").exists()  # nothing created by the check


def test_each_phase_method_runs_what_it_needs_and_a_dry_run_reports_the_real_run(
    corpus: Path, memory_engine: Any, uses_engine: Any
) -> None:
    uses_engine(memory_engine)
    for method, own in [
        ("import_authentication_data", {"auth_requests_recovered": 11, "auth_approvals_recovered": 14}),
        ("import_enhanced_prayer_data", {"prayer_skips_recovered": 1500}),
        ("import_role_system", {"role_assignments_recovered": 2}),
    ]:
        with memory_engine.begin() as connection:
            for (table,) in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchall():
                connection.exec_driver_sql(f'DROP TABLE "{table}"')
        dry = dr.CompleteSystemRecovery(str(corpus))
        getattr(dry, method)(dry_run=True)
        assert {k: dry.recovery_stats[k] for k in own} == own, method
        # The users (and for the ledgers the prayers) it needs come in the same run.
        assert dry.recovery_stats["users_recovered"] == 100, method
        assert dry.recovery_stats["errors"] == [], method
        with memory_engine.connect() as connection:
            assert connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'user'"
            ).scalar() == 0, method

        real = dr.CompleteSystemRecovery(str(corpus))
        getattr(real, method)(dry_run=False)
        assert real.recovery_stats == dry.recovery_stats, method
        assert _count(memory_engine, "user") == 100

        again = dr.CompleteSystemRecovery(str(corpus))
        getattr(again, method)(dry_run=False)
        assert again.recovery_stats["users_recovered"] == 0, method
        assert all(again.recovery_stats[k] == 0 for k in own), method

    # Only the ledgers need the prayers.
    assert _count(memory_engine, "prayer") == 0


def test_without_role_definitions_the_default_roles_are_recovered(
    tmp_path: Path, memory_engine: Any, uses_engine: Any
) -> None:
    uses_engine(memory_engine)
    root = tmp_path / "archives"
    root.mkdir()
    recovery = dr.CompleteSystemRecovery(str(root))
    recovery.import_role_system(dry_run=True)
    # ThyWill: "admin" and "user" (2, counted in a dry run whatever the database had).
    assert recovery.recovery_stats["roles_recovered"] == 3
    recovery.import_role_system(dry_run=False)
    with memory_engine.connect() as connection:
        names = [r[0] for r in connection.exec_driver_sql("SELECT name FROM role ORDER BY name")]
    assert names == ["admin", "moderator", "user"]


def test_missing_archive_folders_give_thywills_warnings(
    tmp_path: Path, memory_engine: Any, uses_engine: Any
) -> None:
    uses_engine(memory_engine)
    root = tmp_path / "archives"
    (root / "users").mkdir(parents=True)
    recovery = dr.CompleteSystemRecovery(str(root))
    recovery.import_authentication_data(dry_run=True)
    recovery.import_role_system(dry_run=True)
    recovery.import_system_state(dry_run=True)
    assert recovery.recovery_stats["warnings"] == [
        "No authentication archives found",
        "No role system archives found",
        "No system state archives found",
    ]


def test_integrity_warnings_name_orphans(tmp_path: Path, uses_engine: Any) -> None:
    path = tmp_path / "orphans.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE user(display_name TEXT PRIMARY KEY, invited_by_username TEXT);
        CREATE TABLE prayer(id TEXT PRIMARY KEY, author_username TEXT);
        CREATE TABLE user_roles(id TEXT, user_id TEXT, role_id TEXT);
        INSERT INTO user VALUES ('Ann Lee', 'Nobody');
        INSERT INTO prayer VALUES ('p1', 'Ghost'), ('p2', 'Ann Lee');
        INSERT INTO user_roles VALUES ('r1', 'Ghost', 'admin');
        """
    )
    connection.commit()
    connection.close()
    uses_engine(sqlalchemy.create_engine(f"sqlite:///{path}"))
    recovery = dr.CompleteSystemRecovery(str(tmp_path))
    recovery.validate_recovery_integrity()
    assert recovery.recovery_stats["warnings"] == [
        "Found 1 prayers with missing authors",
        "Found 1 users with broken invite relationships",
        "Found 1 role assignments for missing users",
    ]
    recovery.handle_missing_data(dry_run=False)
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM user_roles").fetchone() == (1,)


# --- the CLI modules, run as ThyWill runs them -----------------------------------------

SWAP = "import sys; from thywill_core.compat import {0} as _m; sys.modules[__name__] = _m\n"


@pytest.fixture
def thywill_tree(tmp_path: Path, corpus: Path) -> Path:
    """A ThyWill-shaped working folder: swapped CLI and service modules, ``models.engine``
    over ``thywill.db``, and the archives in ``text_archives/``."""
    tree = tmp_path / "app"
    for package in ("app_helpers", "app_helpers/cli", "app_helpers/services"):
        (tree / package).mkdir(parents=True)
        (tree / package / "__init__.py").write_text("")
    for name in ("archive_validation", "recovery_report", "backup_verification"):
        (tree / "app_helpers" / "cli" / f"{name}.py").write_text(SWAP.format(name))
    for name in ("database_recovery", "text_importer_service", "text_archive_service"):
        (tree / "app_helpers" / "services" / f"{name}.py").write_text(SWAP.format(name))
    (tree / "models.py").write_text(
        "from sqlalchemy import create_engine\n"
        "engine = create_engine('sqlite:///thywill.db')\n"
    )
    corpus.rename(tree / "text_archives")
    return tree


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(tree), TEXT_ARCHIVE_BASE_DIR=str(tree / "live_archives"))
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_archive_validation_validate(thywill_tree: Path) -> None:
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "validate")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "📊 Archive Structure Report:" in run.stdout
    assert "✅ prayers/: 1000 files" in run.stdout  # ThyWill counted prayers/*.txt: 0
    assert "✅ auth/:" in run.stdout
    assert "📋 Validation complete!" in run.stdout

    # A damaged prayer file fails validation, naming the file.
    damaged = next((thywill_tree / "text_archives" / "prayers").glob("*/*/*.txt"))
    damaged.write_text("Prayer x by\nSubmitted nonsense\n\x00\n")
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "validate")
    assert run.returncode == 1
    assert damaged.name in run.stdout


def test_archive_validation_without_archives_fails(thywill_tree: Path) -> None:
    (thywill_tree / "text_archives").rename(thywill_tree / "elsewhere")
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "validate")
    assert run.returncode == 1
    assert "❌ Validation failed: Archive directory not found: text_archives" in run.stdout


def test_archive_validation_usage_and_unknown_command(thywill_tree: Path) -> None:
    run = _run(thywill_tree, "app_helpers.cli.archive_validation")
    assert run.returncode == 1
    assert run.stdout.startswith("Usage: python archive_validation.py")
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "frobnicate")
    assert run.returncode == 1
    assert "Unknown command: frobnicate" in run.stdout


def test_archive_validation_test_recovery_then_full_recovery(thywill_tree: Path) -> None:
    database = thywill_tree / "thywill.db"
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "test-recovery")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "🎉 Recovery simulation completed successfully!" in run.stdout
    assert "Users Recovered: 100" in run.stdout
    assert "Prayers Recovered: 1000" in run.stdout
    if database.exists():
        with sqlite3.connect(database) as connection:
            assert connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'prayer'"
            ).fetchone() == (0,)

    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "full-recovery")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "🎉 Complete database recovery finished successfully!" in run.stdout
    assert "Prayer Marks Recovered: 9993" in run.stdout
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM prayer").fetchone() == (1000,)

    # A second full recovery merges nothing new.
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "full-recovery")
    assert run.returncode == 0
    assert "Prayer Marks Recovered" not in run.stdout


def test_archive_validation_repair_heals_without_a_prompt(thywill_tree: Path) -> None:
    assert _run(thywill_tree, "app_helpers.cli.archive_validation", "full-recovery").returncode == 0
    with sqlite3.connect(thywill_tree / "thywill.db") as connection:
        connection.execute("UPDATE prayer SET text_file_path = NULL WHERE rowid = 1")
    run = _run(thywill_tree, "app_helpers.cli.archive_validation", "repair")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "✅ Archive repair completed" in run.stdout
    assert "1 paths updated" in run.stdout
    with sqlite3.connect(thywill_tree / "thywill.db") as connection:
        assert connection.execute(
            "SELECT count(*) FROM prayer WHERE text_file_path IS NULL"
        ).fetchone() == (0,)


def test_recovery_report(thywill_tree: Path) -> None:
    run = _run(thywill_tree, "app_helpers.cli.recovery_report")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "📊 Recovery Capability Report" in run.stdout
    assert f"Archive Directory: {thywill_tree / 'text_archives'}" in run.stdout
    assert "🎉 Complete recovery capability available!" in run.stdout


def test_recovery_report_of_empty_folders_is_limited(tmp_path: Path) -> None:
    from thywill_core.compat import recovery_report

    root = tmp_path / "text_archives"
    for name in ("prayers", "users", "activity", "auth", "roles", "system"):
        (root / name).mkdir(parents=True)
    analysis = recovery_report.analyze_archive_structure(root)
    assert analysis["core_data"]["prayers"] == {"exists": True, "file_count": 0}
    # ThyWill: "Complete recovery capability available!" for empty folders.
    assert analysis["recommendations"][0] == "Limited recovery capability."


def test_swapped_backup_verification_runs_its_main(thywill_tree: Path) -> None:
    # Before the swapped CLI modules called `main` themselves, `python -m` ran the swap line
    # as `__main__` and exited 0 having verified nothing.
    run = _run(thywill_tree, "app_helpers.cli.backup_verification", "missing.db")
    assert run.returncode == 1
    assert "❌ Backup file not found" in run.stdout
    run = _run(thywill_tree, "app_helpers.cli.backup_verification")
    assert run.returncode == 1
    assert run.stdout.startswith("Usage: python backup_verification.py")


def test_importing_a_swapped_cli_module_runs_nothing(thywill_tree: Path) -> None:
    code = "import app_helpers.cli.archive_validation as m; print(m.__name__)"
    env = dict(os.environ, PYTHONPATH=str(thywill_tree))
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=thywill_tree, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "thywill_core.compat.archive_validation\n"


def test_importer_and_recovery_leave_the_database_to_the_core() -> None:
    """The repair and the integrity counts are the core's: neither module opens the
    database with Python's ``sqlite3`` itself."""
    import ast
    import inspect

    for module in (ti, dr):
        imported = set()
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert "sqlite3" not in imported, module.__name__
