"""thywill_core.web: the archive routes under FastAPI's TestClient, on a copy of s1.

The test app signs requests in the way ThyWill does: a `sid` cookie names a row of the copied
database's `session` table (fully or half authenticated), and admin rights come from the
`admin` role in `user_roles`. The sessions below are inserted for real users of s1.
"""

import io
import os
import shutil
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

import thywill_core
from thywill_core.web import archive_router, content_disposition

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 15, 10, 30)

MEMBER = "John Lee"
NON_ASCII_MEMBER = "Δημήτρης Παπαδόπουλος"
ADMIN = "John B."  # has the admin role in s1
RENAMED_TO_ADMIN = "Thomas Adams"  # a plain member, renamed "admin" in the copy
SESSIONS = {
    "member": (MEMBER, True),
    "greek": (NON_ASCII_MEMBER, True),
    "admin": (ADMIN, True),
    "named-admin": ("admin", True),
    "half": (MEMBER, False),
}


def fixtures_dir() -> Path:
    return Path(os.environ.get("THYWILL_FIXTURES", ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def community(tmp_path: Path) -> Path:
    """A writable copy of s1 with the sessions of SESSIONS and a member renamed "admin"."""
    source = fixtures_dir() / "s1"
    if not source.is_dir():
        pytest.fail(f"fixture missing: {source}")
    shutil.copyfile(source / "thywill.db", tmp_path / "thywill.db")
    shutil.copytree(source / "text_archives", tmp_path / "text_archives")
    with sqlite3.connect(tmp_path / "thywill.db") as conn:
        conn.execute(
            "UPDATE user SET display_name = 'admin' WHERE display_name = ?", (RENAMED_TO_ADMIN,)
        )
        conn.execute(
            "UPDATE prayer SET author_username = 'admin' WHERE author_username = ?",
            (RENAMED_TO_ADMIN,),
        )
        for sid, (user, full) in SESSIONS.items():
            conn.execute(
                "INSERT INTO session (id, username, created_at, expires_at, is_fully_authenticated)"
                " VALUES (?, ?, '2025-06-15 10:00:00', '2099-01-01 00:00:00', ?)",
                (f"sid-{sid}", user, full),
            )
    return tmp_path


def make_app(community: Path) -> FastAPI:
    db = community / "thywill.db"

    def require_full_auth(request: Request) -> tuple[str, bool]:
        sid = request.cookies.get("sid")
        if not sid:
            raise HTTPException(401, detail="no_session")
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT username, is_fully_authenticated FROM session WHERE id = ?", (sid,)
            ).fetchone()
        if row is None:
            raise HTTPException(401, detail="invalid_session")
        if not row[1]:
            raise HTTPException(403, detail="Full authentication required")
        return (row[0], True)

    def is_admin(principal: tuple[str, bool]) -> bool:
        with sqlite3.connect(db) as conn:
            return (
                conn.execute(
                    "SELECT 1 FROM user_roles ur JOIN role r ON r.id = ur.role_id"
                    " WHERE ur.user_id = ? AND r.name = 'admin'"
                    " AND (ur.expires_at IS NULL OR ur.expires_at > datetime('now'))",
                    (principal[0],),
                ).fetchone()
                is not None
            )

    app = FastAPI()
    app.include_router(
        archive_router(
            db_path=db,
            archive_dir=community / "text_archives",
            require_full_auth=require_full_auth,
            is_admin=is_admin,
            clock=lambda: NOW,
        )
    )
    return app


@pytest.fixture
def client(community: Path) -> Iterator[TestClient]:
    with TestClient(make_app(community)) as c:
        yield c


def get(client: TestClient, who: str | None, url: str, method: str = "GET") -> Any:
    client.cookies.clear()
    if who:
        client.cookies.set("sid", f"sid-{who}")
    return client.request(method, url)


def zip_names(body: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return z.namelist()


def user_url(name: str, what: str = "download") -> str:
    from urllib.parse import quote

    return f"/api/archive/user/{quote(name, safe='')}/{what}"


DOWNLOAD_ROUTES = [
    ("GET", user_url(MEMBER)),
    ("GET", user_url(MEMBER, "metadata")),
    ("GET", "/api/archive/community/list"),
    ("GET", "/api/archive/community/download"),
    ("GET", "/api/archive/prayer/{pid}/file"),
    ("DELETE", "/api/archive/downloads/cleanup"),
    ("GET", "/export/text-archive"),
]


def any_prayer(community: Path, flagged: bool = False) -> str:
    with sqlite3.connect(community / "thywill.db") as conn:
        row = conn.execute(
            "SELECT id FROM prayer WHERE flagged = ? AND text_file_path IS NOT NULL"
            " ORDER BY id LIMIT 1",
            (int(flagged),),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_member_downloads_their_own_archive(client: TestClient) -> None:
    r = get(client, "member", user_url(MEMBER))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="John Lee_archive_2025_06_15.zip"'
    assert r.headers["content-length"] == str(len(r.content))
    names = zip_names(r.content)
    assert names == sorted(names) and all(n.startswith("John Lee_text_archive/") for n in names)
    assert "John Lee_text_archive/personal/registration.txt" in names
    assert any(n.startswith("John Lee_text_archive/community/") for n in names)
    own = get(client, "member", user_url(MEMBER) + "?include_community=false")
    assert own.status_code == 200
    assert not any("/community/" in n for n in zip_names(own.content))
    assert any("/prayers/prayer_" in n for n in zip_names(own.content))


def test_an_answer_sends_the_file_it_opened_even_if_a_new_one_is_renamed_over_it(
    tmp_path: Path,
) -> None:
    # A user's ZIPs with and without the community part share one name: a second request
    # renames its ZIP over the first while the first answer is on its way.
    from thywill_core.web import _open_file_response

    path = tmp_path / "Ann_archive_2025_06_15.zip"
    path.write_bytes(b"first ZIP " * 1000)
    app = FastAPI()

    @app.get("/z")
    def z() -> Any:
        response = _open_file_response(str(path), "application/zip", path.name, "gone")
        (tmp_path / "new").write_bytes(b"second")
        os.replace(tmp_path / "new", path)
        return response

    with TestClient(app) as c:
        r = c.get("/z")
    assert r.content == b"first ZIP " * 1000
    assert r.headers["content-length"] == str(len(r.content))
    assert path.read_bytes() == b"second"


def test_member_metadata_is_theirs_and_shows_no_server_paths(
    client: TestClient, community: Path
) -> None:
    r = get(client, "member", user_url(MEMBER, "metadata"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"user", "prayers", "activities", "archive_statistics"}
    assert body["user"]["display_name"] == MEMBER
    assert body["archive_statistics"]["total_prayers"] == len(body["prayers"]) > 0
    assert str(community) not in r.text


def test_a_member_is_refused_other_users_archives_and_the_cleanup(client: TestClient) -> None:
    for url in (user_url(ADMIN), user_url(ADMIN, "metadata"), user_url("Nobody Here")):
        r = get(client, "member", url)
        assert (r.status_code, r.json()) == (403, {"detail": "Access denied"}), url
    r = get(client, "member", "/api/archive/downloads/cleanup", "DELETE")
    assert (r.status_code, r.json()) == (403, {"detail": "Admin access required"})


def test_a_non_admin_named_admin_gets_no_admin_rights(client: TestClient) -> None:
    assert get(client, "named-admin", user_url(MEMBER)).status_code == 403
    assert get(client, "named-admin", user_url(MEMBER, "metadata")).status_code == 403
    assert get(client, "named-admin", "/api/archive/downloads/cleanup", "DELETE").status_code == 403
    own = get(client, "named-admin", user_url("admin"))
    assert own.status_code == 200
    assert own.headers["content-disposition"] == 'attachment; filename="admin_archive_2025_06_15.zip"'


def test_an_admin_by_role_gets_anyones_archive_and_unknown_users_are_404(
    client: TestClient,
) -> None:
    r = get(client, "admin", user_url(MEMBER))
    assert r.status_code == 200 and zip_names(r.content)[0].startswith("John Lee_text_archive/")
    assert get(client, "admin", user_url(MEMBER, "metadata")).json()["user"]["id"] == MEMBER
    for url in (user_url("Nobody Here"), user_url("Nobody Here", "metadata")):
        r = get(client, "admin", url)
        assert (r.status_code, r.json()) == (404, {"detail": "User not found"}), url


def test_half_authenticated_and_anonymous_sessions_get_nothing(
    client: TestClient, community: Path
) -> None:
    pid = any_prayer(community)
    for method, url in DOWNLOAD_ROUTES:
        url = url.format(pid=pid)
        half = get(client, "half", url, method)
        assert (half.status_code, half.json()) == (403, {"detail": "Full authentication required"}), url
        anon = get(client, None, url, method)
        assert anon.status_code == 401, url
        unknown = get(client, "no-such-session", url, method)
        assert unknown.status_code == 401, url
    assert not (community / "text_archives" / "downloads").exists()


def test_every_member_gets_the_community_zip_without_flagged_prayers(
    client: TestClient, community: Path
) -> None:
    r = get(client, "member", "/api/archive/community/download")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    name = "complete_site_archive_2025_06_15_1030.zip"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    names = zip_names(r.content)
    assert "complete_site_archive/README.txt" in names
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        text = "".join(z.read(n).decode() for n in names)
    with sqlite3.connect(community / "thywill.db") as conn:
        flagged = [row[0] for row in conn.execute("SELECT id FROM prayer WHERE flagged")]
    assert flagged and not any(pid in text for pid in flagged)
    export = get(client, "member", "/export/text-archive")
    assert export.status_code == 200 and export.content == r.content
    assert export.headers["content-disposition"] == r.headers["content-disposition"]
    assert (community / "text_archives" / "downloads" / name).is_file()


def test_the_community_listing_shows_archive_relative_paths(
    client: TestClient, community: Path
) -> None:
    r = get(client, "greek", "/api/archive/community/list")
    assert r.status_code == 200
    archives = r.json()["archives"]
    assert archives and {a["type"] for a in archives} == {"prayers", "users", "activity"}
    assert not any(a["path"].startswith("/") for a in archives)
    assert str(community) not in r.text
    # Each prayer month counts what the community ZIP holds of it: no flagged prayers.
    zipped = zip_names(get(client, "member", "/api/archive/community/download").content)
    for a in archives:
        if a["type"] == "prayers":
            prefix = f"complete_site_archive/{a['path']}/"
            assert a["file_count"] == sum(n.startswith(prefix) for n in zipped), a["path"]


def test_a_non_ascii_name_gets_its_archive_with_an_rfc6266_name(client: TestClient) -> None:
    r = get(client, "greek", user_url(NON_ASCII_MEMBER))
    assert r.status_code == 200
    file_name = f"{NON_ASCII_MEMBER}_archive_2025_06_15.zip"
    assert r.headers["content-disposition"] == content_disposition(file_name)
    assert "filename*=UTF-8''%CE%94%CE%B7" in r.headers["content-disposition"]
    assert zip_names(r.content)[0].startswith(f"{NON_ASCII_MEMBER}_text_archive/")


def test_content_disposition_quotes_and_escapes() -> None:
    assert content_disposition("a b.zip") == 'attachment; filename="a b.zip"'
    assert content_disposition('x";y\\.zip') == (
        "attachment; filename=\"x_;y_.zip\"; filename*=UTF-8''x%22%3By%5C.zip"
    )
    assert content_disposition("é.zip").startswith('attachment; filename="_.zip"; filename*=')


def test_a_prayer_file_is_served_as_text(client: TestClient, community: Path) -> None:
    pid = any_prayer(community)
    r = get(client, "member", f"/api/archive/prayer/{pid}/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    served = thywill_core.download_prayer_file(
        community / "thywill.db", community / "text_archives", pid
    )
    assert r.headers["content-disposition"] == f'attachment; filename="{served["file_name"]}"'
    assert served["file_name"].startswith(f"prayer_{pid}_")
    assert r.content == Path(served["path"]).read_bytes()
    assert r.content.startswith(f"Prayer {pid} by ".encode())


def test_who_flagged_an_unflagged_prayer_is_served_only_to_an_admin(
    client: TestClient, community: Path
) -> None:
    pid = any_prayer(community)
    path = Path(
        thywill_core.download_prayer_file(
            community / "thywill.db", community / "text_archives", pid
        )["path"]
    )
    original = path.read_bytes()
    flag = b"March 03 2024 at 06:42 - Ruth flagged this prayer\n"
    mark = b"March 04 2024 at 06:42 - Ann prayed this prayer\n"
    unflag = b"March 05 2024 at 06:42 - Admin unflagged this prayer\n"
    path.write_bytes(original + flag + mark + unflag)

    r = get(client, "member", f"/api/archive/prayer/{pid}/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-disposition"].startswith(f'attachment; filename="prayer_{pid}_')
    assert r.content == original + mark
    assert r.headers["content-length"] == str(len(original + mark))

    r = get(client, "admin", f"/api/archive/prayer/{pid}/file")
    assert r.status_code == 200
    assert r.content == original + flag + mark + unflag


def test_flagged_and_unknown_prayers_are_404_for_members(
    client: TestClient, community: Path
) -> None:
    flagged = any_prayer(community, flagged=True)
    r = get(client, "member", f"/api/archive/prayer/{flagged}/file")
    assert (r.status_code, r.json()) == (404, {"detail": "Prayer archive file not found"})
    assert get(client, "admin", f"/api/archive/prayer/{flagged}/file").status_code == 200
    r = get(client, "member", "/api/archive/prayer/" + "0" * 32 + "/file")
    assert r.status_code == 404


@pytest.mark.parametrize("stored", ["/etc/hostname", "../../../etc/hostname", "link-out"])
def test_a_stored_path_leaving_the_archive_is_404(
    client: TestClient, community: Path, stored: str
) -> None:
    pid = any_prayer(community)
    archives = community / "text_archives"
    if stored == "link-out":
        secret = community / "secret.txt"
        secret.write_text("not for the web\n")
        (archives / "prayers" / "link.txt").symlink_to(secret)
        stored = "text_archives/prayers/link.txt"
    with sqlite3.connect(community / "thywill.db") as conn:
        conn.execute("UPDATE prayer SET text_file_path = ? WHERE id = ?", (stored, pid))
    r = get(client, "admin", f"/api/archive/prayer/{pid}/file")
    assert (r.status_code, r.json()) == (404, {"detail": "Prayer archive file not found"})
    assert "hostname" not in r.text and str(community) not in r.text


@pytest.mark.parametrize(
    "url",
    [
        "/api/archive/prayer/..%2f..%2f..%2fetc%2fhostname/file",
        "/api/archive/prayer/%2fetc%2fhostname/file",
        "/api/archive/prayer/..%2fthywill.db/file",
        "/api/archive/user/..%2f..%2fetc/download",
        "/api/archive/user/%2fetc%2fpasswd/metadata",
        "/api/archive/user/..%2f..%2f..%2ftmp%2fx/download",
    ],
)
def test_traversal_in_ids_gets_nothing(client: TestClient, community: Path, url: str) -> None:
    before = sorted(p.name for p in community.iterdir())
    for who in ("member", "admin"):
        r = get(client, who, url)
        assert r.status_code in (403, 404), (who, url)
        assert r.headers["content-type"] == "application/json"
        assert "root:" not in r.text and str(community) not in r.text
    assert sorted(p.name for p in community.iterdir()) == before


def test_a_display_name_with_separators_stays_in_downloads(
    client: TestClient, community: Path
) -> None:
    # A name with "/" cannot be asked for (the route's {user_id} is one path segment);
    # backslashes and dots can.
    name = "..\\..\\x"
    with sqlite3.connect(community / "thywill.db") as conn:
        conn.execute("UPDATE user SET display_name = ? WHERE display_name = ?", (name, MEMBER))
        conn.execute("UPDATE prayer SET author_username = ? WHERE author_username = ?", (name, MEMBER))
    r = get(client, "admin", user_url(name))
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="______x_archive_2025_06_15.zip"'
    assert (community / "text_archives" / "downloads" / "______x_archive_2025_06_15.zip").is_file()
    assert not (community / "x_archive_2025_06_15.zip").exists()


def test_the_admin_cleanup_removes_only_old_downloads(client: TestClient, community: Path) -> None:
    downloads = community / "text_archives" / "downloads"
    downloads.mkdir()
    old = downloads / "Ann_archive_2025_01_01.zip"
    fresh = downloads / "Ann_archive_2025_06_15.zip"
    foreign = downloads / "notes.txt"
    for f in (old, fresh, foreign):
        f.write_bytes(b"x")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    os.utime(foreign, (past, past))
    r = get(client, "admin", "/api/archive/downloads/cleanup", "DELETE")
    assert (r.status_code, r.json()) == (200, {"message": "Download cleanup scheduled"})
    # TestClient runs the background task before it returns.
    assert not old.exists() and fresh.exists() and foreign.exists()


def test_core_failures_are_500_without_server_paths(tmp_path: Path) -> None:
    (tmp_path / "thywill.db").write_bytes(b"this is not a database" * 100)
    (tmp_path / "text_archives").mkdir()

    def require_full_auth() -> str:
        return MEMBER

    app = FastAPI()
    app.include_router(
        archive_router(
            db_path=tmp_path / "thywill.db",
            archive_dir=tmp_path / "text_archives",
            require_full_auth=require_full_auth,
            is_admin=lambda _: False,
        )
    )
    with TestClient(app) as c:
        for url in (user_url(MEMBER), user_url(MEMBER, "metadata"), "/api/archive/community/download"):
            r = c.get(url)
            assert (r.status_code, r.json()) == (500, {"detail": "Archive download failed"}), url
            assert str(tmp_path) not in r.text
