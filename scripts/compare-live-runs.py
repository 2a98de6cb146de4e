#!/usr/bin/env python3
"""Compares two runs of the peer harness's live.py: unmodified ThyWill and ThyWill with the
thywill_core.compat modules swapped in (scripts/thywill-live-with-compat.sh runs both).

    python3 scripts/compare-live-runs.py THYWILL_RUN COMPAT_RUN

Per request: the status of both runs; a difference is allowed only where EXPECTED_STATUS says
why. Per text archive file (result/text_archives/ without downloads/): the bytes of both
runs once ids and times are set aside (the harness's README lists what varies between two
runs: ids, tokens, timestamps in every format ThyWill writes, and the file names built from
them). The ZIP downloads are listed entry by entry for information; what our downloads change
on purpose is documented in docs/downloads.md and docs/migrating-from-thywill.md.
Exit status 1 when a status or an archive file differs unexplained. Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

# Steps whose status may differ: step -> why.
EXPECTED_STATUS: dict[str, str] = {}

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
# Order matters: longer forms before the shorter ones they contain.
VARYING = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2})?"), "<iso>"),
    (re.compile(rf"(?:{MONTHS}) \d{{2}} \d{{4}}(?: at \d{{2}}:\d{{2}})?"), "<date>"),
    (re.compile(rf"(?:{MONTHS}) \d{{4}}"), "<month>"),
    (re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])"), "<id>"),
    (re.compile(r"(?<![0-9a-f])[0-9a-f]{16}(?![0-9a-f])"), "<token>"),
    (re.compile(r"^\d{2}:\d{2}(?= - )", re.M), "<hm>"),
]
VARYING_NAME = [
    (re.compile(r"\d{4}_\d{2}_\d{2}_prayer_at_\d{4}"), "<date>_prayer_at_<hm>"),
    (re.compile(r"\b\d{4}_\d{2}"), "<ym>"),
    (re.compile(r"\b\d{4}/\d{2}/"), "<y>/<m>/"),
]


def normalized(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def archive_files(run: Path) -> dict[str, list[str]]:
    """Normalized path -> the normalized contents of the files with that path."""
    root = run / "result" / "text_archives"
    files: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative.startswith("downloads/"):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        files[normalized(relative, VARYING_NAME)].append(normalized(text, VARYING))
    return {name: sorted(contents) for name, contents in files.items()}


def statuses(run: Path) -> dict[str, int]:
    lines = (run / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["step"]: record["status"] for record in map(json.loads, filter(None, lines))}


def zip_entries(run: Path) -> dict[str, list[str]]:
    entries = {}
    for path in sorted((run / "downloads").glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            names = sorted(normalized(n, VARYING_NAME + VARYING) for n in archive.namelist())
        entries[re.sub(r"^\d+_", "", path.stem)] = names
    return entries


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    thywill, compat = Path(sys.argv[1]), Path(sys.argv[2])
    unexplained = 0

    theirs, ours = statuses(thywill), statuses(compat)
    same = sum(1 for step in theirs if ours.get(step) == theirs[step])
    print(f"== statuses: {same} of {len(theirs)} requests answered alike")
    for step in sorted(set(theirs) | set(ours)):
        a, b = theirs.get(step), ours.get(step)
        if a != b:
            why = EXPECTED_STATUS.get(step)
            print(f"   {step}: ThyWill {a}, with compat {b}: {why or 'UNEXPLAINED'}")
            unexplained += why is None

    theirs_files, ours_files = archive_files(thywill), archive_files(compat)
    identical = sum(1 for n in theirs_files if ours_files.get(n) == theirs_files[n])
    print(
        f"== text archive files: {identical} of {len(theirs_files)} paths identical "
        "once ids and times are set aside"
    )
    for name in sorted(set(theirs_files) | set(ours_files)):
        a, b = theirs_files.get(name), ours_files.get(name)
        if a == b:
            continue
        unexplained += 1
        if a is None or b is None:
            print(f"   {name}: only {'with compat' if a is None else 'in ThyWill'}")
            continue
        print(f"   {name}: differs")
        for left, right in zip(a, b):
            for line_a, line_b in zip(left.splitlines(), right.splitlines()):
                if line_a != line_b:
                    print(f"      ThyWill: {line_a!r}\n      compat : {line_b!r}")
                    break

    theirs_zips, ours_zips = zip_entries(thywill), zip_entries(compat)
    print("== downloads (entries, normalized; for information)")
    for name in sorted(set(theirs_zips) | set(ours_zips)):
        a, b = theirs_zips.get(name, []), ours_zips.get(name, [])
        note = "same entries" if a == b else f"ThyWill {len(a)}, with compat {len(b)}"
        print(f"   {name}: {note}")
        for entry in sorted(set(a) ^ set(b)):
            print(f"      {'only ThyWill' if entry in a else 'only compat '}: {entry}")

    print(f"== {unexplained} unexplained difference(s)")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
