"""The audit trail from Python: the lines the app's calls leave, where they go, the acting
user, and reading a damaged log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import thywill_core


@pytest.fixture(autouse=True)
def _default_setting(_audit_log_apart: None) -> Iterator[None]:
    """These tests start from the default placement (conftest's fixture moves it apart)."""
    thywill_core.configure_audit()
    yield


def _entries(log: Path) -> list[dict[str, Any]]:
    report = thywill_core.read_audit(log)
    assert report["unreadable_count"] == 0
    entries: list[dict[str, Any]] = report["entries"]
    return entries


def test_calls_leave_one_line_each_beside_the_database(community: Path) -> None:
    db = community / "thywill.db"
    thywill_core.backup_create(db)
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.download_user(db, community / "text_archives", "Nobody At All")
    with thywill_core.acting_user("Miriam"):
        thywill_core.download_community(db, community / "text_archives")
    thywill_core.download_community(db, community / "text_archives")

    log = community / "thywill-audit.jsonl"
    assert thywill_core.audit_log_path(db) == str(log)
    assert (log.stat().st_mode & 0o777) == 0o600
    entries = _entries(log)
    assert [(e["operation"], e["result"]) for e in entries] == [
        ("backup.create", "ok"),
        ("download.user_zip", "failed"),
        ("download.community_zip", "ok"),
        ("download.community_zip", "ok"),
    ]
    assert entries[1]["error"]["kind"] == "not_found"
    assert entries[2]["actor"]["user"] == "Miriam"
    assert "user" not in entries[3]["actor"], "the acting user ends with its block"
    assert entries[2]["counts"]["entries"] > 0


def test_the_log_goes_where_it_is_configured_or_nowhere(community: Path, tmp_path: Path) -> None:
    db = community / "thywill.db"
    elsewhere = tmp_path / "audit" / "all.jsonl"
    elsewhere.parent.mkdir()
    thywill_core.configure_audit("file", elsewhere)
    assert thywill_core.audit_setting() == {"mode": "file", "path": str(elsewhere)}
    thywill_core.backup_create(db, tier="weekly")
    assert [e["operation"] for e in _entries(elsewhere)] == ["backup.create"]

    thywill_core.configure_audit("off")
    assert thywill_core.audit_log_path(db) is None
    thywill_core.backup_create(db, tier="hourly")
    assert len(_entries(elsewhere)) == 1
    assert not (community / "thywill-audit.jsonl").exists()

    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.configure_audit("file")
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.configure_audit("sideways")


def test_an_unwritable_log_never_fails_the_call_and_is_reported(community: Path) -> None:
    db = community / "thywill.db"
    thywill_core.configure_audit("file", community)  # a folder: no line can be written
    thywill_core.backup_create(db)
    failures = thywill_core.take_audit_failures()
    assert len(failures) == 1 and "backup.create" in failures[0]
    assert thywill_core.take_audit_failures() == []


def test_damaged_lines_are_listed_not_raised(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    log.write_bytes(b'{"time": "cut\n\xff\n')
    report = thywill_core.read_audit(log)
    assert report["entries"] == []
    assert [u["line"] for u in report["unreadable"]] == [1, 2]
    missing = thywill_core.read_audit(tmp_path / "none.jsonl")
    assert missing["exists"] is False
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.read_audit(log, since="yesterday")
