"""Shared fixtures: the reference corpora in ../shared/fixtures (override with THYWILL_FIXTURES)."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the s1 corpus's text archives."""
    source = fixtures_dir() / "s1" / "text_archives"
    if not source.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"fixture corpus missing: {source}")
        pytest.skip(f"fixture corpus missing: {source}")
    target = tmp_path / "text_archives"
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture
def s1() -> Path:
    """The read-only s1 corpus's text archives (read, never write)."""
    root = fixtures_dir() / "s1" / "text_archives"
    if not root.is_dir():
        pytest.fail(f"fixture corpus missing: {root}")
    return root
