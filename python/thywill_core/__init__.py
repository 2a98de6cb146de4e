"""ThyWill's backup, archive, import and disaster-recovery engine.

Everything is implemented in Rust (``thywill_core._native``); this package
re-exports it. Errors derive from :class:`ThywillError`, one subclass per
kind of failure. Paths accept ``str`` or ``os.PathLike``. Long operations take
an optional ``progress(phase, done, total)`` callable; returning ``False``
cancels them (they then raise :class:`CancelledError`).
"""

from thywill_core._native import (
    AccessDeniedError,
    ArchiveRecords,
    ArchiveWriter,
    ArchiveFormatError,
    CancelledError,
    ConflictError,
    CorruptError,
    DatabaseError,
    EntityCounts,
    ImportReport,
    InternalError,
    InvalidInputError,
    NotFoundError,
    PrayerArchive,
    RemoteError,
    ThywillError,
    ThywillIOError,
    __version__,
    check_tree,
    file_kind,
    import_prayer_file,
    import_prayers_json,
    import_text_archives,
    iter_activity,
    iter_ledger,
    iter_users,
    parse_file,
    rerender_file,
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
    "check_tree",
    "file_kind",
    "import_prayer_file",
    "import_prayers_json",
    "import_text_archives",
    "iter_activity",
    "iter_ledger",
    "iter_users",
    "parse_file",
    "rerender_file",
]
