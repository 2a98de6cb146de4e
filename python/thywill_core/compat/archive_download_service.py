"""ThyWill's ``app_helpers.services.archive_download_service`` over the core.

Swap it in with the one line that becomes the ThyWill module's body::

    import sys; from thywill_core.compat import archive_download_service as _m; sys.modules[__name__] = _m

``ArchiveDownloadService(archive_base_dir)`` has ThyWill's methods, parameters, defaults and
return shapes; the ZIPs, the metadata and the listing are the core's
(``thywill_core.download_*``, docs/downloads.md), written under its privacy rules. ``engine``
and ``Session`` are read from this module's globals at each call, as ThyWill reads them (its
tests patch both): the database is the one behind ``Session(engine)``, handed to the core
through ``thywill_core.compat._database``. What differs from ThyWill (flagged prayers, who
prayed, paths outside the archive folder, ...) is listed in ``docs/migrating-from-thywill.md``.
"""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List

from thywill_core import _native
from thywill_core.compat._database import app_database, call_core

from sqlalchemy import inspect as _inspect

try:
    from sqlmodel import Session  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # outside the app: SQLAlchemy's own session
    from sqlalchemy.orm import Session

try:
    # ThyWill's names, as its module has them; outside the app the caller sets ``engine``.
    from models import (  # type: ignore[import-not-found]  # noqa: F401
        Prayer,
        PrayerAttribute,
        PrayerMark,
        User,
        engine,
    )
except ImportError:
    engine = None

# What ThyWill's stored relative paths start with: its archive folder as the app names it.
_PATH_PREFIX = "text_archives"


@contextmanager
def _database(*, community: bool = False) -> Iterator[str]:
    """A SQLite file holding the database behind ``Session(engine)`` (this module's globals,
    read now), for the core to open read-only.

    With ``community`` (the community ZIP and the listing, which need only the flagged
    prayers), an app database without a ``prayer`` table (a fresh in-memory engine) has no
    flagged prayers: an empty stand-in is given for it.
    """
    with Session(engine) as db:
        bind = getattr(db, "bind", None) or engine
        if community and not _inspect(bind).has_table("prayer"):
            with tempfile.TemporaryDirectory(prefix="thywill-noprayers-") as folder:
                yield _no_prayers_database(Path(folder))
            return
        with app_database(bind, writes=False) as path:
            yield path


def _no_prayers_database(folder: Path) -> str:
    """A new SQLite file in ``folder`` with an empty ``prayer`` table."""
    path = folder / "no_prayers.db"
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE prayer (id TEXT PRIMARY KEY, flagged BOOLEAN)")
        conn.commit()
    finally:
        conn.close()
    return str(path)


def _str_of_time(value: Any) -> str:
    """``f"{created_at}"`` as ThyWill formats it."""
    return str(value)


class ArchiveDownloadService:
    """ThyWill's archive downloads: a user's ZIP, the community ZIP, metadata, the listing,
    cleanup (the core's, under its privacy rules)."""

    def __init__(self, archive_base_dir: str):
        self.archive_dir = Path(archive_base_dir)

    def _zip_path(self, report: Dict[str, Any]) -> str:
        """The ZIP's path as ThyWill returns it: ``<archive dir>/downloads/<name>``."""
        return str(self.archive_dir / "downloads" / report["file_name"])

    def create_user_archive_zip(self, user_id: str, include_community: bool = True) -> str:
        """Create ZIP file containing all user's text archives"""
        try:
            with _database() as db_path:
                report = call_core(
                    "download_user",
                    db_path,
                    self.archive_dir,
                    user_id,
                    include_community=include_community,
                    path_prefix=_PATH_PREFIX,
                )
        except _native.NotFoundError as error:
            if not self.archive_dir.is_dir():
                raise FileNotFoundError(f"Archive folder not found: {self.archive_dir}") from error
            raise ValueError(f"User {user_id} not found") from error
        return self._zip_path(report)

    def create_full_community_zip(self) -> str:
        """Create ZIP of entire community text archive"""
        if not self.archive_dir.is_dir():
            # ThyWill wrote a ZIP of the two generated files, then failed to create
            # ``downloads/`` in a folder that is not there.
            raise FileNotFoundError(f"Archive folder not found: {self.archive_dir}")
        with _database(community=True) as db_path:
            report = call_core("download_community", db_path, self.archive_dir)
        return self._zip_path(report)

    def get_user_archive_metadata(self, user_id: str) -> Dict[str, Any]:
        """Get comprehensive metadata about user's archives"""
        try:
            with _database() as db_path:
                metadata: Dict[str, Any] = call_core(
                    "download_user_metadata",
                    db_path,
                    self.archive_dir,
                    user_id,
                    path_prefix=_PATH_PREFIX,
                )
        except _native.NotFoundError as error:
            raise ValueError(f"User {user_id} not found") from error
        return metadata

    def list_community_archives(self) -> List[Dict[str, Any]]:
        """List all community archive files with metadata"""
        if not self.archive_dir.is_dir():
            return []
        with _database(community=True) as db_path:
            listing = call_core("download_list_community", db_path, self.archive_dir)
        archives: List[Dict[str, Any]] = listing["archives"]
        return archives

    def cleanup_old_downloads(self, max_age_hours: int = 24) -> None:
        """Clean up old download files"""
        try:
            call_core(
                "download_cleanup",
                self.archive_dir,
                max_age_seconds=max(int(max_age_hours * 3600), 0),
                every_zip=True,
            )
        except _native.ThywillError:
            pass  # ThyWill swallows what it cannot remove

    def _read_archive_file(self, file_path: str) -> str:
        """Read archive file, handling both uncompressed and compressed"""
        path = Path(file_path)
        # Only files inside the archive folder are served (ThyWill read any path it was
        # given, such as /etc/hostname); anything else is "not found", as ThyWill's callers
        # expect of a path that cannot be served.
        try:
            real = path.resolve(strict=True)
            inside = real.is_relative_to(self.archive_dir.resolve())
        except OSError:
            inside = False
        if not inside or not real.is_file():
            raise FileNotFoundError(f"Archive file not found: {file_path}")
        return real.read_text(encoding="utf-8")

    def _extract_user_registration(self, user: Any) -> str:
        """Extract user registration info from monthly file"""
        if not user.text_file_path:
            return (
                f"User: {user.display_name}\nRegistered: {_str_of_time(user.created_at)}\n"
                "No text archive available"
            )
        try:
            content = self._read_archive_file(user.text_file_path)
            # The user's own registration lines, read by the core's parser (ThyWill took
            # every line containing the name: invitees' lines, longer names).
            wanted = {
                record["line"]
                for record in _native.iter_users(Path(user.text_file_path).resolve())
                if record["name"] == user.display_name
            }
            user_lines = [
                line for number, line in enumerate(content.split("\n"), 1) if number in wanted
            ]
            if user_lines:
                return "User Registration Information:\n\n" + "\n".join(user_lines)
            return (
                f"User: {user.display_name}\nRegistered: {_str_of_time(user.created_at)}\n"
                "Details not found in archive"
            )
        except Exception:
            return (
                f"User: {user.display_name}\nRegistered: {_str_of_time(user.created_at)}\n"
                "Archive file could not be read"
            )

    def _create_user_activity_summary(self, user: Any, user_marks: List[Any]) -> str:
        """Create summary of user's prayer activities"""
        # The text of the user ZIP's ``my_prayer_activities.txt`` (the core writes the same
        # from the database; a test compares them): days sorted as text, a kept quirk.
        content = f"Prayer Activities for {user.display_name}\n"
        content += "=" * 50 + "\n\n"
        if not user_marks:
            content += "No prayer activities found.\n"
            return content
        by_day: Dict[str, List[str]] = {}
        for mark in user_marks:
            if mark.created_at:
                day = mark.created_at.strftime("%B %d %Y")
                by_day.setdefault(day, []).append(
                    f"{mark.created_at.strftime('%H:%M')} - Prayed for prayer {mark.prayer_id}"
                )
        for day in sorted(by_day):
            content += f"{day}\n"
            for activity in by_day[day]:
                content += f"{activity}\n"
            content += "\n"
        return content

    def _count_zip_files(self, zip_path: Path) -> int:
        """Count files in a ZIP archive"""
        try:
            with zipfile.ZipFile(zip_path, "r") as zf:
                return len(zf.namelist())
        except Exception:
            return 0

    def _create_archive_readme(self) -> str:
        """Create README content for archive downloads"""
        # The community ZIP's README.txt, which the core generates.
        return _native_readme(datetime.now())


def _native_readme(now: datetime) -> str:
    """The core's community ``README.txt`` for the export time ``now``, read from a community
    ZIP of an empty archive folder."""
    with tempfile.TemporaryDirectory(prefix="thywill-readme-") as folder:
        root = Path(folder) / "archive"
        root.mkdir()
        report = call_core(
            "download_community",
            _no_prayers_database(Path(folder)),
            root,
            out=Path(folder) / "readme.zip",
            now=now.replace(microsecond=0).isoformat(),
        )
        with zipfile.ZipFile(report["path"]) as z:
            return z.read("complete_site_archive/README.txt").decode("utf-8")
