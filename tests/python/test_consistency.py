"""validate-consistency and recovery-report from Python."""

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import thywill_core

ROOT = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture(params=["s1", "s1-live"])
def community(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A writable copy of a fixture community: thywill.db and text_archives/."""
    source = fixtures_dir() / request.param
    if not (source / "thywill.db").is_file():
        pytest.fail(f"fixture community missing: {source}")
    shutil.copytree(source / "text_archives", tmp_path / "text_archives")
    shutil.copyfile(source / "thywill.db", tmp_path / "thywill.db")
    for path in tmp_path.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tmp_path


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_validate_consistency_scores_the_fixtures_at_100_and_reads_only(community: Path) -> None:
    before = digest(community)
    report = thywill_core.validate_consistency(
        community / "text_archives", community / "thywill.db", time_zone="utc"
    )
    assert digest(community) == before
    assert report["stats"]["consistency_score"] == 100.0
    assert report["band"] == "EXCELLENT"
    assert report["exit_code"] == 0
    assert report["stats"]["total_prayers_in_archives"] == 1000
    scored = [e for e in report["entities"] if e["status"] == "scored"]
    assert scored and all(e["differences_total"] == 0 for e in scored)


def test_validate_consistency_locates_a_removed_prayer_file_and_fix_heals_it(community: Path) -> None:
    archives = community / "text_archives"
    victim = sorted((archives / "prayers" / "2024" / "05").iterdir())[0]
    victim.unlink()
    dry = thywill_core.validate_consistency(
        archives, community / "thywill.db", fix=True, dry_run=True, time_zone="utc"
    )
    assert dry["stats"]["consistency_score"] < 100.0
    assert dry["stats"]["broken_archive_paths"] == 1
    prayer = next(e for e in dry["entities"] if e["entity"] == "prayer")
    assert prayer["only_in_db"] == 1
    assert any(victim.name in v for v in prayer["differences"][0]["db"])
    assert dry["fix"]["dry_run"] is True
    assert not victim.exists()
    fixed = thywill_core.validate_consistency(archives, community / "thywill.db", fix=True, time_zone="utc")
    assert fixed["score_after_fix"] == 100.0
    assert victim.exists()


def test_recovery_report_without_and_with_a_backup(community: Path) -> None:
    before = digest(community)
    report = thywill_core.recovery_report(community / "text_archives", community / "thywill.db", time_zone="utc")
    assert digest(community) == before
    prayer = next(e for e in report["entities"] if e["entity"] == "prayer")
    assert prayer["share"] == 1.0
    assert report["backups"]["newest_verified"] is None
    assert report["readiness"] == "partial"
    kinds = [r["kind"] for r in report["reasons"]]
    assert "no_recent_verified_backup" in kinds
    created = thywill_core.backup_create(community / "thywill.db", community / "backups", "daily")
    again = thywill_core.recovery_report(community / "text_archives", community / "thywill.db", time_zone="utc")
    assert again["backups"]["newest_verified"]["name"] == created["name"]
    assert "no_recent_verified_backup" not in [r["kind"] for r in again["reasons"]]


def test_recovery_report_of_an_empty_archive_is_not_ready(tmp_path: Path) -> None:
    source = fixtures_dir() / "s1" / "thywill.db"
    shutil.copyfile(source, tmp_path / "thywill.db")
    (tmp_path / "thywill.db").chmod(0o644)
    for folder in ["prayers", "users", "auth", "roles"]:
        (tmp_path / "text_archives" / folder).mkdir(parents=True)
    report = thywill_core.recovery_report(tmp_path / "text_archives", tmp_path / "thywill.db")
    assert report["capability"] == "limited"
    assert report["readiness"] == "not_ready"
    assert "archives_missing" in [r["kind"] for r in report["reasons"]]
