"""Settings the core checks once for every front end: the archive time zone and the
database path given to an import."""

from pathlib import Path

import pytest

import thywill_core

PRAYER = Path("prayers/2024/06/2024_06_12_prayer_at_1033.txt")


@pytest.mark.parametrize("zone", ["+99:99", "+24:00", "-24:00", "+05:60", "+5:00"])
def test_offsets_of_a_day_or_more_are_refused(s1: Path, tmp_path: Path, zone: str) -> None:
    with pytest.raises(thywill_core.InvalidInputError):
        thywill_core.import_prayer_file(s1 / PRAYER, tmp_path / "t.db", dry_run=True, time_zone=zone)


@pytest.mark.parametrize("zone", ["-23:59", "+23:59", "-0500", "utc", "local"])
def test_offsets_within_a_day_are_accepted(s1: Path, tmp_path: Path, zone: str) -> None:
    report = thywill_core.import_prayer_file(s1 / PRAYER, tmp_path / "t.db", dry_run=True, time_zone=zone)
    assert report.dry_run


def test_a_directory_as_the_database_is_invalid_input(s1: Path, tmp_path: Path) -> None:
    with pytest.raises(thywill_core.InvalidInputError, match="is a directory"):
        thywill_core.import_prayer_file(s1 / PRAYER, tmp_path)


def test_a_database_in_a_missing_folder_is_not_found(s1: Path, tmp_path: Path) -> None:
    with pytest.raises(thywill_core.NotFoundError, match="no-such-folder"):
        thywill_core.import_prayer_file(s1 / PRAYER, tmp_path / "no-such-folder" / "t.db")
