"""The benchmark report's renderer (scripts/bench_report.py): what it writes into docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "scripts" / "bench_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def side(wall: float, rss: float, **extra: Any) -> dict[str, Any]:
    run = {"rc": 0, "wall_s": wall, "max_rss_mb": rss, **extra}
    return {"runs": [run], "median_wall_s": wall, "median_cpu_s": wall, "peak_rss_mb": rss,
            "median_in_call_ms": extra.get("in_call_ms"), "median_call_s": extra.get("call_s"), "rcs": [0]}


def results() -> dict[str, Any]:
    fidelity = {"users_exact_set": True, "prayers_exact_set": True, "prayer_text_mismatches": 0,
                "marks_matched": 9993, "marks_missing": 0, "marks_extra": 0}
    return {
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 8, "kernel": "6.0", "rustc": "rustc 1.95.0",
                    "python": "3.11.7", "sqlite3_cli": "3.40.1", "commit": "abc1234", "load_before": 0.5,
                    "load_after": 0.7},
        "started": "2026-12-07T12:00:00+00:00",
        "ours_only": False,
        "corpora": [{
            "name": "s1", "made_by": "ThyWill's own code", "rows": {"user": 100, "prayer": 1000, "prayermark": 9993},
            "db_bytes": 6_000_000, "archive_files": 1230, "archive_bytes": 2_900_000, "user": "someone",
            "ops": {
                "import": {"thywill": side(40.0, 136.0, fidelity=dict(fidelity, marks_missing=8012)),
                           "ours": side(0.05, 45.0, in_call_ms=40, fidelity=fidelity), "note": ""},
                "communityzip": {"thywill": side(0.66, 55.0, call_s=0.2), "ours": side(0.04, 26.0, in_call_ms=30),
                                 "note": ""},
                "recovery": {"thywill": None, "ours": side(0.2, 49.0, in_call_ms=150),
                             "note": "ThyWill's not run above 2,000 prayers: quadratic, hours"},
            },
            "thywill_startup": side(3.0, 126.0),
        }],
        "copies": {"db_bytes": 512_000_000, "tools": {"cp": side(0.5, 2.0), "ours backup": side(1.0, 38.0)}},
    }


def test_the_report_gives_ratios_memory_corpus_and_machine() -> None:
    text = load_module().render(results())
    assert "| import | `scripts/utils/import_text_archives.py` | `thywill import text-archives` | 40.00 s | 50 ms | **800×** | 136.0 MB | 45.0 MB |" in text
    assert "| communityzip |" in text and "200 ms / 30 ms" in text and "**16×**" in text
    assert "ThyWill's not run above 2,000 prayers" in text
    assert "| s1 | ThyWill's own code | 100 | 1,000 | 9,993 | 6.0 MB | 1,230 (2.9 MB) |" in text
    assert "Test CPU, 2 cores" in text and "commit `abc1234`" in text
    assert "| import | ThyWill | True | True | 0 | 9993 | 8012 | 0 |" in text
    assert "| ours backup | 1.00 s | 2.00× |" in text
    assert "| startup | `python -c 'import app'` | – | 3.00 s |" in text


def test_rewriting_keeps_everything_outside_the_markers(tmp_path: Path) -> None:
    module = load_module()
    target = tmp_path / "benchmarks.md"
    target.write_text(f"# Title\n\nintro\n\n{module.START_MARK}\nold figures\n{module.END_MARK}\n\n## Per-area\n\nrest\n")
    module.write_report(module.render(results()), target)
    first = target.read_text()
    assert first.startswith("# Title\n\nintro\n\n" + module.START_MARK)
    assert "old figures" not in first and "| communityzip |" in first
    assert first.endswith(module.END_MARK + "\n\n## Per-area\n\nrest\n")
    module.write_report(module.render(results()), target)
    assert target.read_text() == first
