"""The archive download routes as a FastAPI router (``pip install thywill-core[web]``).

:func:`archive_router` gives ThyWill's six ``/api/archive`` routes and its
``/export/text-archive`` route, served by the core's download functions::

    from thywill_core.web import archive_router

    app.include_router(archive_router(
        db_path="thywill.db",
        archive_dir="text_archives",
        require_full_auth=require_full_auth,           # the app's dependency
        is_admin=lambda principal: is_admin_by_role(principal[0]),
    ))

The app keeps authentication: ``require_full_auth`` is its own FastAPI dependency, which
answers 401 or 403 itself when the request has no fully authenticated session, and
``is_admin`` decides admin rights (by role; the router never looks at names for that).
The router decides who may ask for what:

- every route needs full authentication, the community ZIP at ``/export/text-archive``
  too (ThyWill let a half-authenticated session download it);
- a member gets their own archive and metadata, the community ZIP and listing, and the
  archive file of any prayer that is not flagged;
- an admin gets anyone's archive and metadata, flagged prayers' files, and the cleanup.

The core decides what a download may contain (docs/downloads.md, privacy rules). Core errors
are mapped in one place (:func:`_http_error`): not found and refused paths answer 404,
invalid input 400, anything else 500 with a fixed message (the core's message, which can
name server paths, is logged, never sent).

This module is the only one that imports FastAPI.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException
from fastapi.responses import StreamingResponse

import thywill_core

__all__ = ["archive_router", "content_disposition", "display_name_of"]

_log = logging.getLogger(__name__)

_Path = str | os.PathLike[str]
_CHUNK = 1 << 20


def display_name_of(principal: Any) -> str:
    """The display name of what the app's auth dependency returned: ThyWill's
    ``(User, Session)`` tuple, a user object with ``display_name``, or the name itself."""
    user = principal[0] if isinstance(principal, tuple) and principal else principal
    name = user if isinstance(user, str) else getattr(user, "display_name", None)
    if not isinstance(name, str):
        raise TypeError("cannot tell the display name of the signed-in user; pass user_name=")
    return name


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name quoted, plus the UTF-8 form (RFC 6266) when the name is
    not plain ASCII. ThyWill sent the name bare: a space made it an invalid token, ``;`` cut
    it short, and a name outside Latin-1 could not be encoded at all (a 500)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
        for c in unicodedata.normalize("NFC", file_name)
    )
    header = f'attachment; filename="{fallback}"'
    if fallback != file_name:
        header += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return header


def _open_file_response(
    path: str, media_type: str, file_name: str, not_found: str
) -> StreamingResponse:
    """The file, opened now and streamed from that open file.

    Serving by path (``FileResponse``) would read its size, then open the path again when
    the answer starts. Meanwhile another request can rename a new ZIP of the same name into
    place (a user's ZIP with and without the community part share one name), so the length
    sent would not match the bytes. An open file keeps the bytes it was opened with.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed by the generator below)
        size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise HTTPException(status_code=404, detail=not_found) from None
    except OSError as error:
        _log.error("archive download failed: %s", error)
        raise HTTPException(status_code=500, detail="Archive download failed") from None

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(file_name),
            "Content-Length": str(size),
        },
    )


def _http_error(error: thywill_core.ThywillError, not_found: str) -> NoReturn:
    """The one mapping from core errors to HTTP answers."""
    if isinstance(error, (thywill_core.NotFoundError, thywill_core.AccessDeniedError)):
        # A refused stored path (outside the archive, a link out, a flagged prayer) answers
        # like a missing file: the asker learns nothing about the server's files.
        raise HTTPException(status_code=404, detail=not_found) from None
    if isinstance(error, thywill_core.InvalidInputError):
        raise HTTPException(status_code=400, detail="Invalid request") from None
    _log.error("archive download failed: %s", error)
    raise HTTPException(status_code=500, detail="Archive download failed") from None


def archive_router(
    *,
    db_path: _Path,
    archive_dir: _Path,
    require_full_auth: Callable[..., Any],
    is_admin: Callable[[Any], bool],
    user_name: Callable[[Any], str] = display_name_of,
    path_prefix: str = "text_archives",
    include_prayer_activity: bool = False,
    cleanup_max_age_seconds: int = 86_400,
    clock: Callable[[], datetime] | None = None,
    prefix: str = "/api/archive",
    export_path: str | None = "/export/text-archive",
) -> APIRouter:
    """The archive download routes, ready for ``app.include_router``.

    - ``db_path``, ``archive_dir``: ThyWill's database and its ``text_archives`` folder.
      ZIPs are written to ``<archive_dir>/downloads/``, which the cleanup route empties of
      downloads older than ``cleanup_max_age_seconds`` (default 24 h, as ThyWill).
    - ``require_full_auth``: the app's FastAPI dependency that returns the signed-in user
      (anything: ThyWill returns ``(User, Session)``) of a fully authenticated session,
      and raises ``HTTPException`` (401, 403) otherwise. Every route depends on it.
    - ``is_admin(principal)``: whether that user is an admin (by role).
    - ``user_name(principal)``: their display name, which is what ``{user_id}`` names, as
      in ThyWill (default :func:`display_name_of`).
    - ``path_prefix``: what stored relative ``text_file_path`` values start with.
    - ``include_prayer_activity``: put who prayed for each prayer into the community ZIP
      (default off; flagged prayers are never in it).
    - ``clock``: the export time of a ZIP (default the current local time); it goes into
      the ZIP's name and entry times.
    - ``prefix``: of the six ``/api/archive`` routes; ``export_path``: of the export
      route (``None`` leaves it out).
    """
    router = APIRouter(tags=["archives"])
    full_auth = Depends(require_full_auth)

    def now() -> str | None:
        return clock().strftime("%Y-%m-%dT%H:%M:%S") if clock is not None else None

    def zip_response(report: dict[str, Any]) -> StreamingResponse:
        return _open_file_response(
            report["path"], "application/zip", report["file_name"], "Archive not found"
        )

    def check_own_or_admin(principal: Any, user_id: str) -> None:
        if user_name(principal) != user_id and not is_admin(principal):
            raise HTTPException(status_code=403, detail="Access denied")

    def community_zip() -> StreamingResponse:
        try:
            report = thywill_core.download_community(
                db_path, archive_dir, include_prayer_activity=include_prayer_activity, now=now()
            )
        except thywill_core.ThywillError as error:
            _http_error(error, "Archive not found")
        return zip_response(report)

    # Handlers are plain functions: FastAPI runs them on its thread pool, and the core
    # releases the GIL while it writes a ZIP.

    @router.get(prefix + "/user/{user_id}/download")
    def download_user_archive(
        user_id: str, include_community: bool = True, principal: Any = full_auth
    ) -> StreamingResponse:
        """The user's archive ZIP: their own, or anyone's for an admin."""
        check_own_or_admin(principal, user_id)
        try:
            report = thywill_core.download_user(
                db_path,
                archive_dir,
                user_id,
                include_community=include_community,
                now=now(),
                path_prefix=path_prefix,
            )
        except thywill_core.ThywillError as error:
            _http_error(error, "User not found")
        return zip_response(report)

    @router.get(prefix + "/user/{user_id}/metadata")
    def get_user_archive_metadata(user_id: str, principal: Any = full_auth) -> dict[str, Any]:
        """The user's archive metadata: their own, or anyone's for an admin."""
        check_own_or_admin(principal, user_id)
        try:
            return thywill_core.download_user_metadata(
                db_path, archive_dir, user_id, path_prefix=path_prefix
            )
        except thywill_core.ThywillError as error:
            _http_error(error, "User not found")

    @router.get(prefix + "/community/list")
    def list_community_archives(principal: Any = full_auth) -> dict[str, Any]:
        """The community's monthly archive files, for every member."""
        try:
            return thywill_core.download_list_community(db_path, archive_dir)
        except thywill_core.ThywillError as error:
            _http_error(error, "Archive not found")

    @router.get(prefix + "/community/download")
    def download_community_archive(principal: Any = full_auth) -> StreamingResponse:
        """The community ZIP, for every member (transparency, as in ThyWill)."""
        return community_zip()

    @router.get(prefix + "/prayer/{prayer_id}/file")
    def get_prayer_archive_file(prayer_id: str, principal: Any = full_auth) -> StreamingResponse:
        """One prayer's archive file; a flagged prayer's, and who flagged, unflagged or
        skipped one, only for an admin."""
        admin = is_admin(principal)
        try:
            served = thywill_core.download_prayer_file(
                db_path,
                archive_dir,
                prayer_id,
                include_flagged=admin,
                include_moderation=admin,
                path_prefix=path_prefix,
            )
        except thywill_core.ThywillError as error:
            _http_error(error, "Prayer archive file not found")
        if served["content"] is not None:
            body = served["content"].encode("utf-8")
            return StreamingResponse(
                iter([body]),
                media_type="text/plain; charset=utf-8",
                headers={
                    "Content-Disposition": content_disposition(served["file_name"]),
                    "Content-Length": str(len(body)),
                },
            )
        return _open_file_response(
            served["path"],
            "text/plain; charset=utf-8",
            served["file_name"],
            "Prayer archive file not found",
        )

    @router.delete(prefix + "/downloads/cleanup")
    def cleanup_old_downloads(
        background_tasks: BackgroundTasks, principal: Any = full_auth
    ) -> dict[str, str]:
        """Removes downloads older than the cleanup age, after the answer (admins only)."""
        if not is_admin(principal):
            raise HTTPException(status_code=403, detail="Admin access required")

        def cleanup() -> None:
            try:
                report = thywill_core.download_cleanup(
                    archive_dir, max_age_seconds=cleanup_max_age_seconds
                )
                _log.info("download cleanup removed %d file(s)", len(report["removed"]))
            except thywill_core.ThywillError as error:
                _log.error("download cleanup failed: %s", error)

        background_tasks.add_task(cleanup)
        return {"message": "Download cleanup scheduled"}

    if export_path is not None:

        @router.get(export_path)
        def export_text_archive(principal: Any = full_auth) -> StreamingResponse:
            """The community ZIP, as the export page offers it (full authentication)."""
            return community_zip()

    return router
