"""thywill_core.compat.archive_download_service on copies of s1, with real SQLAlchemy engines
(a file engine, ThyWill's in-memory StaticPool engine, ThyWill's patched ``Session``) and the
ZIPs read back."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

import thywill_core  # noqa: E402
from thywill_core.compat import archive_download_service as compat  # noqa: E402

MODULE = "thywill_core.compat.archive_download_service"
ROOT = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of s1 as the app's working folder (stored paths are relative to it)."""
    source = fixtures_dir() / "s1"
    if not source.is_dir():
        pytest.fail(f"fixture missing: {source}")
    shutil.copyfile(source / "thywill.db", tmp_path / "thywill.db")
    shutil.copytree(source / "text_archives", tmp_path / "text_archives")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def file_engine(community: Path) -> Iterator[Any]:
    """The app's engine over the copy's file, set as the module's ``engine``."""
    engine = create_engine(f"sqlite:///{community / 'thywill.db'}")
    with patch(f"{MODULE}.engine", engine):
        yield engine
    engine.dispose()


def memory_engine_of(db: Path) -> Any:
    """ThyWill's test engine (in memory, StaticPool) holding a copy of ``db``."""
    engine = create_engine(
        "sqlite:///:memory:", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    raw = engine.raw_connection()
    target = raw.driver_connection
    source = sqlite3.connect(db)
    source.backup(target)
    source.close()
    raw.close()
    return engine


def names(zip_path: str | Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as z:
        return z.namelist()


def flagged_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT id FROM prayer WHERE flagged UNION "
            "SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged'"
        ).fetchall()
    return {r[0] for r in rows}


def test_user_zip_is_the_cores_at_thywills_path(community: Path, file_engine: Any) -> None:
    service = compat.ArchiveDownloadService("text_archives")
    path = service.create_user_archive_zip("John Lee")
    assert path == str(
        Path("text_archives") / "downloads" / f"John Lee_archive_{datetime.now():%Y_%m_%d}.zip"
    )
    ours = names(path)
    assert ours and all(n.startswith("John Lee_text_archive/") for n in ours)
    assert any("/community/activity/" in n for n in ours)
    assert "John Lee_text_archive/personal/registration.txt" in ours
    core = thywill_core.download_user(
        community / "thywill.db", "text_archives", "John Lee", out=community / "core.zip"
    )
    assert names(core["path"]) == ours
    without = service.create_user_archive_zip("John Lee", include_community=False)
    assert not any("/community/" in n for n in names(without))


def test_unknown_users_raise_thywills_value_error(community: Path, file_engine: Any) -> None:
    service = compat.ArchiveDownloadService("text_archives")
    with pytest.raises(ValueError, match="^User Nobody Here not found$"):
        service.create_user_archive_zip("Nobody Here")
    with pytest.raises(ValueError, match="^User 99999 not found$"):
        service.get_user_archive_metadata("99999")


def test_metadata_has_thywills_shape_with_archive_relative_paths(
    community: Path, file_engine: Any
) -> None:
    metadata = compat.ArchiveDownloadService("text_archives").get_user_archive_metadata("John Lee")
    assert set(metadata) == {"user", "prayers", "activities", "archive_statistics"}
    assert metadata["user"]["display_name"] == "John Lee"
    assert metadata["user"]["text_file_path"] == "users/2023_11_users.txt"
    with sqlite3.connect(community / "thywill.db") as conn:
        (prayers,) = conn.execute(
            "SELECT count(*) FROM prayer WHERE author_username = 'John Lee'"
        ).fetchone()
    assert metadata["archive_statistics"]["total_prayers"] == prayers == len(metadata["prayers"])


def test_community_zip_and_listing_leave_out_flagged_prayers_alike(
    community: Path, file_engine: Any
) -> None:
    service = compat.ArchiveDownloadService("text_archives")
    path = service.create_full_community_zip()
    assert path.startswith(str(Path("text_archives") / "downloads" / "complete_site_archive_"))
    zipped = names(path)
    with zipfile.ZipFile(path) as z:
        text_of_all = "".join(z.read(n).decode() for n in zipped)
    flagged = flagged_ids(community / "thywill.db")
    assert flagged and not any(pid in text_of_all for pid in flagged)
    listing = service.list_community_archives()
    assert isinstance(listing, list) and listing
    assert [a["period"] for a in listing] == sorted((a["period"] for a in listing), reverse=True)
    for archive in listing:
        assert not archive["path"].startswith("/")
        prefix = f"complete_site_archive/{archive['path']}"
        in_zip = [n for n in zipped if n == prefix or n.startswith(prefix + "/")]
        assert archive["file_count"] == len(in_zip), archive


def test_thywills_in_memory_engine_is_read_through_serialize(community: Path) -> None:
    engine = memory_engine_of(community / "thywill.db")
    # A flag set only in the app's memory, not in any file: the ZIP must honour it.
    with engine.begin() as conn:
        (pid,) = conn.execute(
            text("SELECT id FROM prayer WHERE NOT flagged ORDER BY id LIMIT 1")
        ).one()
        conn.execute(text("UPDATE prayer SET flagged = 1 WHERE id = :id"), {"id": pid})
    with patch(f"{MODULE}.engine", engine):
        service = compat.ArchiveDownloadService("text_archives")
        path = service.create_full_community_zip()
        with zipfile.ZipFile(path) as z:
            assert not any(pid in z.read(n).decode() for n in z.namelist())
        assert service.create_user_archive_zip("John Lee").endswith(".zip")
    # The app's own connection still works and still holds the change.
    with engine.connect() as conn:
        assert conn.execute(text("SELECT flagged FROM prayer WHERE id = :id"), {"id": pid}).one()[0]


def test_a_patched_session_decides_the_database_as_in_thywills_tests(community: Path) -> None:
    # ThyWill's unit tests patch ``Session`` to return their own session while ``engine`` is
    # the app's empty in-memory engine: the data is the session's.
    data = memory_engine_of(community / "thywill.db")
    empty = create_engine("sqlite:///:memory:", poolclass=StaticPool)
    session = Session(data)
    with patch(f"{MODULE}.engine", empty), patch(f"{MODULE}.Session", lambda _engine: session):
        service = compat.ArchiveDownloadService("text_archives")
        assert names(service.create_user_archive_zip("John Lee", include_community=False))


def test_without_a_prayer_table_the_community_zip_and_listing_still_work(
    community: Path,
) -> None:
    # ThyWill's community ZIP and listing never read the database; its tests call them
    # with an empty in-memory engine.
    empty = create_engine("sqlite:///:memory:")
    with patch(f"{MODULE}.engine", empty):
        service = compat.ArchiveDownloadService("text_archives")
        zipped = names(service.create_full_community_zip())
        assert "complete_site_archive/README.txt" in zipped
        assert service.list_community_archives()


def test_cleanup_removes_old_zips_as_thywill_and_never_follows_links(
    community: Path, file_engine: Any
) -> None:
    downloads = community / "text_archives" / "downloads"
    downloads.mkdir()
    old = time.time() - 25 * 3600
    for name in ("old_archive.zip", "fresh.zip", "notes.txt"):
        (downloads / name).write_text("x")
    os.utime(downloads / "old_archive.zip", (old, old))
    os.utime(downloads / "notes.txt", (old, old))
    outside = community / "elsewhere.zip"
    outside.write_text("x")
    os.utime(outside, (old, old))
    (downloads / "link.zip").symlink_to(outside)
    service = compat.ArchiveDownloadService("text_archives")
    assert service.cleanup_old_downloads(max_age_hours=24) is None
    assert not (downloads / "old_archive.zip").exists()
    assert (downloads / "fresh.zip").exists() and (downloads / "notes.txt").exists()
    assert outside.exists()
    compat.ArchiveDownloadService(str(community / "missing")).cleanup_old_downloads()


def test_read_archive_file_serves_only_files_inside_the_archive_folder(community: Path) -> None:
    service = compat.ArchiveDownloadService("text_archives")
    inside = next((community / "text_archives" / "prayers").rglob("*.txt"))
    assert service._read_archive_file(str(inside)) == inside.read_text(encoding="utf-8")
    relative = os.path.relpath(inside, community)
    assert service._read_archive_file(relative).startswith("Prayer ")
    (community / "secret.txt").write_text("secret")
    for path in ("/nonexistent/path.txt", str(community / "secret.txt"), "text_archives/../secret.txt"):
        with pytest.raises(FileNotFoundError):
            service._read_archive_file(path)


def test_private_helpers_give_what_the_zips_hold(community: Path, file_engine: Any) -> None:
    service = compat.ArchiveDownloadService("text_archives")
    path = service.create_user_archive_zip("John Lee", include_community=False)
    with zipfile.ZipFile(path) as z:
        registration = z.read("John Lee_text_archive/personal/registration.txt").decode()
        activities = z.read("John Lee_text_archive/activities/my_prayer_activities.txt").decode()
    with Session(file_engine) as db:
        row = db.execute(
            text("SELECT display_name, created_at, text_file_path FROM user WHERE display_name = 'John Lee'")
        ).one()
        marks = [
            SimpleNamespace(created_at=datetime.fromisoformat(m.created_at), prayer_id=m.prayer_id)
            for m in db.execute(
                text("SELECT created_at, prayer_id FROM prayermark WHERE username = 'John Lee' ORDER BY rowid")
            )
        ]
    user = SimpleNamespace(
        display_name=row.display_name,
        created_at=datetime.fromisoformat(row.created_at),
        text_file_path=row.text_file_path,
    )
    # Only John Lee's own line, not those of the ten users he invited.
    extracted = service._extract_user_registration(user)
    assert extracted == registration
    assert extracted.count("\n") == 2 and "John Lee" in extracted
    assert service._create_user_activity_summary(user, marks) == activities
    nobody = SimpleNamespace(display_name="X", created_at=user.created_at, text_file_path=None)
    assert service._extract_user_registration(nobody).endswith("No text archive available")
    assert service._count_zip_files(Path(path)) == len(names(path))
    (community / "bad.zip").write_text("not a zip")
    assert service._count_zip_files(community / "bad.zip") == 0
    readme = service._create_archive_readme()
    community_zip = service.create_full_community_zip()
    with zipfile.ZipFile(community_zip) as z:
        theirs = z.read("complete_site_archive/README.txt").decode()
    assert readme.split("Generated: ")[0] == theirs.split("Generated: ")[0]
    assert readme.startswith("ThyWill Text Archive")


def test_the_swap_line_makes_patches_reach_the_compat_code(
    community: Path, file_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "thywill_swapped_download", ModuleType("placeholder"))
    swapped = ModuleType("thywill_swapped_download")
    exec(
        "import sys; from thywill_core.compat import archive_download_service as _m; "
        "sys.modules[__name__] = _m",
        swapped.__dict__,
    )
    module = sys.modules["thywill_swapped_download"]
    assert module is compat
    empty = create_engine("sqlite:///:memory:")
    with patch("thywill_swapped_download.engine", empty):
        with pytest.raises(Exception):
            compat.ArchiveDownloadService("text_archives").create_user_archive_zip("John Lee")
    assert compat.ArchiveDownloadService("text_archives").create_user_archive_zip("John Lee")
