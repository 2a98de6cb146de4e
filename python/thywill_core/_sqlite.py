"""Which SQLite library the core runs on, and whether it is the one Python's ``sqlite3`` uses.

Two copies of SQLite in one process do not see each other's POSIX locks, and closing a file
in one drops the locks the other holds on it. The wheel therefore links the system's
``libsqlite3``, the library Python's ``sqlite3`` module links, so the process maps it once.
:func:`sqlite_library` checks that by behaviour, once per process.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import tempfile
from typing import TypedDict

from thywill_core import _native


class SqliteLibrary(TypedDict):
    """The answer of :func:`sqlite_library`."""

    version: str
    """The version of the SQLite the core's connections use."""
    python_version: str
    """``sqlite3.sqlite_version``: the SQLite of Python's ``sqlite3`` module."""
    shared_with_python: bool
    """True when both are one library in this process (their locks see each other)."""


@functools.lru_cache(maxsize=None)
def _probe() -> bool:
    # Python's sqlite3 holds a RESERVED lock; the core's SQLite then asks for one without
    # waiting. One library finds the other connection in its table of the file's locks and
    # answers busy. A second library asks the kernel, and POSIX locks of one process never
    # conflict with each other, so it would get the lock too.
    with tempfile.TemporaryDirectory(prefix="thywill-sqlite-probe-") as folder:
        path = os.path.join(folder, "probe.db")
        app = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            app.execute("CREATE TABLE probe (x)")
            app.execute("BEGIN IMMEDIATE")
            refused = _native._sqlite_lock_probe(path)
            app.execute("ROLLBACK")
        finally:
            app.close()
    return refused


def sqlite_library() -> SqliteLibrary:
    """The SQLite library the core uses and whether Python's ``sqlite3`` uses the same one.

    ``shared_with_python`` is decided by behaviour, not by names: in a temporary folder
    Python's ``sqlite3`` takes a write lock (``BEGIN IMMEDIATE``) on a new database, then the
    core's SQLite tries the same without waiting. The same library refuses (it sees the
    other connection); a second copy of SQLite in the process succeeds. The test runs once
    per process. When it is ``False`` (a wheel built with the core's ``bundled-sqlite``
    feature, or a Python whose ``sqlite3`` has SQLite compiled in), do not run the core on a
    database this process also has open through ``sqlite3``; ``thywill_core.compat`` then
    runs database calls in a child process.
    """
    return {
        "version": _native._sqlite_version(),
        "python_version": sqlite3.sqlite_version,
        "shared_with_python": _probe(),
    }
