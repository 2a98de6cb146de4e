#!/usr/bin/env python3
"""Replays the archive requests of a ThyWill live run against thywill_core.web and compares.

    .venv/bin/python scripts/compare-live-routes.py LIVE_DIR [--json FILE]

LIVE_DIR is the output of the peer harness's live.py (requests.jsonl, summary.json,
downloads/, result/). It needs thywill_core (the wheel) and fastapi/httpx in the running
Python.

How it replays:
- The starting data is the run's result (result/thywill.db and result/text_archives/, without
  ThyWill's downloads/), copied to a temporary folder. The requests before the archive routes
  (claims, logins, prayers, marks) are ThyWill's own write routes; what they wrote is that
  data. The archive routes write only downloads, so the data is what ThyWill's archive routes
  saw.
- Each archive request goes to a FastAPI app that mounts archive_router with the session
  cookie the run recorded (`Set-Cookie: sid` of the claim and login answers): the app's
  dependency reads the session row as ThyWill does (401 without one, 403 when it is not fully
  authenticated), and admin rights come from the `admin` role.
- The export time of our ZIPs is ThyWill's (the community ZIP's export_date), so ZIP names
  and dates match.

What it reports, per request: ThyWill's status and ours, the content type and attachment
file name of both, JSON bodies key by key (ThyWill's `text_archives/` path prefix removed), and
for every ZIP each entry: same bytes, or why not (which privacy rule of docs/downloads.md took
which lines or files out). Differences not explained by a rule, or a status that differs other
than where listed in EXPECTED_STATUS, make the exit status 1.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import json
import re
import shutil
import sqlite3
import sys
import tempfile
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from thywill_core.web import archive_router

# Steps whose status differs on purpose: step -> (ours, why).
EXPECTED_STATUS = {
    "missing_user_zip_by_admin": (
        404,
        "an unknown user is 404; ThyWill turned its ValueError into 500 and sent its message",
    ),
}
# JSON differences that are fixes (docs/downloads.md): a pattern of the key path -> why.
EXPECTED_JSON = {
    r"\.archive_statistics\.total_archive_files": "ThyWill always said 0; ours counts the files",
    r"\.(prayers|activities)\[\d+\]\.archive_exists": "ThyWill said \"\" for an empty path; ours null",
}
SESSION_STEPS = {"claim_admin": "admin", "claim_user": "user", "login_half": "half"}
# Export times vary between runs (the README of the live harness): compared as a placeholder.
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?")


def session_cookies(records: list[dict[str, Any]]) -> dict[str, str]:
    sids = {}
    for rec in records:
        who = SESSION_STEPS.get(rec["step"])
        for name, value in rec.get("headers", []):
            if who and name.lower() == "set-cookie" and value.startswith("sid="):
                sids[who] = value.split(";", 1)[0][len("sid=") :]
    return sids


def export_time(live: Path, records: list[dict[str, Any]]) -> datetime:
    for rec in records:
        saved = rec.get("saved", "")
        if "community_zip" in rec["step"] and saved.endswith(".zip"):
            with zipfile.ZipFile(live / saved) as z:
                meta = json.loads(z.read("complete_site_archive/archive_metadata.json"))
            return datetime.fromisoformat(meta["export_date"]).replace(microsecond=0)
    raise SystemExit("the live run saved no community ZIP; cannot tell its export time")


def make_app(db: Path, archives: Path, now: datetime) -> FastAPI:
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
            row = conn.execute(
                "SELECT 1 FROM user_roles ur JOIN role r ON r.id = ur.role_id"
                " WHERE ur.user_id = ? AND r.name = 'admin'"
                " AND (ur.expires_at IS NULL OR ur.expires_at > datetime('now'))",
                (principal[0],),
            ).fetchone()
        return row is not None

    app = FastAPI()
    app.include_router(
        archive_router(
            db_path=db,
            archive_dir=archives,
            require_full_auth=require_full_auth,
            is_admin=is_admin,
            clock=lambda: now,
        )
    )
    return app


def header(headers: list[list[str]] | Any, name: str) -> str | None:
    if isinstance(headers, list):
        for key, value in headers:
            if key.lower() == name:
                return str(value)
        return None
    return headers.get(name)  # type: ignore[no-any-return]


def attachment_name(value: str | None) -> str | None:
    if not value:
        return None
    m = re.search(r"filename\*=UTF-8''([^;]+)", value, re.I)
    if m:
        return unquote(m.group(1))
    m = re.search(r'filename="((?:[^"\\]|\\.)*)"', value)
    if m:
        return m.group(1)
    m = re.search(r"filename=(.*)$", value)
    return m.group(1).strip() if m else None


def without_prefix(value: Any) -> Any:
    """ThyWill's JSON with its stored `text_archives/` prefix removed from paths."""
    if isinstance(value, dict):
        return {k: without_prefix(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_prefix(v) for v in value]
    if isinstance(value, str) and value.startswith("text_archives/"):
        return value[len("text_archives/") :]
    return value


def json_differences(theirs: Any, ours: Any, where: str = "") -> list[str]:
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = []
        for key in sorted(set(theirs) | set(ours)):
            if key not in ours:
                out.append(f"{where}.{key}: only ThyWill's")
            elif key not in theirs:
                out.append(f"{where}.{key}: only ours")
            else:
                out += json_differences(theirs[key], ours[key], f"{where}.{key}")
        return out
    if isinstance(theirs, list) and isinstance(ours, list):
        if len(theirs) != len(ours):
            return [f"{where}: {len(theirs)} items vs {len(ours)}"]
        out = []
        for i, (t, o) in enumerate(zip(theirs, ours)):
            out += json_differences(t, o, f"{where}[{i}]")
        return out
    return [] if theirs == ours else [f"{where}: {theirs!r} vs {ours!r}"]


def line_reason(line: str, flagged: set[str]) -> str:
    """Which privacy rule of docs/downloads.md takes this line out of a copy."""
    if any(pid in line for pid in flagged):
        return "rule 1 (a flagged prayer)"
    if re.search(r" (flagged|unflagged|skipped)( this)? prayer|unflagged", line):
        return "rule 3 (moderation)"
    if " prayed this prayer" in line or " prayed for prayer " in line:
        return "rule 2 (who prayed)"
    return "UNEXPLAINED"


def entry_reason(name: str, data: bytes, flagged: set[str]) -> str:
    """Why an entry of ThyWill's ZIP is not in ours."""
    rel = name.split("/", 1)[1] if "/" in name else name
    if rel.startswith(("prayers/marks/", "prayers/skips/")):
        return "rule 2 (marks and skips ledgers)"
    if rel.startswith("prayers/attributes/") or rel.startswith("users/") and not re.fullmatch(
        r"users/\d{4}_\d\d_users\.txt", rel
    ):
        return "rule 4 (not community data)"
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    if first.startswith("Prayer ") and first.split(" ")[1] in flagged:
        return "rule 1 (a flagged prayer)"
    return "UNEXPLAINED"


def compare_zip(theirs: bytes, ours: bytes, flagged: set[str], registration_of: str | None) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(theirs)) as zt, zipfile.ZipFile(io.BytesIO(ours)) as zo:
        t = {n: zt.read(n) for n in zt.namelist() if not n.endswith("/")}
        o = {n: zo.read(n) for n in zo.namelist() if not n.endswith("/")}
    same, changed, only_theirs, only_ours = [], {}, {}, []
    for name in sorted(set(t) | set(o)):
        if name not in o:
            only_theirs[name] = entry_reason(name, t[name], flagged)
        elif name not in t:
            only_ours.append(name)
        else:
            a = ISO_TIME.sub("<time>", t[name].decode("utf-8", "replace"))
            b = ISO_TIME.sub("<time>", o[name].decode("utf-8", "replace"))
            if a == b:
                same.append(name)
                continue
            removed: Counter[str] = Counter()
            added = 0
            for d in difflib.ndiff(a.splitlines(), b.splitlines()):
                if d.startswith("- "):
                    reason = line_reason(d[2:], flagged)
                    if reason == "UNEXPLAINED" and name.endswith("personal/registration.txt"):
                        if registration_of and registration_of not in d[2:].split(" registered")[0]:
                            reason = "rule 5 (another user's registration line)"
                    if reason == "UNEXPLAINED" and not d[2:].strip():
                        reason = "a day left without lines (blank line)"
                    if reason == "UNEXPLAINED" and re.fullmatch(r"[A-Z][a-z]+ \d\d \d{4}", d[2:]):
                        reason = "a day left without lines (heading)"
                    removed[reason] += 1
                elif d.startswith("+ "):
                    added += 1
            changed[name] = {"lines_removed": dict(removed), "lines_added": added}
    return {
        "entries_theirs": len(t),
        "entries_ours": len(o),
        "same_bytes": len(same),
        "changed": changed,
        "only_theirs": only_theirs,
        "only_ours": only_ours,
    }


def zip_unexplained(z: dict[str, Any]) -> list[str]:
    bad = [f"only ours: {n}" for n in z["only_ours"]]
    bad += [f"only ThyWill's: {n}" for n, why in z["only_theirs"].items() if why == "UNEXPLAINED"]
    for n, c in z["changed"].items():
        if c["lines_added"] or "UNEXPLAINED" in c["lines_removed"]:
            bad.append(f"changed: {n} {c}")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("live", type=Path, help="a live.py output folder")
    ap.add_argument("--json", type=Path, help="also write the full comparison here")
    a = ap.parse_args()
    live = a.live
    records = [json.loads(line) for line in (live / "requests.jsonl").read_text().splitlines()]
    sids = session_cookies(records)
    now = export_time(live, records)

    with tempfile.TemporaryDirectory(prefix="compare-live-") as tmp:
        work = Path(tmp)
        shutil.copyfile(live / "result" / "thywill.db", work / "thywill.db")
        shutil.copytree(
            live / "result" / "text_archives",
            work / "text_archives",
            symlinks=True,
            ignore=lambda d, names: ["downloads"] if Path(d) == live / "result" / "text_archives" else [],
        )
        db = work / "thywill.db"
        with sqlite3.connect(db) as conn:
            flagged = {r[0] for r in conn.execute("SELECT id FROM prayer WHERE flagged")}
            flagged |= {
                r[0]
                for r in conn.execute(
                    "SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged'"
                )
            }
        rows: list[dict[str, Any]] = []
        problems: list[str] = []
        with TestClient(make_app(db, work / "text_archives", now)) as client:
            for rec in records:
                row: dict[str, Any] = {
                    "n": rec["n"],
                    "step": rec["step"],
                    "who": rec["who"],
                    "request": f"{rec['method']} {rec['route']}",
                    "thywill": rec["status"],
                }
                rows.append(row)
                if not rec["route"].startswith(("/api/archive", "/export/")):
                    row["ours"] = None
                    row["notes"] = "ThyWill's own route (its writes are the starting data)"
                    continue
                client.cookies.clear()
                sid = sids.get(rec["who"])
                if sid:
                    client.cookies.set("sid", sid)
                r = client.request(rec["method"], rec["path"])
                row["ours"] = r.status_code
                notes = []
                expected, why = EXPECTED_STATUS.get(rec["step"], (rec["status"], ""))
                if r.status_code != expected:
                    problems.append(f"{rec['step']}: ThyWill {rec['status']}, ours {r.status_code}")
                elif why:
                    notes.append(why)
                t_type, o_type = header(rec["headers"], "content-type"), r.headers.get("content-type")
                if t_type != o_type and r.status_code == 401:
                    notes.append(f"{t_type} is ThyWill's login page (its app's 401 handler, not the router)")
                elif t_type != o_type:
                    problems.append(f"{rec['step']}: content type {t_type} vs {o_type}")
                t_name = attachment_name(header(rec["headers"], "content-disposition"))
                o_name = attachment_name(r.headers.get("content-disposition"))
                if t_name or o_name:
                    row["attachment"] = {"thywill": t_name, "ours": o_name}
                    if t_name != o_name:
                        problems.append(f"{rec['step']}: attachment {t_name!r} vs {o_name!r}")
                    else:
                        form = "RFC 6266" if "filename*=" in r.headers["content-disposition"] else "quoted"
                        notes.append(f"same attachment name ({form})")
                saved = rec.get("saved")
                if saved and saved.endswith(".zip") and r.status_code == 200:
                    name = unquote(rec["path"].split("/user/")[1].split("/")[0]) if "/user/" in rec["path"] else None
                    z = compare_zip((live / saved).read_bytes(), r.content, flagged, name)
                    row["zip"] = z
                    problems += [f"{rec['step']}: {p}" for p in zip_unexplained(z)]
                    reasons = Counter(z["only_theirs"].values())
                    lines: Counter[str] = Counter()
                    for c in z["changed"].values():
                        lines.update(c["lines_removed"])
                    notes.append(
                        f"ZIP: {z['entries_theirs']} entries vs {z['entries_ours']}, "
                        f"{z['same_bytes']} same bytes, {len(z['changed'])} with lines left out"
                        + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(lines.items()))})" if lines else "")
                        + (f"; left out: {', '.join(f'{k}: {v}' for k, v in sorted(reasons.items()))}" if reasons else "")
                    )
                elif saved and saved.endswith(".json") and r.status_code == 200:
                    theirs = without_prefix(json.loads((live / saved).read_bytes()))
                    diffs = json_differences(theirs, r.json())
                    row["json_differences"] = diffs
                    whys = set()
                    for d in diffs:
                        why = next((w for k, w in EXPECTED_JSON.items() if re.match(k, d)), None)
                        if why is None:
                            problems.append(f"{rec['step']}: JSON {d}")
                        else:
                            whys.add(f"`{d.split(':')[0]}` ({why})")
                    notes.append("same JSON (paths without text_archives/)"
                                 + (f" except {', '.join(sorted(whys))}" if whys else ""))
                elif saved and saved.endswith(".txt") and r.status_code == 200:
                    same = (live / saved).read_bytes() == r.content
                    notes.append("same bytes" if same else "body differs")
                    if not same:
                        problems.append(f"{rec['step']}: body differs")
                elif "json" in rec and r.headers.get("content-type") == "application/json":
                    if rec["json"] != r.json():
                        notes.append(f"detail {rec['json']['detail']!r} vs {r.json()['detail']!r}")
                row["notes"] = "; ".join(notes)

    print("| # | step | who | request | ThyWill | ours | notes |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        ours = "—" if row["ours"] is None else row["ours"]
        print(f"| {row['n']} | {row['step']} | {row['who']} | `{row['request']}` | {row['thywill']} | {ours} | {row['notes']} |")
    for row in rows:
        for d in row.get("json_differences", []):
            print(f"{row['step']}: {d}")
        zipped = row.get("zip")
        if zipped:
            for n, why in zipped["only_theirs"].items():
                print(f"{row['step']}: only in ThyWill's ZIP: {n} ({why})")
            for n, c in zipped["changed"].items():
                if c["lines_added"] or "UNEXPLAINED" in c["lines_removed"]:
                    print(f"{row['step']}: {n}: {c}")
    if a.json:
        a.json.write_text(json.dumps({"export_time": now.isoformat(), "requests": rows, "problems": problems}, indent=1, ensure_ascii=False))
    print(f"\n{len(rows)} requests, {sum(r['ours'] is not None for r in rows)} replayed; "
          f"{len(problems)} unexplained difference(s)")
    for p in problems:
        print("UNEXPLAINED:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
