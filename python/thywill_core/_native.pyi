# Hand-written stub of the Rust module; `python -m mypy.stubtest thywill_core._native`
# checks it against the installed wheel (scripts/test.sh).
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeAlias, final

from thywill_core.backup_types import (
    CleanupReport,
    CreateAndCopyReport,
    CreateReport,
    ListReport,
    PushReport,
    RestoreFromRemoteReport,
    RestoreReport,
    Tier,
    VerifyReport,
)

__all__ = [
    "AccessDeniedError",
    "ArchiveRecords",
    "ArchiveWriter",
    "ArchiveFormatError",
    "CancelledError",
    "ConflictError",
    "CorruptError",
    "EntityCounts",
    "ImportReport",
    "DatabaseError",
    "InternalError",
    "InvalidInputError",
    "NotFoundError",
    "PrayerArchive",
    "RemoteError",
    "ThywillError",
    "ThywillIOError",
    "__version__",
    "append_line_locked",
    "backup_cleanup",
    "backup_create",
    "backup_create_and_copy",
    "backup_fetch",
    "backup_list",
    "backup_push",
    "backup_restore",
    "backup_restore_from_remote",
    "backup_verify",
    "check_tree",
    "download_cleanup",
    "download_community",
    "download_list_community",
    "download_prayer_file",
    "download_user",
    "download_user_metadata",
    "export_sessions",
    "file_kind",
    "first_free_prayer_file",
    "heal_archives",
    "import_prayer_file",
    "import_prayers_json",
    "import_phase_names",
    "import_phase_prerequisites",
    "import_text_archive_phases",
    "import_text_archives",
    "iter_activity",
    "iter_ledger",
    "iter_users",
    "parse_file",
    "prayer_file_categorization",
    "prayer_file_thywill_shape",
    "reconstruct_from_archives",
    "recovery_full",
    "recovery_report",
    "recovery_test",
    "relationship_integrity",
    "repair_archive_references",
    "rerender_file",
    "restore_sessions",
    "sync_archives",
    "sync_users",
    "take_audit_failures",
    "validate_archives",
    "validate_consistency",
    "write_file_atomic",
    "_plain_roundtrip",
    "_progress_probe",
    "_raise_core_error",
    "_sqlite_lock_probe",
    "_sqlite_version",
    "_set_acting_user",
    "audit_log_path",
    "audit_setting",
    "configure_audit",
    "read_audit",
]

__version__: str

_Path: TypeAlias = str | os.PathLike[str]
_Progress: TypeAlias = Callable[[str, int, int | None], bool | None]
"""``progress(phase, done, total)``; return False to cancel."""

class ThywillError(Exception):
    kind: ClassVar[str]
    path: str | None

class NotFoundError(ThywillError): ...
class CorruptError(ThywillError): ...
class ConflictError(ThywillError): ...
class AccessDeniedError(ThywillError): ...
class InvalidInputError(ThywillError): ...

class ArchiveFormatError(InvalidInputError):
    line: int | None
    reason: str | None

class ThywillIOError(ThywillError): ...
class DatabaseError(ThywillError): ...
class RemoteError(ThywillError): ...
class CancelledError(ThywillError): ...
class InternalError(ThywillError): ...

def _raise_core_error(variant: str, message: str) -> None: ...
def _progress_probe(phase: str, steps: int, progress: _Progress | None = None) -> int: ...
def _plain_roundtrip(value: object) -> Any: ...
def _sqlite_version() -> str: ...
def _sqlite_lock_probe(database: _Path) -> bool: ...
def _set_acting_user(user: str | None) -> None: ...

# The audit trail (docs/audit.md).
def configure_audit(mode: str = "beside_database", path: _Path | None = None) -> None: ...
def audit_setting() -> dict[str, Any]: ...
def audit_log_path(database: _Path) -> str | None: ...
def read_audit(
    path: _Path, *, since: str | None = None, operation: str | None = None
) -> dict[str, Any]: ...
def take_audit_failures() -> list[str]: ...

# --- archive -------------------------------------------------------------------------

@final
class PrayerArchive:
    """One prayer file (``prayers/YYYY/MM/YYYY_MM_DD_prayer_at_HHMM.txt``)."""

    def __new__(cls, id: str, author: str, created_at: datetime, text: str) -> PrayerArchive: ...
    @staticmethod
    def parse(text: str, path: _Path | None = None) -> PrayerArchive: ...
    @staticmethod
    def from_file(path: _Path) -> PrayerArchive: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> PrayerArchive: ...
    id: str
    author: str
    @property
    def submitted(self) -> str: ...
    @property
    def created_at(self) -> datetime | None: ...
    project_tag: str | None
    target_audience: str | None
    text: str
    generated_prayer: str | None
    @property
    def categorization(self) -> dict[str, Any] | None: ...
    @property
    def activities(self) -> list[dict[str, Any]]: ...
    @property
    def fragment(self) -> bool: ...
    @property
    def diagnostics(self) -> list[dict[str, Any]]: ...
    def render(self) -> str: ...
    def render_archive_first(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class ArchiveRecords(Iterator[dict[str, Any]]):
    """Records of a monthly file, read lazily; unreadable lines go to ``diagnostics``."""

    def __iter__(self) -> ArchiveRecords: ...
    def __next__(self) -> dict[str, Any]: ...
    @property
    def kind(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def diagnostics(self) -> list[dict[str, Any]]: ...

def iter_users(path: _Path, strict: bool = False) -> ArchiveRecords: ...
def iter_activity(path: _Path, strict: bool = False) -> ArchiveRecords: ...
def iter_ledger(path: _Path, strict: bool = False) -> ArchiveRecords: ...
def file_kind(path: _Path) -> str: ...
def rerender_file(path: _Path) -> bytes: ...
def parse_file(path: _Path) -> dict[str, Any]: ...
def check_tree(root: _Path, progress: _Progress | None = None) -> dict[str, Any]: ...
def prayer_file_thywill_shape(path: _Path) -> tuple[dict[str, Any], list[dict[str, Any]]]: ...
def prayer_file_categorization(path: _Path | None = None) -> dict[str, Any]: ...
def first_free_prayer_file(base_dir: _Path, created_at: datetime) -> str: ...
def write_file_atomic(path: _Path, content: str) -> None: ...
def append_line_locked(path: _Path, line: str) -> None: ...

@final
class ArchiveWriter:
    """ThyWill's archive-first write API; methods return the file written (None when disabled)."""

    def __new__(
        cls,
        base_dir: _Path,
        *,
        enabled: bool = True,
        categorization_metadata_export: bool = False,
        now: datetime | None = None,
    ) -> ArchiveWriter: ...
    @staticmethod
    def from_env() -> ArchiveWriter: ...
    @property
    def base_dir(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    def ensure_dirs(self) -> None: ...
    def create_prayer(self, prayer: PrayerArchive, archive_first: bool = True) -> str | None: ...
    def append_prayer_activity(
        self,
        file: _Path,
        actor: str,
        action: str,
        *,
        extra: str | None = None,
        old_value: str | None = None,
        new_value: str | None = None,
        at: datetime | None = None,
    ) -> None: ...
    def append_user_registration(
        self, name: str, invite_source: str | None = None, *, at: datetime | None = None
    ) -> str | None: ...
    def append_monthly_activity(
        self,
        action: str,
        user: str,
        prayer_id: str | None = None,
        tag: str | None = None,
        *,
        at: datetime | None = None,
    ) -> str | None: ...
    def append_prayer_attribute(
        self,
        prayer_id: str,
        name: str,
        value: str,
        user: str | None = None,
        created_at: datetime | None = None,
    ) -> str | None: ...
    def append_prayer_mark(
        self, prayer_id: str, user: str, created_at: datetime | None = None
    ) -> str | None: ...
    def append_prayer_skip(
        self, prayer_id: str, user: str, created_at: datetime | None = None
    ) -> str | None: ...

# Backups (thywill_core::backup). Reports are dicts typed in thywill_core.backup_types.
def backup_create(
    database: _Path,
    backups: _Path | None = None,
    tier: Tier = "daily",
    *,
    text_archives: _Path | None = None,
    email_database: _Path | None = None,
    integrity_check: bool = True,
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> CreateReport: ...
def backup_create_and_copy(
    database: _Path,
    backups: _Path | None = None,
    tier: Tier = "daily",
    *,
    remotes: list[str],
    text_archives: _Path | None = None,
    email_database: _Path | None = None,
    integrity_check: bool = True,
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> CreateAndCopyReport: ...
def backup_verify(
    path: _Path,
    *,
    quick: bool = False,
    require_checksum: bool = True,
    check: bool = False,
    progress: _Progress | None = None,
) -> VerifyReport: ...
def backup_list(
    backups: _Path,
    *,
    remotes: list[str] = ...,
    deep: bool = False,
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> ListReport: ...
def backup_restore(
    source: _Path,
    database: _Path,
    backups: _Path | None = None,
    *,
    safe: bool = False,
    wait: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    require_checksum: bool = True,
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> RestoreReport: ...
def backup_restore_from_remote(
    remote: str,
    name: str,
    database: _Path,
    backups: _Path | None = None,
    *,
    safe: bool = False,
    wait: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    require_checksum: bool = True,
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> RestoreFromRemoteReport: ...
def backup_cleanup(
    backups: _Path,
    *,
    dry_run: bool = False,
    hourly_hours: int | None = None,
    daily_days: int | None = None,
    weekly_weeks: int | None = None,
    pre_restore_days: int | None = None,
    pre_restore_keep: int | None = None,
    remotes: list[str] = ...,
    database: _Path | None = None,
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> CleanupReport: ...
def backup_push(path: _Path, remote: str, *, progress: _Progress | None = None) -> PushReport: ...
def backup_fetch(
    remote: str, name: str, dest: _Path, *, progress: _Progress | None = None
) -> str: ...

# --- import --------------------------------------------------------------------------

@final
class EntityCounts:
    """What happened to the records of one entity."""

    @property
    def inserted(self) -> int: ...
    @property
    def already_present(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def deleted(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def failed(self) -> int: ...
    def to_dict(self) -> dict[str, int]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class ImportReport:
    """The outcome of an import: counts per entity and located failures."""

    @property
    def operation(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def database(self) -> str: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def entities(self) -> dict[str, EntityCounts]: ...
    @property
    def failures(self) -> list[dict[str, object]]: ...
    @property
    def notes(self) -> list[dict[str, object]]: ...
    @property
    def has_failures(self) -> bool: ...
    @property
    def total_inserted(self) -> int: ...
    @property
    def total_changes(self) -> int: ...
    def counts(self, entity: str) -> EntityCounts: ...
    def to_dict(self) -> dict[str, object]: ...
    def to_json(self) -> str: ...

def import_text_archives(
    source: _Path,
    db: _Path,
    *,
    dry_run: bool = False,
    time_zone: str = "local",
    path_prefix: str = "text_archives",
    update_existing: bool = False,
    max_zip_bytes: int | None = None,
    max_zip_ratio: int | None = None,
    progress: _Progress | None = None,
) -> ImportReport: ...
def import_text_archive_phases(
    source: _Path,
    db: _Path,
    phases: list[str],
    *,
    dry_run: bool = False,
    time_zone: str = "local",
    path_prefix: str = "text_archives",
    update_existing: bool = False,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def import_phase_names() -> list[str]: ...
def import_phase_prerequisites() -> list[tuple[str, list[str]]]: ...
def import_prayers_json(
    file: _Path, db: _Path, *, dry_run: bool = False, progress: _Progress | None = None
) -> ImportReport: ...
def import_prayer_file(
    file: _Path,
    db: _Path,
    *,
    dry_run: bool = False,
    update_existing: bool = False,
    time_zone: str = "local",
    progress: _Progress | None = None,
) -> ImportReport: ...
def export_sessions(
    db: _Path,
    out: _Path | None = None,
    *,
    include_expired: bool = False,
    as_of: str | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def reconstruct_from_archives(
    archive_dir: _Path,
    db: _Path,
    *,
    dry_run: bool = False,
    time_zone: str = "local",
    path_prefix: str = "text_archives",
    as_of: str | None = None,
    max_listed: int = 50,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def restore_sessions(
    db: _Path,
    file: _Path,
    *,
    dry_run: bool = False,
    as_of: str | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...

# download
def download_user(
    db: _Path,
    archive_dir: _Path,
    name: str,
    *,
    out: _Path | None = None,
    include_community: bool = True,
    now: str | None = None,
    compression_level: int | None = None,
    path_prefix: str = "text_archives",
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def download_community(
    db: _Path,
    archive_dir: _Path,
    *,
    out: _Path | None = None,
    include_prayer_activity: bool = False,
    now: str | None = None,
    compression_level: int | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def download_user_metadata(
    db: _Path, archive_dir: _Path, name: str, *, path_prefix: str = "text_archives"
) -> dict[str, Any]: ...
def download_list_community(db: _Path, archive_dir: _Path) -> dict[str, Any]: ...
def download_prayer_file(
    db: _Path,
    archive_dir: _Path,
    prayer_id: str,
    *,
    include_flagged: bool = False,
    include_moderation: bool = False,
    path_prefix: str = "text_archives",
) -> dict[str, Any]: ...
def download_cleanup(
    archive_dir: _Path, *, max_age_seconds: int = 86400, dry_run: bool = False, every_zip: bool = False
) -> dict[str, Any]: ...

# recovery
def recovery_test(
    archive_dir: _Path,
    database: _Path,
    *,
    time_zone: str = "local",
    scratch_dir: _Path | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def recovery_full(
    archive_dir: _Path,
    database: _Path,
    backups: _Path | None = None,
    *,
    merge: bool = False,
    dry_run: bool = False,
    wait: int | None = None,
    force: bool = False,
    safety_backup: bool = True,
    time_zone: str = "local",
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...

# coverage: validate-consistency, recovery-report
def validate_consistency(
    archive_dir: _Path,
    database: _Path,
    *,
    fix: bool = False,
    dry_run: bool = False,
    time_zone: str = "local",
    scratch_dir: _Path | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def recovery_report(
    archive_dir: _Path,
    database: _Path,
    backups: _Path | None = None,
    *,
    max_backup_age_hours: int | None = None,
    time_zone: str = "local",
    now: datetime | None = None,
    progress: _Progress | None = None,
) -> dict[str, Any]: ...

# archive care
def heal_archives(
    db: _Path,
    archives: _Path,
    *,
    dry_run: bool = False,
    time_zone: str = "local",
    path_prefix: str = "text_archives",
    ledgers: str = "auto",
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def sync_archives(
    db: _Path,
    archives: _Path,
    *,
    dry_run: bool = False,
    time_zone: str = "local",
    path_prefix: str = "text_archives",
    ledgers: str = "auto",
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def sync_users(
    db: _Path,
    archives: _Path,
    *,
    dry_run: bool = False,
    path_prefix: str = "text_archives",
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def repair_archive_references(
    db: _Path,
    archives: _Path,
    *,
    dry_run: bool = False,
    path_prefix: str = "text_archives",
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
def relationship_integrity(db: _Path) -> dict[str, Any]: ...
def validate_archives(
    db: _Path,
    archives: _Path,
    *,
    time_zone: str = "local",
    path_prefix: str = "text_archives",
    ledgers: str = "auto",
    progress: _Progress | None = None,
) -> dict[str, Any]: ...
