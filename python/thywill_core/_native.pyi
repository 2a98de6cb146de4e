# Hand-written stub of the Rust module; `python -m mypy.stubtest thywill_core._native`
# checks it against the installed wheel (scripts/test.sh).
from collections.abc import Callable
from typing import ClassVar, TypeAlias

__all__ = [
    "AccessDeniedError",
    "ArchiveFormatError",
    "CancelledError",
    "ConflictError",
    "CorruptError",
    "DatabaseError",
    "InternalError",
    "InvalidInputError",
    "NotFoundError",
    "RemoteError",
    "ThywillError",
    "ThywillIOError",
    "__version__",
    "_plain_roundtrip",
    "_progress_probe",
    "_raise_core_error",
]

__version__: str

_Progress: TypeAlias = Callable[[str, int, int | None], bool | None]
"""``progress(phase, done, total)``; return False to cancel."""

class ThywillError(Exception):
    kind: ClassVar[str]
    path: str | None

class NotFoundError(ThywillError): ...
class CorruptError(ThywillError): ...
class ConflictError(ThywillError): ...
class AccessDeniedError(ThywillError): ...
class InvalidInputError(ThywillError): ...

class ArchiveFormatError(InvalidInputError):
    line: int | None
    reason: str | None

class ThywillIOError(ThywillError): ...
class DatabaseError(ThywillError): ...
class RemoteError(ThywillError): ...
class CancelledError(ThywillError): ...
class InternalError(ThywillError): ...

def _raise_core_error(variant: str, message: str) -> None: ...
def _progress_probe(phase: str, steps: int, progress: _Progress | None = None) -> int: ...
def _plain_roundtrip(value: object) -> object: ...
