"""Shared fixtures: the reference corpora in ../shared/fixtures (override with THYWILL_FIXTURES)."""

import os
import shutil
from collections.abc import Iterator
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


@pytest.fixture
def community(tmp_path: Path) -> Path:
    """A writable copy of s1, its thywill.db and text_archives/ side by side in a folder."""
    source = fixtures_dir() / "s1"
    if not source.is_dir():
        pytest.fail(f"fixture missing: {source}")
    shutil.copyfile(source / "thywill.db", tmp_path / "thywill.db")
    shutil.copytree(source / "text_archives", tmp_path / "text_archives")
    for path in (tmp_path / "text_archives").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tmp_path


@pytest.fixture(autouse=True)
def _audit_log_apart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test's audit lines go to a file of their own, not beside the databases the test
    compares before and after (test_audit.py checks the default placement itself)."""
    import thywill_core

    thywill_core.configure_audit("file", tmp_path_factory.mktemp("audit") / "audit.jsonl")
    yield
    thywill_core.configure_audit()
