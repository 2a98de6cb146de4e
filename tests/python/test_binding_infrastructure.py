"""The binding machinery every domain relies on: errors, progress, plain data, typing."""

import threading
from pathlib import Path

import pytest

import thywill_core
from thywill_core import _native

KIND_TO_CLASS = {
    "NotFound": thywill_core.NotFoundError,
    "Corrupt": thywill_core.CorruptError,
    "Conflict": thywill_core.ConflictError,
    "InvalidInput": thywill_core.InvalidInputError,
    "ArchiveFormat": thywill_core.ArchiveFormatError,
    "Io": thywill_core.ThywillIOError,
    "IoNotFound": thywill_core.NotFoundError,
    "IoPermission": thywill_core.AccessDeniedError,
    "Database": thywill_core.DatabaseError,
    "Remote": thywill_core.RemoteError,
    "Cancelled": thywill_core.CancelledError,
    "Internal": thywill_core.InternalError,
}


def test_version_matches_the_crate() -> None:
    cargo = (Path(__file__).resolve().parents[2] / "Cargo.toml").read_text()
    assert f'version = "{thywill_core.__version__}"' in cargo


@pytest.mark.parametrize(("variant", "cls"), KIND_TO_CLASS.items())
def test_each_core_error_maps_to_its_class(variant: str, cls: type) -> None:
    with pytest.raises(cls) as info:
        _native._raise_core_error(variant, "details here")
    assert type(info.value) is cls
    assert isinstance(info.value, thywill_core.ThywillError)
    assert isinstance(info.value, Exception)


def test_every_class_has_its_kind_and_a_distinct_one() -> None:
    classes = {c for c in KIND_TO_CLASS.values() if c is not thywill_core.ArchiveFormatError}
    kinds = {c.kind for c in classes}
    assert len(kinds) == len(classes) == 10
    assert thywill_core.NotFoundError.kind == "not_found"
    assert thywill_core.AccessDeniedError.kind == "permission"
    assert thywill_core.ArchiveFormatError.kind == "invalid_input"


def test_archive_format_error_carries_path_line_reason() -> None:
    with pytest.raises(thywill_core.InvalidInputError) as info:
        _native._raise_core_error("ArchiveFormat", "missing Submitted line")
    error = info.value
    assert isinstance(error, thywill_core.ArchiveFormatError)
    assert (error.path, error.line, error.reason) == ("prayers/x.txt", 3, "missing Submitted line")
    assert str(error) == "prayers/x.txt:3: missing Submitted line"


def test_io_error_carries_path_and_others_default_to_none() -> None:
    with pytest.raises(thywill_core.ThywillIOError) as info:
        _native._raise_core_error("Io", "disk on fire")
    assert info.value.path == "some/file"
    assert "disk on fire" in str(info.value)
    with pytest.raises(thywill_core.ConflictError) as conflict:
        _native._raise_core_error("Conflict", "locked")
    assert conflict.value.path is None
    assert str(conflict.value) == "conflict: locked"


def test_unknown_variant_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        _native._raise_core_error("Nope", "")


def test_progress_callable_sees_every_event_in_order() -> None:
    events: list[tuple[str, int, int | None]] = []
    assert _native._progress_probe("users", 3, lambda *e: events.append(e)) == 3
    assert events == [("users", 0, 3), ("users", 1, 3), ("users", 2, 3), ("users", 3, 3)]


def test_progress_false_cancels() -> None:
    seen: list[int] = []

    def stop_after_one(phase: str, done: int, total: int | None) -> bool:
        seen.append(done)
        return done < 1

    with pytest.raises(thywill_core.CancelledError):
        _native._progress_probe("prayers", 10, stop_after_one)
    assert seen == [0, 1]


def test_progress_exception_propagates_unchanged() -> None:
    class Boom(RuntimeError):
        pass

    def explode(phase: str, done: int, total: int | None) -> None:
        raise Boom("from callback")

    with pytest.raises(Boom, match="from callback"):
        _native._progress_probe("prayers", 5, explode)


def test_progress_from_several_threads_at_once() -> None:
    # Each core call re-acquires the GIL for its callback; concurrent calls from
    # threads must neither deadlock nor mix their events.
    results: dict[str, list[int]] = {"a": [], "b": []}

    def call(name: str) -> None:
        _native._progress_probe(name, 200, lambda phase, done, total: results[phase].append(done))

    threads = [threading.Thread(target=call, args=(name,)) for name in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"a": list(range(201)), "b": list(range(201))}


def test_plain_data_round_trips() -> None:
    value = {"a": [1, -2, 2**63, 1.5, True, None, "é😀"], "b": {"c": (1, 2)}}
    assert _native._plain_roundtrip(value) == {
        "a": [1, -2, 2**63, 1.5, True, None, "é😀"],
        "b": {"c": [1, 2]},
    }
    with pytest.raises(TypeError):
        _native._plain_roundtrip({1: 2})
    with pytest.raises(TypeError):
        _native._plain_roundtrip(object())


def test_package_reexports_everything_public() -> None:
    public = {n for n in _native.__all__ if not n.startswith("_") or n == "__version__"}
    assert public <= set(thywill_core.__all__)
    # The package's own Python additions, beside the native names.
    python_names = {
        "SqliteLibrary": "thywill_core._sqlite",
        "sqlite_library": "thywill_core._sqlite",
        "acting_user": "thywill_core._audit",
    }
    for name in thywill_core.__all__:
        if name in python_names:
            assert getattr(thywill_core, name).__module__ == python_names[name]
        else:
            assert getattr(thywill_core, name) is getattr(_native, name)


def test_native_module_is_the_abi3_build() -> None:
    assert _native.__file__ is not None and _native.__file__.endswith(".abi3.so")


def test_package_is_typed() -> None:
    package_dir = Path(thywill_core.__file__).parent
    assert (package_dir / "py.typed").is_file()
    assert (package_dir / "_native.pyi").is_file()
