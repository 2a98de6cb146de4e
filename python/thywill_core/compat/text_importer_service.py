"""ThyWill's ``app_helpers.services.text_importer_service`` over the core's text-archive import.

Swap it in with the one line that becomes the ThyWill module's body::

    import sys; from thywill_core.compat import text_importer_service as _m; sys.modules[__name__] = _m

``engine`` (ThyWill's ``models.engine``) is read from this module's globals at each call, so
``patch("app_helpers.services.text_importer_service.engine", test_engine)`` reaches the
code. The database is handed to the core through ``compat._database``: a file engine in
place, an in-memory one (ThyWill's tests) through a serialized copy loaded back after a
write.

``import_from_archive_directory`` runs the core's ``users``, ``user_attributes`` and
``prayers`` import phases (the records ThyWill's importer reads: registrations, the user
attributes file, prayer files with their activities). Its counters count rows inserted, in
a dry run too (the same run, rolled back); ThyWill's dry run counted parsed lines.
``validate_import_consistency`` is the core's archive validation,
``repair_missing_archive_references`` its ``repair_archive_references``. What differs from ThyWill is listed in ``docs/migrating-from-thywill.md``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Optional

from thywill_core.compat._database import app_database, call_core
from thywill_core.compat.text_archive_service import TextArchiveService

logger = logging.getLogger(__name__)

try:
    from models import engine  # type: ignore[import-not-found]
except ImportError:
    # Outside the app there is no engine until a caller sets (or patches) one.
    engine = None

# The core's import phases that read what ThyWill's importer reads.
IMPORT_PHASES = ["users", "user_attributes", "prayers"]

# ThyWill's counter -> the core's import entity whose inserted rows it counts.
_IMPORT_STATS = (
    ("users_imported", "users"),
    ("prayers_imported", "prayers"),
    ("prayer_marks_imported", "prayer_marks"),
    ("prayer_attributes_imported", "prayer_attributes"),
    ("activity_logs_imported", "activity_logs"),
    ("user_attributes_imported", "user_attributes"),
)

# Validation problems of the core and where ThyWill's result lists them.
_MISSING_ARCHIVES = {"prayer_file_missing", "prayer_path_wrong", "user_path_wrong"}
_INCONSISTENCIES = {
    "unreadable_line",
    "file_differs_when_rendered",
    "prayer_file_stale",
    "duplicate_prayer_file",
    "activity_line_without_row",
}
_MISSING_DB_RECORDS = {"prayer_file_without_row", "registration_without_row"}


def _empty_stats() -> Dict[str, Any]:
    stats: Dict[str, Any] = {key: 0 for key, _ in _IMPORT_STATS}
    stats["errors"] = []
    return stats


def _issue_text(issue: Dict[str, Any]) -> str:
    """One located failure or problem of a core report, as a line for ThyWill's lists."""
    where = issue.get("file") or ""
    line = issue.get("line")
    if where and line:
        where = f"{where}:{line}"
    record = issue.get("record")
    reason = issue.get("reason") or issue.get("detail") or ""
    parts = [p for p in (where, str(record) if record else "", reason) if p]
    return ": ".join(parts)


def _stored_prefix(archive_dir: str) -> str:
    """The prefix of the paths ThyWill stores: ``str(Path(archive_dir) / relative)``."""
    return str(Path(archive_dir))


class TextImporterService:
    """Service for importing data from text archive files back to database"""

    def __init__(self, archive_service: Optional[TextArchiveService] = None):
        self.archive_service = archive_service or TextArchiveService()
        self.import_stats: Dict[str, Any] = _empty_stats()

    def import_from_archive_directory(
        self, archive_dir: Optional[str] = None, dry_run: bool = False
    ) -> Dict[str, Any]:
        """
        Import all data from an archive directory

        Args:
            archive_dir: Path to archive directory (defaults to service base_dir)
            dry_run: If True, don't actually import, just report what would be imported

        Returns:
            Dictionary with import statistics and results
        """
        if not archive_dir:
            archive_dir = str(self.archive_service.base_dir)

        archive_path = Path(archive_dir)
        if not archive_path.exists():
            return {"error": f"Archive directory not found: {archive_dir}"}

        logger.info(f"Starting import from archive directory: {archive_dir}")
        self.import_stats = _empty_stats()
        try:
            with app_database(engine, writes=not dry_run) as db_path:
                report = call_core(
                    "import_text_archive_phases",
                    str(archive_path),
                    db_path,
                    IMPORT_PHASES,
                    dry_run=dry_run,
                    path_prefix=_stored_prefix(archive_dir),
                )
            entities = report["import"]["entities"]
            for key, entity in _IMPORT_STATS:
                counts = entities.get(entity, {})
                self.import_stats[key] = counts.get("inserted", 0)
            # ThyWill counts the users whose attributes it changed.
            self.import_stats["user_attributes_imported"] += entities.get(
                "user_attributes", {}
            ).get("updated", 0)
            self.import_stats["errors"].extend(
                _issue_text(f) for f in report["import"]["failures"]
            )
            return {"success": True, "stats": self.import_stats, "dry_run": dry_run}
        except Exception as e:
            logger.error(f"Import failed: {e}")
            self.import_stats["errors"].append(f"Import failed: {e}")
            return {
                "success": False,
                "error": str(e),
                "stats": self.import_stats,
                "dry_run": dry_run,
            }

    def _validation(self, archive_dir: str) -> Dict[str, Any]:
        with app_database(engine) as db_path:
            report: Dict[str, Any] = call_core(
                "validate_archives",
                db_path,
                archive_dir,
                path_prefix=_stored_prefix(archive_dir),
                ledgers="never",
            )
        return report

    def validate_import_consistency(self, archive_dir: Optional[str] = None) -> Dict[str, Any]:
        """
        Validate consistency between archive files and database records

        Returns:
            Dictionary with validation results and any inconsistencies found
        """
        if not archive_dir:
            archive_dir = str(self.archive_service.base_dir)

        report = self._validation(archive_dir)
        results: Dict[str, Any] = {
            "prayers_checked": report["counts"]["prayers"],
            "users_checked": report["counts"]["users"],
            "inconsistencies": [],
            "missing_archives": [],
            "missing_db_records": [],
        }
        for problem in report["problems"]:
            kind = problem["kind"]
            if kind in _MISSING_ARCHIVES:
                results["missing_archives"].append(_issue_text(problem))
            elif kind in _INCONSISTENCIES:
                results["inconsistencies"].append(_issue_text(problem))
            elif kind in _MISSING_DB_RECORDS:
                results["missing_db_records"].append(_issue_text(problem))
        return results

    def repair_missing_archive_references(
        self, archive_dir: Optional[str] = None, dry_run: bool = False
    ) -> Dict[str, Any]:
        """
        Repair missing archive file references in database records

        This function attempts to find and link archive files to database records
        that are missing their text_file_path references.

        Returns:
            Dictionary with repair results
        """
        if not archive_dir:
            archive_dir = str(self.archive_service.base_dir)

        repair_results: Dict[str, Any] = {"prayers_repaired": 0, "users_repaired": 0, "errors": []}
        # The core finds, for each prayer without a stored path, the file whose title names
        # it, and sets only the path, as ThyWill's repair does (no file is written). As in
        # ThyWill, a database that cannot be read raises (the plan, a dry run) and a failed
        # write is listed in ``errors``.
        report = self._repair_references(archive_dir, dry_run=True)
        if report["repaired"] and not dry_run:
            try:
                report = self._repair_references(archive_dir, dry_run=False)
            except Exception as e:
                repair_results["errors"].append(f"Failed to repair prayers: {e}")
                return repair_results
        for repair in report["repaired"]:
            logger.info(
                f"{'DRY RUN: Would repair' if dry_run else 'Repaired'} prayer {repair['prayer_id']} archive reference"
            )
        repair_results["prayers_repaired"] = len(report["repaired"])
        return repair_results

    def _repair_references(self, archive_dir: str, dry_run: bool) -> Dict[str, Any]:
        with app_database(engine, writes=not dry_run) as db_path:
            report: Dict[str, Any] = call_core(
                "repair_archive_references",
                db_path,
                archive_dir,
                dry_run=dry_run,
                path_prefix=_stored_prefix(archive_dir),
            )
        return report

    def _parse_timestamp(self, timestamp_str: str) -> datetime:
        """Parse timestamp string into datetime object"""
        try:
            return datetime.strptime(timestamp_str, "%B %d %Y at %H:%M")
        except ValueError:
            logger.warning(f"Failed to parse timestamp: {timestamp_str}")
            return datetime.now()


# Global instance for use throughout the application
text_importer_service = TextImporterService()
