"""Ctrl-C during a long core call from Python: the call stops at its next progress point,
leaves the database as it was, its audit line says `cancelled`, and KeyboardInterrupt is
raised once the core has returned.

Deterministic without sleeps as synchronisation: the test holds `BEGIN EXCLUSIVE` on the
database (rollback-journal mode: readers wait too), starts a Python process that imports the
archives, waits until /proc shows the child has the database open (it is then waiting in
SQLite's busy handler with the GIL released), sends SIGINT, and only then lets go."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import sys
import thywill_core

community = sys.argv[1]
progress = (lambda phase, done, total: None) if sys.argv[2] == "callable" else None
try:
    thywill_core.import_text_archives(
        community + "/text_archives", community + "/thywill.db", progress=progress
    )
except KeyboardInterrupt:
    print("KeyboardInterrupt")
    sys.exit(3)
print("finished")
"""


def _state(db: Path) -> tuple[str, list[tuple[str, int]]]:
    conn = sqlite3.connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        counts = [(t, conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables]
        return integrity, counts
    finally:
        conn.close()


def _wait_until_open(child: subprocess.Popen[str], path: Path) -> None:
    target = str(path.resolve())
    fds = Path(f"/proc/{child.pid}/fd")
    deadline = time.monotonic() + 60
    while True:
        assert child.poll() is None, f"the child ended before opening {target}"
        try:
            if any(os.readlink(fd) == target for fd in fds.iterdir()):
                return
        except OSError:
            pass  # an fd closed while listing
        assert time.monotonic() < deadline, f"the child did not open {target} within 60 s"
        time.sleep(0.005)


@pytest.mark.parametrize("progress", ["none", "callable"])
def test_ctrl_c_cancels_an_import_and_raises_keyboard_interrupt(
    community: Path, progress: str
) -> None:
    db = community / "thywill.db"
    before = _state(db)
    files_before = sorted(p.name for p in community.iterdir())

    lock = sqlite3.connect(db, isolation_level=None)
    assert lock.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    lock.execute("BEGIN EXCLUSIVE")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(community), progress],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("THYWILL_")},
    )
    try:
        _wait_until_open(child, db)
        child.send_signal(signal.SIGINT)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    out, err = child.communicate(timeout=120)

    assert child.returncode == 3, (child.returncode, out, err)
    assert out.strip() == "KeyboardInterrupt", err

    lines = [json.loads(line) for line in (community / "thywill-audit.jsonl").read_text().splitlines()]
    assert [(e["operation"], e["result"]) for e in lines] == [("import.text_archives", "cancelled")]

    after = _state(db)
    assert after[0] == "ok"
    assert after == before, "the cancelled import changed the database"
    assert sorted(p.name for p in community.iterdir()) == sorted(
        files_before + ["thywill-audit.jsonl"]
    ), "the cancelled import left files beside the database"
