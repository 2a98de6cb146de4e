"""The shared fixtures never let a run pass without its data: a missing fixture corpus
fails the tests that need it under CI=true (elsewhere it is reported as skipped)."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_pytest(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    """Runs pytest in a subprocess on two tests that use the fixtures, with no corpus."""
    (tmp_path / "conftest.py").write_bytes((HERE / "conftest.py").read_bytes())
    (tmp_path / "test_needs_corpus.py").write_text(
        "def test_corpus(corpus):\n    assert corpus.is_dir()\n\n\n"
        "def test_s1(s1):\n    assert s1.is_dir()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["THYWILL_FIXTURES"] = str(tmp_path / "no-fixtures-here")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_missing_corpus_fails_under_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=True)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 errors" in output, output
    assert "skipped" not in output, output
    assert "fixture corpus missing" in output, output


def test_a_missing_corpus_is_reported_as_skipped_elsewhere(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=False)
    output = result.stdout + result.stderr
    # The writable copy is skipped with its reason; the read-only corpus still fails.
    assert "1 skipped" in output, output
    assert "1 error" in output, output
    assert result.returncode == 1, output
