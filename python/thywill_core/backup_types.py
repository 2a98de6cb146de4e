"""Types of the reports the ``backup_*`` functions return (plain dicts at runtime).

Timestamps are ISO strings of local time (``2025-01-01T02:00:00``); paths are strings.
"""

from __future__ import annotations

from typing import Literal, TypedDict

Tier = Literal["hourly", "daily", "weekly"]
VerifyStatus = Literal["ok", "not_found", "corrupt", "no_checksum", "not_thywill", "not_a_file"]


class SourceIdentity(TypedDict):
    path: str
    kind: Literal["thywill", "email", "other"]


class OpenProcess(TypedDict):
    pid: int
    command_line: str | None
    files: list[str]


class ManifestMember(TypedDict):
    role: Literal["database", "text_archives", "email_database"]
    file: str
    size: int
    sha256: str


class Verification(TypedDict):
    integrity_check: list[str]
    checked_at: str
    table_row_counts: dict[str, int]


class CreateReport(TypedDict):
    name: str
    kind: dict[str, str] | str
    path: str
    checksum_file: str
    manifest_file: str
    source_database: str
    source: SourceIdentity
    members: list[ManifestMember]
    pages: int
    verification: Verification | None
    removed_stale_files: list[str]
    duration_ms: int


class MemberCheck(TypedDict):
    role: str
    file: str
    ok: bool


class VerifyReport(TypedDict):
    path: str
    file_exists: bool
    checksum_file_found: bool
    checksum_verified: bool
    database_integrity_ok: bool
    errors: list[str]
    warnings: list[str]
    status: VerifyStatus
    manifest_found: bool
    members: list[MemberCheck]
    integrity_check: list[str]
    missing_tables: list[str]
    table_row_counts: dict[str, int]
    sha256: str | None
    size: int | None


class BackupEntry(TypedDict):
    location: dict[str, str]
    name: str
    kind: dict[str, str] | str
    timestamp: str
    age_seconds: int
    size: int
    path: str
    verified: bool
    complete: bool
    source: SourceIdentity | None
    files: list[str]


class RemoteFailure(TypedDict):
    target: str
    error: str


class ListReport(TypedDict):
    backup_root: str
    entries: list[BackupEntry]
    remote_failures: list[RemoteFailure]


class SchemaUpgradeReport(TypedDict):
    changes: list[dict[str, str]]
    planned_only: bool


class RestoreReport(TypedDict):
    source: str
    database: str
    mode: Literal["plain", "safe"]
    dry_run: bool
    verification: VerifyReport
    previous_database_existed: bool
    safety_backup: CreateReport | None
    removed_side_files: list[str]
    other_processes: list[OpenProcess]
    removed_stale_files: list[str]
    quick_check: list[str]
    schema: SchemaUpgradeReport | None
    warnings: list[str]
    duration_ms: int


class CleanupAction(TypedDict):
    location: dict[str, str]
    name: str
    kind: dict[str, str] | str
    timestamp: str
    action: Literal["keep", "delete"]
    reason: dict[str, object]
    explanation: str
    files: list[str]
    bytes: int
    deleted: bool


class RetentionPolicy(TypedDict):
    hourly_hours: int
    daily_days: int
    weekly_weeks: int
    pre_restore_days: int
    pre_restore_keep: int


class CleanupReport(TypedDict):
    dry_run: bool
    policy: RetentionPolicy
    actions: list[CleanupAction]
    deleted_sets: int
    freed_bytes: int
    remote_failures: list[RemoteFailure]
    removed_stale_files: list[str]


class PushedMember(TypedDict):
    key: str
    size: int
    verified: bool


class PushReport(TypedDict):
    target: str
    name: str
    members: list[PushedMember]
    manifest_key: str


class CreateAndCopyReport(TypedDict):
    backup: CreateReport
    remotes: list[PushReport]
    remote_failures: list[RemoteFailure]


class FetchedMember(TypedDict):
    file: str
    size: int


class FetchReport(TypedDict):
    target: str
    name: str
    database: str
    members: list[FetchedMember]


class RestoreFromRemoteReport(TypedDict):
    target: str
    name: str
    fetch: FetchReport
    restore: RestoreReport
    warnings: list[str]
