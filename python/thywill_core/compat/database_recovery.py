"""ThyWill's ``app_helpers.services.database_recovery`` over the core's text-archive import.

Swap it in with the one line that becomes the ThyWill module's body::

    import sys; from thywill_core.compat import database_recovery as _m; sys.modules[__name__] = _m

``CompleteSystemRecovery`` keeps ThyWill's per-phase methods, its ``recovery_stats`` dict
(the same keys, ``errors`` and ``warnings``) and ``perform_complete_recovery(dry_run)``'s
result. Each method runs the core's import phases (``import_text_archive_phases``) into the
app's database (``engine``, read from this module's globals at each call, handed over by
``compat._database``): like ThyWill's, a recovery merges into the existing database.

The counters count rows inserted, in a dry run too (the same run, rolled back), so a second
run reports 0 where ThyWill repeated its line counts. A phase method runs the phases its own
need first (``import_phase_prerequisites``) in the same run and counts what they add:
``import_enhanced_prayer_data`` on an empty database also imports the users and prayers its
ledgers name.
What else differs from ThyWill is listed in ``docs/migrating-from-thywill.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from thywill_core.compat._database import app_database, call_core
from thywill_core.compat.text_archive_service import TextArchiveService
from thywill_core.compat.text_importer_service import TextImporterService

logger = logging.getLogger(__name__)

try:
    from models import engine  # type: ignore[import-not-found]
except ImportError:
    # Outside the app there is no engine until a caller sets (or patches) one.
    engine = None

# ThyWill's steps and the core's import phases that do their work.
CORE_DATA_PHASES = ["users", "user_attributes", "prayers"]
AUTHENTICATION_PHASES = ["auth", "security_events", "notifications", "auth_audit_logs"]
ROLE_PHASES = ["roles"]
SYSTEM_STATE_PHASES = ["invites", "sessions"]
SESSION_PHASES = ["sessions"]
MEMBERSHIP_PHASES = ["membership_applications"]
ENHANCED_PRAYER_PHASES = ["ledgers"]

_STAT_KEYS = (
    "users_recovered",
    "prayers_recovered",
    "prayer_marks_recovered",
    "prayer_attributes_recovered",
    "prayer_skips_recovered",
    "roles_recovered",
    "role_assignments_recovered",
    "auth_requests_recovered",
    "auth_approvals_recovered",
    "auth_audit_logs_recovered",
    "security_events_recovered",
    "invite_tokens_recovered",
    "invite_token_usage_recovered",
    "sessions_recovered",
    "membership_applications_recovered",
    "notifications_recovered",
)

# The core's integrity counts (``relationship_integrity``) and ThyWill's warnings for them.
_INTEGRITY_WARNINGS = (
    ("prayers_without_author", "Found {} prayers with missing authors"),
    ("users_with_missing_inviter", "Found {} users with broken invite relationships"),
    ("role_grants_without_user", "Found {} role assignments for missing users"),
)


def _issue_text(issue: Dict[str, Any]) -> str:
    where = issue.get("file") or ""
    if where and issue.get("line"):
        where = f"{where}:{issue['line']}"
    reason = issue.get("reason") or issue.get("detail") or ""
    return ": ".join(p for p in (where, reason) if p)


def _with_prerequisites(phases: Iterable[str]) -> List[str]:
    """``phases`` and every phase they need first, in the core's order."""
    needs = dict(call_core("import_phase_prerequisites"))
    wanted: set[str] = set()
    stack = list(phases)
    while stack:
        phase = stack.pop()
        if phase not in wanted:
            wanted.add(phase)
            stack.extend(needs.get(phase, []))
    return [p for p in call_core("import_phase_names") if p in wanted]


class CompleteSystemRecovery:
    """Service for complete database reconstruction from text archives"""

    def __init__(self, archive_dir: Optional[str] = None):
        self.archive_dir = Path(archive_dir) if archive_dir else Path("text_archives")
        # Built on first use, as ThyWill's are: building one creates archive folders.
        self._archive_service: Optional[TextArchiveService] = None
        self._text_importer: Optional[TextImporterService] = None

        self.recovery_stats: Dict[str, Any] = {key: 0 for key in _STAT_KEYS}
        self.recovery_stats["errors"] = []
        self.recovery_stats["warnings"] = []

    @property
    def archive_service(self) -> TextArchiveService:
        """Lazy-load archive service to avoid auto-creating directories"""
        if self._archive_service is None:
            self._archive_service = TextArchiveService(str(self.archive_dir))
        return self._archive_service

    @property
    def text_importer(self) -> TextImporterService:
        """Lazy-load text importer to avoid auto-creating directories"""
        if self._text_importer is None:
            self._text_importer = TextImporterService(self.archive_service)
        return self._text_importer

    # ── Running the core's phases ────────────────────────────────────────

    def _import(self, phases: List[str], dry_run: bool) -> Dict[str, Any]:
        with app_database(engine, writes=not dry_run) as db_path:
            report: Dict[str, Any] = call_core(
                "import_text_archive_phases",
                str(self.archive_dir),
                db_path,
                phases,
                dry_run=dry_run,
                path_prefix=str(self.archive_dir),
            )
        return report

    def _merge_report(self, report: Dict[str, Any]) -> None:
        stats = report["recovery_stats"]
        for key in _STAT_KEYS:
            self.recovery_stats[key] += stats.get(key, 0)
        self.recovery_stats["errors"].extend(
            _issue_text(f) for f in report["import"]["failures"]
        )

    def _run_phases(self, phases: List[str], dry_run: bool) -> None:
        """Runs ``phases`` after the phases they need (one run, each phase its own
        transaction), and adds what the run did to the stats: a dry run reports the real
        run's numbers."""
        self._merge_report(self._import(_with_prerequisites(phases), dry_run))

    # ── ThyWill's steps ──────────────────────────────────────────────────

    def perform_complete_recovery(self, dry_run: bool = False) -> Dict[str, Any]:
        """
        Perform complete database recovery from text archives

        Args:
            dry_run: If True, simulate recovery without making changes

        Returns:
            Dict with recovery results and statistics
        """
        logger.info("Starting complete database recovery from text archives")
        try:
            self._validate_archive_structure()
            self._note_missing_archives()
            # One run of every phase, in the core's order (each its own transaction).
            self._merge_report(self._import(call_core("import_phase_names"), dry_run))
            self.validate_recovery_integrity()
            self.handle_missing_data(dry_run=dry_run)
            return {"success": True, "stats": self.recovery_stats, "dry_run": dry_run}
        except Exception as e:
            logger.error(f"Complete recovery failed: {e}")
            self.recovery_stats["errors"].append(f"Recovery failed: {str(e)}")
            return {"success": False, "error": str(e), "stats": self.recovery_stats}

    def _note_missing_archives(self) -> None:
        """ThyWill's warnings for the archive folders its steps look for."""
        if not (self.archive_dir / "auth").exists():
            self.recovery_stats["warnings"].append("No authentication archives found")
        if not (self.archive_dir / "roles").exists():
            self.recovery_stats["warnings"].append("No role system archives found")
        system_dir = self.archive_dir / "system"
        if not system_dir.exists():
            self.recovery_stats["warnings"].append("No system state archives found")
        elif (system_dir / "system_config.txt").exists():
            self.recovery_stats["warnings"].append(
                "System configuration found - manual reconfiguration may be needed"
            )

    def import_authentication_data(self, dry_run: bool = False) -> None:
        """Import authentication requests, approvals, and security events"""
        if not (self.archive_dir / "auth").exists():
            self.recovery_stats["warnings"].append("No authentication archives found")
        self._run_phases(AUTHENTICATION_PHASES, dry_run)

    def import_role_system(self, dry_run: bool = False) -> None:
        """Import role definitions and assignments"""
        if not (self.archive_dir / "roles").exists():
            self.recovery_stats["warnings"].append("No role system archives found")
        self._run_phases(ROLE_PHASES, dry_run)

    def import_system_state(self, dry_run: bool = False) -> None:
        """Import system configuration and invite tokens"""
        system_dir = self.archive_dir / "system"
        if not system_dir.exists():
            self.recovery_stats["warnings"].append("No system state archives found")
        elif (system_dir / "system_config.txt").exists():
            logger.info("System configuration reference: %s", system_dir / "system_config.txt")
            self.recovery_stats["warnings"].append(
                "System configuration found - manual reconfiguration may be needed"
            )
        self._run_phases(SYSTEM_STATE_PHASES, dry_run)

    def import_sessions(self, dry_run: bool = False) -> None:
        """Import session archives (monthly session logs and the active-sessions snapshot)"""
        self._run_phases(SESSION_PHASES, dry_run)

    def import_membership_applications(self, dry_run: bool = False) -> None:
        """Import membership applications"""
        self._run_phases(MEMBERSHIP_PHASES, dry_run)

    def import_enhanced_prayer_data(self, dry_run: bool = False) -> None:
        """Import enhanced prayer metadata from new archive formats"""
        if not (self.archive_dir / "prayers").exists():
            return
        self._run_phases(ENHANCED_PRAYER_PHASES, dry_run)

    def validate_recovery_integrity(self) -> None:
        """Validate the integrity of recovered data"""
        with app_database(engine) as db_path:
            if not Path(db_path).exists():
                return  # no database yet (a dry run creates none): nothing is orphaned
            report = call_core("relationship_integrity", db_path)
        for key, message in _INTEGRITY_WARNINGS:
            if report[key]:
                self.recovery_stats["warnings"].append(message.format(report[key]))

    def handle_missing_data(self, dry_run: bool = False) -> None:
        """Handle missing or incomplete data with sensible defaults"""
        # ThyWill granted `admin` to the first user row when no grant named it; a recovery
        # here grants nothing the archives do not say (docs/migrating-from-thywill.md).
        logger.info("Handled missing data with defaults")

    def _validate_archive_structure(self) -> None:
        """Validate that the archive directory has the expected structure"""
        if not self.archive_dir.exists():
            raise ValueError(f"Archive directory not found: {self.archive_dir}")

        for dir_name in ("prayers", "users", "activity"):
            if not (self.archive_dir / dir_name).exists():
                self.recovery_stats["warnings"].append(f"Missing core directory: {dir_name}")

        logger.info("Archive structure validation complete")

    def _recover_authentication_requests(self, session: Any = None) -> Dict[str, Any]:
        """Test-friendly method to recover authentication requests and return stats"""
        # The auth phase: requests and approvals of `auth/`. ThyWill read a root-level
        # `authentication_requests.txt` here, a file none of its writers makes; it is not read.
        self._run_phases(["auth"], dry_run=False)
        return self.recovery_stats

    def _merge_stats(self, other_stats: Dict[str, Any]) -> None:
        """Merge statistics from another import operation"""
        for key, value in other_stats.items():
            if key in self.recovery_stats:
                if isinstance(value, int):
                    self.recovery_stats[key] += value
                elif isinstance(value, list):
                    self.recovery_stats[key].extend(value)


# Global recovery service instance
recovery_service = CompleteSystemRecovery()
