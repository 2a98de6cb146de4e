"""How the compat modules hand the app's database to the core.

ThyWill's services read ``engine`` (a SQLAlchemy engine over Python's ``sqlite3``) from their
module globals; the core opens a SQLite file itself. Two helpers bridge that:

- ``app_database(engine, writes=...)`` yields the path of a SQLite file that holds the
  engine's database: the file itself for a file database (never copied); for an in-memory
  database (ThyWill's tests: ``sqlite:///:memory:`` with a ``StaticPool``) a private
  temporary copy made with ``serialize()``, copied back into the app's connection with
  SQLite's backup API after a writing operation.
- ``call_core(name, *args, **kwargs)`` runs ``thywill_core.<name>`` where that is safe for the
  app's own connections: in this process when the core and Python's ``sqlite3`` share one
  SQLite library (``thywill_core.sqlite_library()``), else in a child Python process.

The in-memory database, precisely: the core sees the committed database, as another
connection to a file database would. Nothing is flushed, committed or rolled back behind the
app's back: while the app's connection is inside a transaction (a Session has flushed
changes it has not committed) every operation is refused with ``ConflictError`` before
anything runs, so commit or roll back the Session first. (Uncommitted changes cannot be
handed over consistently: ``serialize()`` includes them for a database made in memory and
leaves them out for one loaded with ``deserialize()``; and a writing operation could not be
copied back into the middle of a transaction.) A result
the app is still reading also blocks the copy back; that is refused with ``ConflictError``
after the core ran on the copy, and the app's database stays as it was.
"""

from __future__ import annotations

import builtins
import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Tuple

import thywill_core


def _driver_connection(engine: Any) -> sqlite3.Connection:
    """The ``sqlite3.Connection`` that holds an in-memory engine's database.

    A ``StaticPool`` hands its one connection to every checkout, the app's Session's
    included; it is read from the pool's record rather than checked out, because returning a
    checked-out connection resets it (a rollback), which would discard the Session's open
    transaction. Other pools are checked out as usual (a ``SingletonThreadPool`` gives the
    thread its connection again and resets it only on the outermost return).
    """
    pool = getattr(engine, "pool", None)
    static = any(cls.__name__ == "StaticPool" for cls in type(pool).__mro__)
    record = getattr(pool, "connection", None) if static else None
    connection = getattr(record, "dbapi_connection", None)
    if connection is None:
        raw = engine.raw_connection()
        connection = getattr(raw, "driver_connection", None) or getattr(raw, "connection", None)
        raw.close()
    if not isinstance(connection, sqlite3.Connection):
        raise TypeError("the app's engine is not a sqlite3 engine")
    return connection


def database_file_of(engine: Any) -> Optional[str]:
    """The file of a SQLite engine's database, or ``None`` when it lives in memory."""
    url = getattr(engine, "url", None)
    database = getattr(url, "database", None)
    query = getattr(url, "query", None) or {}
    if database in (None, "", ":memory:") or str(database).startswith("file::memory:"):
        return None
    if query.get("mode") == "memory" or "mode=memory" in str(database):
        return None
    return str(os.fspath(database))


@contextmanager
def app_database(engine: Any, *, writes: bool = False) -> Iterator[str]:
    """A SQLite file holding ``engine``'s database, for the core to open.

    A file database is used in place: its own path, nothing copied. An in-memory one is
    serialized to a private temporary file first and, when ``writes`` is true, the changed
    file is copied back into the app's connection after the block, only when the block
    succeeded (a failed core call leaves the app's database as it was). An in-memory
    connection inside a transaction raises ``ConflictError`` before the block runs.
    """
    path = database_file_of(engine)
    if path is not None:
        yield path
        return
    connection = _driver_connection(engine)
    if connection.in_transaction:
        # Refused for reading calls too: what serialize() returns of uncommitted changes
        # depends on how the database was made (a fresh :memory: database includes them, a
        # deserialized one does not), and a file database's other connections never see
        # them, so the core sees committed data only, the same on both paths.
        raise thywill_core.ConflictError(
            "the app's in-memory database has an open transaction (uncommitted Session "
            "changes): commit or roll back before a thywill_core operation"
        )
    with tempfile.TemporaryDirectory(prefix="thywill-memdb-") as folder:
        copy = os.path.join(folder, "memory.db")
        with open(copy, "wb") as out:
            # SQLite cannot serialize a database without a page (nothing created yet);
            # its file is the empty file.
            if connection.execute("PRAGMA page_count").fetchone()[0]:
                out.write(connection.serialize())
        yield copy
        if writes:
            # The backup API, not deserialize(): it refuses ("destination database is in
            # use") while a statement of the app's is still reading, where replacing the
            # database under that statement crashes the process when it is finalized.
            changed = sqlite3.connect(copy, isolation_level=None)
            try:
                # The core leaves its databases in WAL mode; copied as they are, the header
                # would put the app's in-memory database in WAL mode, which it cannot open.
                changed.execute("PRAGMA journal_mode=DELETE")
                changed.backup(connection)
            except sqlite3.Error as error:
                raise thywill_core.ConflictError(
                    "the core's changes could not be loaded into the app's in-memory database "
                    f"({error}); it is unchanged. Finish reading open results and end the "
                    "transaction before a writing thywill_core operation"
                ) from error
            finally:
                changed.close()


def _plain(result: Any) -> Any:
    """Reports that are objects (``ImportReport``) as their dict, so both paths agree."""
    to_dict = getattr(result, "to_dict", None)
    return to_dict() if callable(to_dict) else result


def call_core(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run ``thywill_core.<name>(*args, **kwargs)`` for a compat module.

    In this process when ``thywill_core.sqlite_library()`` says the core and Python's
    ``sqlite3`` share one SQLite library; otherwise in a child Python process, so the core's
    separate SQLite never closes a file in the app's process (which would drop the app's
    locks on it). In the child a ``progress`` callable is dropped. Arguments and results
    travel as pickles; a ``thywill_core`` exception comes back as the same class with the
    same message and attributes. The result is plain data: a report object
    (``ImportReport``) is returned as its ``to_dict()``, in both paths.
    """
    if thywill_core.sqlite_library()["shared_with_python"]:
        return _plain(getattr(thywill_core, name)(*args, **kwargs))
    return _call_in_child(name, args, kwargs)


def _call_in_child(name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    kwargs = {key: value for key, value in kwargs.items() if key != "progress"}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=pickle.dumps((name, args, kwargs)),
        capture_output=True,
        check=False,
    )
    if child.returncode != 0:
        stderr = child.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"thywill_core.{name} in a child process failed: {stderr}")
    outcome, value = pickle.loads(child.stdout)
    if outcome == "ok":
        return value
    class_name, message, attributes = value
    error_class = getattr(thywill_core, class_name, None)
    if not (isinstance(error_class, type) and issubclass(error_class, BaseException)):
        error_class = getattr(builtins, class_name, None)
    if not (isinstance(error_class, type) and issubclass(error_class, Exception)):
        error_class = RuntimeError
    error = error_class(message)
    for key, attribute in attributes.items():
        setattr(error, key, attribute)
    raise error


# The child: read (name, args, kwargs), call, write ("ok", plain result) or
# ("error", (class name, message, attributes)). Its stdout carries only the pickle.
_CHILD = """
import pickle, sys
out = sys.stdout.buffer
sys.stdout = sys.stderr
import thywill_core
from thywill_core.compat._database import _plain
name, args, kwargs = pickle.loads(sys.stdin.buffer.read())
try:
    result = ("ok", _plain(getattr(thywill_core, name)(*args, **kwargs)))
except Exception as error:
    attributes = {
        key: getattr(error, key)
        for key in ("path", "line", "reason")
        if isinstance(error, thywill_core.ThywillError) and key in vars(error)
    }
    message = str(error.args[0]) if error.args else str(error)
    result = ("error", (type(error).__name__, message, attributes))
out.write(pickle.dumps(result))
out.flush()
"""
