"""ThyWill's ``app_helpers.services.text_archive_service`` over the core.

Swap it in with the one line that becomes the ThyWill module's body::

    import sys; from thywill_core.compat import text_archive_service as _m; sys.modules[__name__] = _m

The bytes written are the core's (``thywill_core.ArchiveWriter``), identical to ThyWill's.
Settings are read when ThyWill reads them: ``TEXT_ARCHIVE_ENABLED`` and
``TEXT_ARCHIVE_BASE_DIR`` from this module's globals when a ``TextArchiveService`` is built
(``app``'s values if ``app`` imports, else the environment, at import time),
``CATEGORIZATION_METADATA_EXPORT`` at each prayer creation; the writers check the instance's
``enabled`` attribute at each call. The parsers return the correct reading of a file in
ThyWill's shape; where that differs from ThyWill's reader is listed in
``docs/migrating-from-thywill.md``.
"""

from __future__ import annotations

import errno
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from thywill_core import _native

logger = logging.getLogger(__name__)

try:
    from app import (  # type: ignore[import-not-found]
        TEXT_ARCHIVE_BASE_DIR,
        TEXT_ARCHIVE_COMPRESSION_AFTER_DAYS,
        TEXT_ARCHIVE_ENABLED,
    )
except ImportError:
    # ThyWill's fallbacks outside the app; never the production directory.
    TEXT_ARCHIVE_ENABLED = os.getenv("TEXT_ARCHIVE_ENABLED", "true").lower() == "true"
    TEXT_ARCHIVE_BASE_DIR = os.getenv("TEXT_ARCHIVE_BASE_DIR", "/tmp/test_archives_fallback")
    TEXT_ARCHIVE_COMPRESSION_AFTER_DAYS = int(
        os.getenv("TEXT_ARCHIVE_COMPRESSION_AFTER_DAYS", "365")
    )


def _categorization_export_enabled() -> bool:
    """``CATEGORIZATION_METADATA_EXPORT`` as ThyWill reads it at each prayer creation."""
    try:
        from app import CATEGORIZATION_METADATA_EXPORT

        return bool(CATEGORIZATION_METADATA_EXPORT)
    except ImportError:
        return os.getenv("CATEGORIZATION_METADATA_EXPORT", "false").lower() == "true"


def _as_os_error(error: _native.ThywillError) -> OSError:
    """The built-in exception ThyWill's file operation raises for this core error."""
    path = getattr(error, "path", None)
    if isinstance(error, _native.NotFoundError):
        return FileNotFoundError(errno.ENOENT, str(error), path)
    if isinstance(error, _native.AccessDeniedError):
        return PermissionError(errno.EACCES, str(error), path)
    return OSError(errno.EIO, str(error), path)


def _text(value: Any) -> Optional[str]:
    """ThyWill formats values with f-strings: ``None`` stays absent, anything else is ``str()``."""
    return None if value is None else str(value)


class TextArchiveService:
    """Primary service for managing text archive files (ThyWill's API, the core's writers)."""

    def __init__(self, base_dir: Optional[str] = None):
        self.base_dir = Path(base_dir or TEXT_ARCHIVE_BASE_DIR)
        self.enabled = TEXT_ARCHIVE_ENABLED

        if self.enabled:
            # ThyWill creates the base folder without parents; so does this.
            self.base_dir.mkdir(exist_ok=True)
            for sub in ("prayers", "users", "activity"):
                (self.base_dir / sub).mkdir(exist_ok=True)

    def _writer(self, categorization_export: bool = False) -> _native.ArchiveWriter:
        # Built per call: `base_dir` and `enabled` are plain attributes callers reassign.
        return _native.ArchiveWriter(
            str(self.base_dir),
            enabled=True,
            categorization_metadata_export=categorization_export,
        )

    def generate_prayer_filename(self, created_at: datetime, prayer_id: int) -> str:
        """Generate unique prayer filename with conflict resolution"""
        try:
            return _native.first_free_prayer_file(str(self.base_dir), created_at)
        except _native.ThywillError as e:
            raise _as_os_error(e) from e

    def create_prayer_archive(self, prayer_data: Dict[str, Any]) -> str:
        """Create new prayer archive file with initial content"""
        if not self.enabled:
            return ""

        created_at = prayer_data.get("created_at", datetime.now())
        record: Dict[str, Any] = {
            "id": str(prayer_data["id"]),
            "author": str(prayer_data["author"]),
            "submitted": created_at.strftime("%B %d %Y at %H:%M"),
            "text": prayer_data["text"],
        }
        for key in ("project_tag", "target_audience", "generated_prayer"):
            if prayer_data.get(key):
                record[key] = str(prayer_data[key])
        categorization = prayer_data.get("categorization")
        export = False
        if categorization:
            export = _categorization_export_enabled()
            if export:
                record["categorization"] = dict(categorization)

        prayer = _native.PrayerArchive.from_dict(record)
        try:
            path = self._writer(export).create_prayer(prayer, archive_first=False)
        except _native.ThywillError as e:
            raise _as_os_error(e) from e
        file_path = path or ""
        logger.info(f"Created prayer archive: {file_path}")
        return file_path

    def parse_prayer_archive_categorization(self, archive_path: str) -> Dict[str, Any]:
        """Parse categorization metadata from prayer archive file"""
        if not self.enabled or not archive_path:
            return _native.prayer_file_categorization(None)
        return _native.prayer_file_categorization(archive_path)

    def append_prayer_activity(
        self,
        file_path: str,
        action: str,
        user: str,
        extra: str = "",
        old_value: Optional[str] = None,
        new_value: Optional[str] = None,
    ) -> None:
        """Append activity to prayer archive file with complete metadata"""
        if not self.enabled or not file_path:
            return
        self._append_activity_at(
            file_path, action, user, datetime.now(), extra, old_value, new_value
        )

    def append_prayer_activity_with_timestamp(
        self,
        file_path: str,
        action: str,
        user: str,
        activity_timestamp: datetime,
        extra: str = "",
        old_value: Optional[str] = None,
        new_value: Optional[str] = None,
    ) -> None:
        """Append activity to prayer archive file with historical timestamp"""
        if not self.enabled or not file_path:
            return
        self._append_activity_at(
            file_path, action, user, activity_timestamp, extra, old_value, new_value
        )

    def _append_activity_at(
        self,
        file_path: str,
        action: str,
        user: str,
        at: datetime,
        extra: Any,
        old_value: Any,
        new_value: Any,
    ) -> None:
        try:
            self._writer().append_prayer_activity(
                str(file_path),
                str(user),
                str(action),
                extra=_text(extra),
                old_value=_text(old_value),
                new_value=_text(new_value),
                at=at,
            )
        except _native.NotFoundError as e:
            # ThyWill re-raises a missing file (folder) and swallows every other failure:
            # archive failures must not break the app.
            logger.error(f"Archive file not found: {file_path}")
            raise _as_os_error(e) from e
        except _native.ThywillError as e:
            logger.error(f"Failed to append to archive file {file_path}: {e}")
            return
        logger.info(f"Added activity to {file_path}: {action} by {user}")

    def append_user_registration(self, user_name: str, invite_source: str = "") -> str:
        """Append user registration to monthly user file"""
        if not self.enabled:
            return ""
        return self.append_user_registration_with_timestamp(
            user_name, invite_source, datetime.now()
        )

    def append_user_registration_with_timestamp(
        self, user_name: str, invite_source: str, registration_time: datetime
    ) -> str:
        """Append user registration to monthly user file with historical timestamp"""
        if not self.enabled:
            return ""
        path = self._call(
            lambda w: w.append_user_registration(
                str(user_name), _text(invite_source) or None, at=registration_time
            )
        )
        logger.info(f"Added user registration: {user_name}")
        return path

    def append_monthly_activity(
        self, action: str, user: str, prayer_id: Optional[int] = None, tag: str = ""
    ) -> str:
        """Append activity to monthly activity file, adding date header if needed"""
        if not self.enabled:
            return ""
        path = self._call(
            lambda w: w.append_monthly_activity(
                str(action),
                str(user),
                str(prayer_id) if prayer_id else None,
                _text(tag) or None,
                at=datetime.now(),
            )
        )
        logger.info(f"Added monthly activity: {action} by {user}")
        return path

    def append_prayer_attribute(
        self,
        prayer_id: str,
        attribute_name: str,
        attribute_value: str,
        user_id: Optional[str] = None,
        created_at: Optional[datetime] = None,
    ) -> str:
        """Append prayer attribute change to monthly archive"""
        if not self.enabled:
            return ""
        at = created_at or datetime.now()
        path = self._call(
            lambda w: w.append_prayer_attribute(
                str(prayer_id),
                str(attribute_name),
                str(attribute_value),
                _text(user_id) or None,
                at,
            )
        )
        logger.info(f"Logged prayer attribute: {prayer_id}.{attribute_name} = {attribute_value}")
        return path

    def append_prayer_mark(
        self, prayer_id: str, user_id: str, created_at: Optional[datetime] = None
    ) -> str:
        """Append prayer mark to monthly archive"""
        if not self.enabled:
            return ""
        at = created_at or datetime.now()
        path = self._call(lambda w: w.append_prayer_mark(str(prayer_id), str(user_id), at))
        logger.info(f"Logged prayer mark: prayer {prayer_id} by user {user_id}")
        return path

    def append_prayer_skip(
        self, prayer_id: str, user_id: str, created_at: Optional[datetime] = None
    ) -> str:
        """Append prayer skip to monthly archive"""
        if not self.enabled:
            return ""
        at = created_at or datetime.now()
        path = self._call(lambda w: w.append_prayer_skip(str(prayer_id), str(user_id), at))
        logger.info(f"Logged prayer skip: prayer {prayer_id} by user {user_id}")
        return path

    def _call(self, write: Any) -> str:
        """Runs one monthly-file write; core errors become the OSError ThyWill's write raises."""
        try:
            path = write(self._writer())
        except _native.ThywillError as e:
            raise _as_os_error(e) from e
        return str(path or "")

    def _write_file_atomic(self, file_path: str, content: str) -> None:
        """Write file atomically using temporary file and rename"""
        try:
            _native.write_file_atomic(file_path, content)
        except _native.ThywillError as e:
            raise _as_os_error(e) from e

    def _append_to_file(self, file_path: str, content: str) -> None:
        """Thread-safe append operation with file locking"""
        try:
            _native.append_line_locked(file_path, content)
        except _native.NotFoundError as e:
            logger.error(f"Archive file not found: {file_path}")
            raise _as_os_error(e) from e
        except _native.ThywillError as e:
            logger.error(f"Failed to append to archive file {file_path}: {e}")

    def read_archive_file(self, file_path: str) -> str:
        """Read archive file content"""
        try:
            with open(file_path, "r", encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            logger.error(f"Archive file not found: {file_path}")
            raise

    def parse_prayer_archive(self, file_path: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
        """Parse prayer archive file into structured data: ``(prayer_data, activities)``."""
        try:
            return _native.prayer_file_thywill_shape(file_path)
        except _native.NotFoundError as e:
            logger.error(f"Archive file not found: {file_path}")
            raise _as_os_error(e) from e


# Global instance for use throughout the application
text_archive_service = TextArchiveService()
