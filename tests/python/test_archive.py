"""thywill_core's archive API: typed prayer files, monthly iterators, kinds, re-rendering, check_tree."""

from datetime import datetime
from pathlib import Path

import pytest

import thywill_core
from thywill_core import PrayerArchive

PRAYER = Path("prayers/2024/01/2024_01_01_prayer_at_0719.txt")
USERS = Path("users/2023_10_users.txt")


def test_prayer_file_parses_into_typed_attributes(s1: Path) -> None:
    prayer = PrayerArchive.from_file(s1 / PRAYER)
    assert prayer.id == "4f6d5f87c3774af7a31563ff3ff12051"
    assert prayer.author == "John Lee"
    assert prayer.submitted == "January 01 2024 at 07:19"
    assert prayer.created_at == datetime(2024, 1, 1, 7, 19)
    assert prayer.text == "Could you all pray for my neighbor? They are dealing with long covid."
    assert prayer.generated_prayer is not None and prayer.generated_prayer.startswith("Loving God")
    assert prayer.generated_prayer.endswith("Amen. 🙏")
    assert prayer.project_tag is None and not prayer.fragment
    assert len(prayer.activities) == 6
    first = prayer.activities[0]
    assert first["actor"] == "John Lee"
    assert first["action"] == {"kind": "prayed"}
    assert prayer.diagnostics == []


def test_prayer_renders_back_to_the_same_bytes(s1: Path) -> None:
    path = s1 / PRAYER
    prayer = PrayerArchive.from_file(str(path))
    assert prayer.render().encode() == path.read_bytes()
    assert PrayerArchive.parse(path.read_text(encoding="utf-8")) == prayer


def test_new_prayer_renders_thywill_layout_and_parses_back() -> None:
    prayer = PrayerArchive("abc123", "Ana María", datetime(2025, 7, 6, 9, 5, 59), "Please pray\nfor rain.")
    prayer.project_tag = "harvest"
    text = prayer.render()
    assert text == (
        "Prayer abc123 by Ana María\nSubmitted July 06 2025 at 09:05\nProject: harvest\n\n"
        "Please pray\nfor rain.\n\nActivity:\n"
    )
    again = PrayerArchive.parse(text)
    assert again == prayer
    assert again.to_dict()["project_tag"] == "harvest"
    assert "Ana María" in repr(again)
    prayer.text = "changed"
    assert prayer != again


def test_to_dict_is_plain_data(s1: Path) -> None:
    data = PrayerArchive.from_file(s1 / PRAYER).to_dict()
    assert data["id"] == "4f6d5f87c3774af7a31563ff3ff12051"
    assert data["submitted"]["text"] == "January 01 2024 at 07:19"
    assert isinstance(data["activities"], list) and len(data["activities"]) == 6


def test_from_dict_is_the_inverse_of_to_dict(s1: Path) -> None:
    for path in sorted((s1 / "prayers").glob("20*/*/*.txt"))[:200]:
        prayer = PrayerArchive.from_file(path)
        again = PrayerArchive.from_dict(prayer.to_dict())
        assert again == prayer, path
        assert again.render().encode() == path.read_bytes(), path


def test_from_dict_takes_minimal_data_and_names_what_is_wrong() -> None:
    prayer = PrayerArchive.from_dict(
        {
            "id": "p1",
            "author": "Ann Lee",
            "submitted": "July 06 2025 at 09:05",
            "text": "Please pray",
            "activities": [{"timestamp": "July 06 2025 at 10:00", "actor": "Bob Stone", "action": {"kind": "prayed"}}],
        }
    )
    assert prayer.created_at == datetime(2025, 7, 6, 9, 5)
    assert prayer.render().endswith("July 06 2025 at 10:00 - Bob Stone prayed this prayer\n")
    with pytest.raises(thywill_core.InvalidInputError, match="author"):
        PrayerArchive.from_dict({"id": "p1", "submitted": "July 06 2025 at 09:05", "text": ""})
    with pytest.raises(thywill_core.InvalidInputError):
        PrayerArchive.from_dict({"id": "p1", "author": "A", "submitted": "x", "text": "", "activities": [{"kind": "?"}]})


def test_damaged_prayer_reports_diagnostics_not_exceptions(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"Prayer abc by Ann\nSubmitted nonsense\n\n\xff\xfe bad bytes\n\nActivity:\n")
    prayer = PrayerArchive.from_file(path)
    assert prayer.id == "abc"
    assert prayer.created_at is None
    assert prayer.diagnostics, "invalid UTF-8 must be reported"
    assert all(d["path"] == str(path) for d in prayer.diagnostics)


def test_missing_file_raises_not_found_with_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(thywill_core.NotFoundError) as info:
        PrayerArchive.from_file(missing)
    assert info.value.path == str(missing)
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.iter_users(missing)


def test_users_file_iterates_typed_dicts(s1: Path) -> None:
    records = thywill_core.iter_users(s1 / USERS)
    assert records.kind == "user_registrations"
    rows = list(records)
    assert rows[0]["name"] == "John B." and rows[0]["invited_by"] is None
    assert rows[1]["name"] == "al_haddad" and rows[1]["invited_by"] == "John B."
    assert rows[0]["timestamp"]["text"] == "October 02 2023 at 09:20"
    assert rows[0]["line"] == 3
    lines = [ln for ln in (s1 / USERS).read_text().splitlines()[1:] if ln.strip()]
    assert len(rows) == len(lines)
    assert records.diagnostics == []


def test_activity_and_ledgers_iterate(s1: Path) -> None:
    activity = sorted((s1 / "activity").iterdir())[0]
    entries = list(thywill_core.iter_activity(activity))
    assert entries[0]["user"] == "John B." and entries[0]["date"] == "2023-10-02"
    for word in ("marks", "skips", "attributes"):
        ledger = sorted((s1 / "prayers" / word).iterdir())[0]
        rows = list(thywill_core.iter_ledger(ledger))
        assert rows and all(r["kind"] == word for r in rows)
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.iter_ledger(s1 / USERS)


def test_unreadable_lines_are_collected_or_raised(tmp_path: Path) -> None:
    path = tmp_path / "2025_07_users.txt"
    path.write_text(
        "User Registrations for July 2025\n\nJuly 06 2025 at 09:05 - Ann joined directly\n"
        "garbage line\nJuly 07 2025 at 10:00 - Bob joined directly\n",
        encoding="utf-8",
    )
    records = thywill_core.iter_users(path)
    assert [r["name"] for r in records] == ["Ann", "Bob"]
    assert [(d["line"], d["path"]) for d in records.diagnostics] == [(4, str(path))]
    with pytest.raises(thywill_core.ArchiveFormatError) as info:
        list(thywill_core.iter_users(path, strict=True))
    assert (info.value.path, info.value.line) == (str(path), 4)
    assert isinstance(info.value, thywill_core.InvalidInputError)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("prayers/2024/01/2024_01_01_prayer_at_0719.txt", "prayer"),
        ("/srv/x/text_archives/prayers/2024/01/2024_01_01_prayer_at_0719_2.txt", "prayer"),
        ("text_archives/users/2023_10_users.txt", "user_registrations"),
        ("activity/activity_2024_01.txt", "activity_log"),
        ("prayers/marks/2024_01_marks.txt", "ledger"),
        ("README.txt", "other"),
    ],
)
def test_file_kind_from_any_path(path: str, kind: str) -> None:
    assert thywill_core.file_kind(path) == kind
    assert thywill_core.file_kind(Path(path)) == kind


def test_rerender_file_is_byte_identical_for_each_kind(s1: Path) -> None:
    activity = sorted((s1 / "activity").iterdir())[0]
    marks = sorted((s1 / "prayers" / "marks").iterdir())[0]
    for path in (s1 / PRAYER, s1 / USERS, activity, marks):
        assert thywill_core.rerender_file(path) == path.read_bytes(), path


def test_check_tree_is_clean_then_finds_a_changed_file(corpus: Path) -> None:
    events: list[tuple[str, int, int | None]] = []
    report = thywill_core.check_tree(corpus, lambda *e: events.append(e))
    assert report["problems"] == []
    assert report["files_checked"] >= 1000
    assert events[-1][0] == "check" and events[-1][1] == events[-1][2]

    target = corpus / PRAYER
    # A CRLF from line 3 on: the parser reads it, the renderer writes LF only.
    lines = target.read_bytes().split(b"\n")
    target.write_bytes(b"\n".join(lines[:2]) + b"\n" + b"\r\n".join(lines[2:]))
    report = thywill_core.check_tree(corpus)
    problems = {p["path"]: p for p in report["problems"]}
    assert str(PRAYER) in problems
    assert problems[str(PRAYER)]["first_differing_line"] == 3


def test_check_tree_can_be_cancelled(corpus: Path) -> None:
    with pytest.raises(thywill_core.CancelledError):
        thywill_core.check_tree(corpus, lambda phase, done, total: done < 5)
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.check_tree(corpus / "missing")


def test_parse_file_reads_every_kind_into_plain_data(s1: Path) -> None:
    prayer = thywill_core.parse_file(s1 / PRAYER)
    assert prayer["kind"] == "prayer" and prayer["diagnostics"] == []
    assert prayer["content"]["author"] == "John Lee"
    users = thywill_core.parse_file(str(s1 / USERS))
    assert users["content"]["records"][0]["name"] == "John B."
    tokens = thywill_core.parse_file(s1 / "system" / "invite_tokens.txt")
    assert tokens["kind"] == "invite_tokens" and tokens["diagnostics"] == []
    sessions = sorted((s1 / "sessions").iterdir())[0]
    assert thywill_core.parse_file(sessions)["kind"] == "sessions"
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.parse_file(s1.parent / "manifest.json")
    with pytest.raises(thywill_core.NotFoundError):
        thywill_core.parse_file(s1 / "users" / "1999_01_users.txt")
