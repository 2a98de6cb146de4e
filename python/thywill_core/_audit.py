"""The audit trail's Python side: naming the app user an operation runs for."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from thywill_core import _native


@contextmanager
def acting_user(user: str) -> Iterator[None]:
    """Records ``user`` as the acting user of the operations this thread runs inside the
    block (the web routes name the member who asked for a download)::

        with thywill_core.acting_user("Miriam"):
            thywill_core.download_user(db, archives, "Miriam")
    """
    _native._set_acting_user(user)
    try:
        yield
    finally:
        _native._set_acting_user(None)
