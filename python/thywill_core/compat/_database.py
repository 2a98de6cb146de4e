"""How the compat modules hand the app's database to the core.

ThyWill's services read ``engine`` (a SQLAlchemy engine over Python's ``sqlite3``) from their
module globals; the core opens a SQLite file itself. Two helpers bridge that:

- ``app_database(engine, writes=...)`` yields the path of a SQLite file that holds the
  engine's database: the file itself for a file database; for ``sqlite:///:memory:`` (ThyWill's
  tests) a temporary copy made with ``serialize()``, loaded back with ``deserialize()`` after a
  writing operation.
- ``call_core(name, *args, **kwargs)`` runs ``thywill_core.<name>`` where that is safe for the
  app's own connections.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import thywill_core


def _driver_connection(engine: Any) -> sqlite3.Connection:
    """The ``sqlite3.Connection`` behind a SQLAlchemy engine's pooled connection."""
    raw = engine.raw_connection()
    connection = getattr(raw, "driver_connection", None) or getattr(raw, "connection", None)
    if not isinstance(connection, sqlite3.Connection):
        raise TypeError("the app's engine is not a sqlite3 engine")
    return connection


def database_file_of(engine: Any) -> Optional[str]:
    """The file of a SQLite engine's database, or ``None`` when it lives in memory."""
    database = getattr(getattr(engine, "url", None), "database", None)
    if database in (None, "", ":memory:") or str(database).startswith("file::memory:"):
        return None
    return str(os.fspath(database))


@contextmanager
def app_database(engine: Any, *, writes: bool = False) -> Iterator[str]:
    """A SQLite file holding ``engine``'s database, for the core to open.

    A file database is used in place. An in-memory one is copied to a private temporary file
    first and, when ``writes`` is true, the changed file is loaded back into the app's
    connection after the block.
    """
    path = database_file_of(engine)
    if path is not None:
        yield path
        return
    connection = _driver_connection(engine)
    with tempfile.TemporaryDirectory(prefix="thywill-memdb-") as folder:
        copy = os.path.join(folder, "memory.db")
        with open(copy, "wb") as out:
            # SQLite cannot serialize a database without a page (nothing created yet);
            # its file is the empty file.
            if connection.execute("PRAGMA page_count").fetchone()[0]:
                out.write(connection.serialize())
        yield copy
        if writes:
            # The core may have left the copy in WAL mode; an in-memory database cannot
            # read a WAL-mode image ("unable to open database file"), so the copy goes back
            # to a rollback journal (checkpointing whatever a WAL still holds) first.
            settle = sqlite3.connect(copy)
            try:
                settle.execute("PRAGMA journal_mode=DELETE")
            finally:
                settle.close()
            with open(copy, "rb") as changed:
                connection.deserialize(changed.read())


def call_core(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run ``thywill_core.<name>(*args, **kwargs)`` for a compat module."""
    return getattr(thywill_core, name)(*args, **kwargs)
