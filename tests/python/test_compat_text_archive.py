"""thywill_core.compat.text_archive_service: ThyWill's TextArchiveService over the core.

Bytes are checked against the examples of the archive format spec and against prayer files
ThyWill itself wrote (the s1 corpus); the swap line, patches, env reading moments and
ThyWill's return shapes are checked on a stand-in ThyWill package built in a temp dir.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest.mock import patch

import pytest

import thywill_core

T = datetime(2025, 7, 6, 9, 5)
MODULE = "thywill_core.compat.text_archive_service"
THYWILL_MODULE = "app_helpers.services.text_archive_service"


def _fresh_import(name: str) -> ModuleType:
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "text_archives"


@pytest.fixture
def compat(base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The compat module imported fresh with ThyWill's env settings pointing into a temp dir."""
    monkeypatch.setenv("TEXT_ARCHIVE_BASE_DIR", str(base))
    monkeypatch.setenv("TEXT_ARCHIVE_ENABLED", "true")
    monkeypatch.delenv("CATEGORIZATION_METADATA_EXPORT", raising=False)
    yield _fresh_import(MODULE)
    sys.modules.pop(MODULE, None)


@pytest.fixture
def thywill_checkout(tmp_path: Path, compat: ModuleType) -> Iterator[Path]:
    """A stand-in for ThyWill's package whose module body is the documented swap line."""
    root = tmp_path / "checkout"
    services = root / "app_helpers" / "services"
    services.mkdir(parents=True)
    (root / "app_helpers" / "__init__.py").write_text("")
    (services / "__init__.py").write_text("")
    (services / "text_archive_service.py").write_text(
        "import sys; from thywill_core.compat import text_archive_service as _m; "
        "sys.modules[__name__] = _m\n"
    )
    (services / "star_imported.py").write_text(
        "from thywill_core.compat.text_archive_service import *\n"
    )
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "app_helpers" or n.startswith("app_helpers.")]:
            del sys.modules[name]


def test_swap_line_makes_thywills_module_the_compat_module(
    thywill_checkout: Path, compat: ModuleType
) -> None:
    swapped = importlib.import_module(THYWILL_MODULE)
    assert swapped is compat
    from app_helpers.services.text_archive_service import TextArchiveService, text_archive_service

    assert TextArchiveService is compat.TextArchiveService
    assert text_archive_service is compat.text_archive_service
    assert sys.modules["app_helpers.services"].text_archive_service is compat  # type: ignore[attr-defined]


def test_patching_thywills_module_global_reaches_the_compat_code(
    thywill_checkout: Path, compat: ModuleType, base: Path
) -> None:
    from app_helpers.services.text_archive_service import TextArchiveService

    with patch(f"{THYWILL_MODULE}.TEXT_ARCHIVE_ENABLED", False):
        service = TextArchiveService(base_dir=str(base / "patched"))
        assert service.enabled is False
        assert service.create_prayer_archive({"id": 1, "author": "A", "text": "t"}) == ""
    assert not (base / "patched").exists()
    assert compat.TEXT_ARCHIVE_ENABLED is True
    assert TextArchiveService(base_dir=str(base)).enabled is True


def test_star_import_leaves_patches_behind(thywill_checkout: Path, compat: ModuleType, base: Path) -> None:
    # Why the migration guide says a star import is unsupported: the patch lands on the
    # importing module, the compat code reads its own global, the patch does nothing.
    star = importlib.import_module("app_helpers.services.star_imported")
    with patch("app_helpers.services.star_imported.TEXT_ARCHIVE_ENABLED", False):
        assert star.TextArchiveService(base_dir=str(base)).enabled is True


def test_assigning_enabled_on_the_singleton_disables_every_writer(
    thywill_checkout: Path, compat: ModuleType, base: Path
) -> None:
    from app_helpers.services import text_archive_service as module

    singleton = module.text_archive_service
    assert singleton.base_dir == base and singleton.enabled is True
    singleton.enabled = False
    assert singleton.create_prayer_archive({}) == ""
    assert singleton.append_user_registration("test", "test") == ""
    assert singleton.append_user_registration_with_timestamp("a", "", T) == ""
    assert singleton.append_monthly_activity("test", "test") == ""
    assert singleton.append_prayer_attribute(1, "answered", "true") == ""
    assert singleton.append_prayer_mark(1, 2) == ""
    assert singleton.append_prayer_skip(1, 2) == ""
    assert singleton.append_prayer_activity("some/file.txt", "prayed", "Ann") is None
    assert singleton.parse_prayer_archive_categorization("some/file.txt")[
        "categorization_method"
    ] == "default_fallback"
    assert sorted(p.name for p in base.iterdir()) == ["activity", "prayers", "users"]
    assert not any(base.rglob("*.txt"))


def test_settings_are_read_when_thywill_reads_them(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # TEXT_ARCHIVE_ENABLED / _BASE_DIR: at import (only a case-insensitive "true" enables).
    monkeypatch.setenv("TEXT_ARCHIVE_BASE_DIR", str(base))
    monkeypatch.setenv("TEXT_ARCHIVE_ENABLED", "1")
    module = _fresh_import(MODULE)
    try:
        assert module.TEXT_ARCHIVE_ENABLED is False
        assert module.text_archive_service.enabled is False
        monkeypatch.setenv("TEXT_ARCHIVE_ENABLED", "TRUE")
        assert module.TextArchiveService().enabled is False  # read at import, not per instance
        module = _fresh_import(MODULE)
        assert module.text_archive_service.enabled is True
        assert module.TEXT_ARCHIVE_BASE_DIR == str(base)
        assert (base / "prayers").is_dir() and (base / "users").is_dir()

        # CATEGORIZATION_METADATA_EXPORT: at each prayer creation.
        data = {
            "id": "c1",
            "author": "A",
            "text": "t",
            "created_at": T,
            "categorization": {"subject_category": "health"},
        }
        service = module.text_archive_service
        without = Path(service.create_prayer_archive(data)).read_text()
        assert "Category:" not in without
        monkeypatch.setenv("CATEGORIZATION_METADATA_EXPORT", "true")
        with_block = Path(service.create_prayer_archive(data)).read_text()
        assert with_block.startswith(
            "Prayer c1 by A\nSubmitted July 06 2025 at 09:05\n"
            "Safety Score: 1.0\nSafety Flags: []\nCategory: health\nSpecificity: unknown\n"
            "Categorization Method: default\nCategorization Confidence: 0.0\n\nt\n"
        )
    finally:
        sys.modules.pop(MODULE, None)


def test_create_and_append_write_the_spec_example_bytes(
    compat: ModuleType, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATEGORIZATION_METADATA_EXPORT", "true")
    service = compat.TextArchiveService(base_dir=str(base))
    path = service.create_prayer_archive(
        {
            "id": "temp",
            "author": "Mary Jo",
            "text": "Please pray for my mom.\r\nShe is sick: really.\n\nThanks",
            "generated_prayer": "Lord, heal her.\n\nAmen.",
            "created_at": T,
            "categorization": {
                "safety_score": 1.0,
                "safety_flags": ["a", "é"],
                "subject_category": "health",
                "specificity_type": "specific",
                "categorization_method": "disabled",
                "categorization_confidence": 0.0,
            },
        }
    )
    assert path == str(base / "prayers/2025/07/2025_07_06_prayer_at_0905.txt")
    at = service.append_prayer_activity_with_timestamp
    at(path, "prayed", "Bob Smith", T)
    at(path, "prayed", "Ann", datetime(2025, 7, 6, 23, 59))
    at(path, "answered", "Mary Jo", T)
    at(path, "testimony", "Mary Jo", T, "God is good")
    at(path, "archived", "Mary Jo", T)
    at(path, "restored", "Mary Jo", T)
    at(path, "flagged", "Mod", T)
    at(path, "set_answer_date", "Mary Jo", T, "", "2025-01-01", "2025-02-02")
    at(path, "set_answered", "Mary Jo", T, new_value="true")
    at(path, "remove_archived", "Mary Jo", T, old_value="true")
    at(path, "unflagged", "Mod", T, "because")
    at(path, "unflagged", "Mod", T)
    assert Path(path).read_bytes() == (
        "Prayer temp by Mary Jo\nSubmitted July 06 2025 at 09:05\nSafety Score: 1.0\n"
        'Safety Flags: ["a", "\\u00e9"]\nCategory: health\nSpecificity: specific\n'
        "Categorization Method: disabled\nCategorization Confidence: 0.0\n\n"
        "Please pray for my mom.\r\nShe is sick: really.\n\nThanks\n\n"
        "Generated Prayer:\nLord, heal her.\n\nAmen.\n\nActivity:\n"
        "July 06 2025 at 09:05 - Bob Smith prayed this prayer\n"
        "July 06 2025 at 23:59 - Ann prayed this prayer\n"
        "July 06 2025 at 09:05 - Mary Jo marked this prayer as answered\n"
        "July 06 2025 at 09:05 - Mary Jo added testimony: God is good\n"
        "July 06 2025 at 09:05 - Mary Jo archived this prayer\n"
        "July 06 2025 at 09:05 - Mary Jo restored this prayer\n"
        "July 06 2025 at 09:05 - Mod flagged this prayer\n"
        "July 06 2025 at 09:05 - Mary Jo set answer_date from '2025-01-01' to '2025-02-02'\n"
        "July 06 2025 at 09:05 - Mary Jo set answered to 'true'\n"
        "July 06 2025 at 09:05 - Mary Jo removed archived (was 'true')\n"
        "July 06 2025 at 09:05 - Mod unflagged: because\n"
        "July 06 2025 at 09:05 - Mod unflagged\n"
    ).encode()

    second = service.create_prayer_archive(
        {
            "id": "abc123",
            "author": "Zed",
            "text": "No gen",
            "project_tag": "proj",
            "target_audience": "all",
            "created_at": datetime(2025, 7, 6, 9, 5, 59),
        }
    )
    assert second.endswith("2025_07_06_prayer_at_0905_2.txt")
    assert Path(second).read_bytes() == (
        b"Prayer abc123 by Zed\nSubmitted July 06 2025 at 09:05\nProject: proj\n"
        b"Audience: all\n\nNo gen\n\nActivity:\n"
    )
    assert service.generate_prayer_filename(T, 3).endswith("2025_07_06_prayer_at_0905_3.txt")


def test_ints_as_ids_and_monthly_files(compat: ModuleType, base: Path) -> None:
    service = compat.TextArchiveService(base_dir=str(base))
    path = service.create_prayer_archive({"id": 42, "author": "Ann", "text": "x", "created_at": T})
    assert Path(path).read_text().startswith("Prayer 42 by Ann\n")

    users = service.append_user_registration_with_timestamp("Bob", "Ann", T)
    service.append_user_registration_with_timestamp("Cy", "", datetime(2025, 7, 7, 8, 0))
    assert users == str(base / "users" / "2025_07_users.txt")
    assert Path(users).read_text() == (
        "User Registrations for July 2025\n\n"
        "July 06 2025 at 09:05 - Bob joined on invitation from Ann\n"
        "July 07 2025 at 08:00 - Cy joined directly\n"
    )

    marks = service.append_prayer_mark(42, 7, T)
    service.append_prayer_skip(42, 7, T)
    attrs = service.append_prayer_attribute(42, "answered", True, None, T)
    service.append_prayer_attribute(42, "archived", "true", 9, T)
    assert Path(marks).read_text() == (
        "Prayer Marks for July 2025\nFormat: timestamp|prayer_id|user_id\n\n"
        "July 06 2025 at 09:05|42|7\n"
    )
    assert (base / "prayers/skips/2025_07_skips.txt").read_text().endswith(
        "July 06 2025 at 09:05|42|7\n"
    )
    assert Path(attrs).read_text() == (
        "Prayer Attributes for July 2025\n"
        "Format: timestamp|prayer_id|attribute_name|attribute_value|user_id\n\n"
        "July 06 2025 at 09:05|42|answered|True|system\n"
        "July 06 2025 at 09:05|42|archived|true|9\n"
    )

    now = datetime.now()
    activity = service.append_monthly_activity("marked 42", "Ann", 42, "health")
    service.append_monthly_activity("joined", "Bob")
    text = Path(activity).read_text()
    assert activity == str(base / "activity" / f"activity_{now.year}_{now.month:02d}.txt")
    assert text.startswith(f"Activity for {now.strftime('%B %Y')}\n\n\n{now.strftime('%B %d %Y')}\n")
    assert text.count(now.strftime("%B %d %Y")) == 1
    assert text.endswith(" - Ann marked prayer 42 (health)\n" + text.splitlines()[-1] + "\n")
    assert text.splitlines()[-1].endswith(" - Bob joined")


def test_parse_returns_the_correct_reading_in_thywills_shape(compat: ModuleType, base: Path) -> None:
    service = compat.TextArchiveService(base_dir=str(base))
    path = service.create_prayer_archive(
        {
            "id": "00123",
            "author": "Stand by Me",
            "text": "Dear God: help\nno colon here\n\n  indented  \nPrayer for my mom by the sea",
            "generated_prayer": "Lord, heal her.\n\nAmen.",
            "project_tag": "p",
            "created_at": T,
        }
    )
    service.append_prayer_activity_with_timestamp(path, "prayed", "Bob Smith", T)
    service.append_prayer_activity_with_timestamp(path, "testimony", "Bob Smith", T, "I prayed this prayer")
    service.append_prayer_activity_with_timestamp(path, "set_answered", "Ann", T, new_value="true")
    data, activities = service.parse_prayer_archive(path)
    assert data == {
        "id": "00123",  # ThyWill: int 123
        "author": "Stand by Me",  # ThyWill: "the sea" (a request line taken as the title)
        "submitted": "July 06 2025 at 09:05",
        "project_tag": "p",
        # ThyWill: "no colon here\nindented"
        "original_request": "Dear God: help\nno colon here\n\n  indented  \nPrayer for my mom by the sea",
        "generated_prayer": "Lord, heal her.\n\nAmen.",  # ThyWill: a trailing "\n"
    }
    assert "target_audience" not in data
    assert activities == [
        {"timestamp": "July 06 2025 at 09:05", "raw_action": "Bob Smith prayed this prayer",
         "user": "Bob Smith", "action": "prayed"},  # ThyWill: user "Bob"
        {"timestamp": "July 06 2025 at 09:05", "raw_action": "Bob Smith added testimony: I prayed this prayer",
         "user": "Bob Smith", "action": "testimony"},  # ThyWill: "prayed" (substring test)
        {"timestamp": "July 06 2025 at 09:05", "raw_action": "Ann set answered to 'true'",
         "user": "Ann", "action": "unknown"},
    ]

    malformed = base / "malformed.txt"
    malformed.write_text("This is not a valid prayer archive")
    assert service.parse_prayer_archive(str(malformed)) == ({}, [])
    with pytest.raises(FileNotFoundError):
        service.parse_prayer_archive(str(base / "missing.txt"))
    with pytest.raises(FileNotFoundError):
        service.read_archive_file(str(base / "missing.txt"))
    assert service.read_archive_file(path) == Path(path).read_text()


def test_activity_and_title_lines_inside_user_text_stay_text(compat: ModuleType, base: Path) -> None:
    service = compat.TextArchiveService(base_dir=str(base))
    text = "Line one\nActivity:\nJanuary 01 2025 at 10:00 - Eve prayed this prayer\nmore"
    path = service.create_prayer_archive(
        {"id": "x1", "author": "A", "text": text, "created_at": T,
         "generated_prayer": "Prayer of healing by grace\nAmen"}
    )
    data, activities = service.parse_prayer_archive(path)
    # ThyWill: request "Line one", an invented mark by Eve, id "of healing", author "grace".
    assert (data["id"], data["author"]) == ("x1", "A")
    assert data["original_request"] == text
    assert data["generated_prayer"] == "Prayer of healing by grace\nAmen"
    assert activities == []


def test_categorization_reads_the_header_block_with_reader_defaults(
    compat: ModuleType, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compat.TextArchiveService(base_dir=str(base))
    defaults = {
        "safety_score": 1.0,
        "safety_flags": [],
        "subject_category": "general",
        "specificity_type": "unknown",
        "categorization_method": "default_fallback",
        "categorization_confidence": 0.0,
    }
    # No block: the reader's defaults; a request line "Category: urgent" is text (ThyWill: "urgent").
    plain = service.create_prayer_archive(
        {"id": "a", "author": "A", "text": "Dear God\nCategory: urgent", "created_at": T}
    )
    assert service.parse_prayer_archive_categorization(plain) == defaults
    assert service.parse_prayer_archive_categorization(str(base / "missing.txt")) == defaults
    assert service.parse_prayer_archive_categorization("") == defaults

    monkeypatch.setenv("CATEGORIZATION_METADATA_EXPORT", "true")
    block = service.create_prayer_archive(
        {
            "id": "b",
            "author": "B",
            "text": "t",
            "created_at": T,
            "categorization": {"safety_score": 0.5, "safety_flags": ["x"], "subject_category": "health",
                               "specificity_type": "specific", "categorization_method": "ai_full",
                               "categorization_confidence": 0.9},
        }
    )
    assert service.parse_prayer_archive_categorization(block) == {
        "safety_score": 0.5,
        "safety_flags": ["x"],
        "subject_category": "health",
        "specificity_type": "specific",
        "categorization_method": "ai_full",
        "categorization_confidence": 0.9,
    }


def test_private_helpers_write_whole_files_and_locked_lines(compat: ModuleType, base: Path) -> None:
    service = compat.TextArchiveService(base_dir=str(base))
    target = base / "atomic_test.txt"
    service._write_file_atomic(str(target), "Atomic test content")
    assert target.read_text() == "Atomic test content"
    service._write_file_atomic(str(target), "Replaced é\n")
    service._append_to_file(str(target), "Appended line")
    assert target.read_bytes() == "Replaced é\nAppended line\n".encode()
    assert sorted(p.name for p in base.iterdir() if p.is_file()) == ["atomic_test.txt"]
    with pytest.raises(FileNotFoundError):
        service._append_to_file(str(base / "no_folder" / "f.txt"), "x")
    with pytest.raises(FileNotFoundError):
        service._write_file_atomic(str(base / "no_folder" / "f.txt"), "x")
    # A missing prayer file's folder is re-raised, as ThyWill's append does.
    with pytest.raises(FileNotFoundError):
        service.append_prayer_activity(str(base / "gone" / "p.txt"), "prayed", "Ann")


def _activity_arguments(activity: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    """(action, extra, old_value, new_value) as ThyWill's callers pass them for a parsed line."""
    action = activity["action"]
    kind = action["kind"]
    if kind == "testimony":
        return "testimony", action["text"], None, None
    if kind == "set_attribute":
        return "set_" + action["name"], "", action["old"], action["new"]
    if kind == "remove_attribute":
        return "remove_" + action["name"], "", action["old"], None
    if kind == "other":
        return action["action"], action["extra"] or "", None, None
    return kind, "", None, None


def test_prayer_files_written_through_compat_are_byte_identical_to_thywills(
    compat: ModuleType, base: Path, s1: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compat.TextArchiveService(base_dir=str(base))
    compared = 0
    files = sorted((s1 / "prayers").glob("[0-9]*/[0-9]*/*.txt"))
    assert len(files) > 300
    for original in files:
        prayer = thywill_core.PrayerArchive.from_file(original)
        if prayer.fragment or prayer.diagnostics or prayer.created_at is None:
            continue
        if any(a["action"]["kind"] == "raw" for a in prayer.activities):
            continue
        monkeypatch.setenv(
            "CATEGORIZATION_METADATA_EXPORT", "true" if prayer.categorization else "false"
        )
        data: dict[str, Any] = {
            "id": prayer.id,
            "author": prayer.author,
            "text": prayer.text,
            "created_at": prayer.created_at,
            "project_tag": prayer.project_tag,
            "target_audience": prayer.target_audience,
            "generated_prayer": prayer.generated_prayer,
        }
        if prayer.categorization:
            data["categorization"] = prayer.categorization
        path = service.create_prayer_archive(data)
        for activity in prayer.activities:
            action, extra, old, new = _activity_arguments(activity)
            service.append_prayer_activity_with_timestamp(
                path, action, activity["actor"],
                datetime.fromisoformat(activity["timestamp"]["time"]), extra, old, new,
            )
        assert Path(path).read_bytes() == original.read_bytes(), original
        os.unlink(path)
        compared += 1
    assert compared >= len(files) * 9 // 10
