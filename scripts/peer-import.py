#!/usr/bin/env python3
"""Runs ThyWill's own text-archive importer on an archive folder, with a time limit.

    python3 scripts/peer-import.py --archives DIR --work DIR [--timeout 300]

It prepares a work folder as ../shared/peer/bench.py does for its `import` operation (a
copy of the archive, `thywill db init`, the same environment: no AI provider, TZ=UTC) and
runs `scripts/utils/import_text_archives.py` under `/usr/bin/time -v`. ThyWill's importer
is quadratic, so on a large community it may not finish: past the limit its whole process
group is killed and the result says so. Prints one JSON object.

Needs THYWILL_CHECKOUT and PEER_VENV (or --thywill / --venv) and the peer harness at
../shared/peer (or PEER_HARNESS).
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--archives", required=True, help="a text_archives folder")
    ap.add_argument("--work", required=True, help="a folder to create (removed first)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--thywill", default=os.environ.get("THYWILL_CHECKOUT"), required="THYWILL_CHECKOUT" not in os.environ)
    ap.add_argument("--venv", default=os.environ.get("PEER_VENV"), required="PEER_VENV" not in os.environ)
    ap.add_argument("--harness", default=os.environ.get("PEER_HARNESS", os.path.join(root, "..", "shared", "peer")))
    a = ap.parse_args()

    sys.path.insert(0, os.path.abspath(a.harness))
    import bench  # the peer harness: its work-folder preparation and environment

    bench.THYWILL = os.path.abspath(a.thywill)
    bench.VENV_PY = os.path.join(os.path.abspath(a.venv), "bin", "python")
    # bench.prepare copies <corpus>/text_archives: give it the folder above the archive.
    corpus = os.path.dirname(os.path.abspath(a.archives.rstrip("/")))
    wd = os.path.abspath(a.work)
    bench.prepare(wd, corpus, "empty")

    log = os.path.join(wd, "_import")
    cmd = ["/usr/bin/time", "-v", "-o", log + ".time", bench.VENV_PY,
           os.path.join(bench.THYWILL, "scripts/utils/import_text_archives.py")]
    start = time.perf_counter()
    with open(log + ".stdout", "w") as out, open(log + ".stderr", "w") as err:
        # Its own session, so a timeout can stop the interpreter and not only `time`.
        proc = subprocess.Popen(cmd, cwd=wd, env=bench.env_for(wd), stdout=out, stderr=err,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=a.timeout)
            finished = True
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
            finished = False
    wall = time.perf_counter() - start
    result = {"archives": os.path.abspath(a.archives), "finished": finished, "rc": rc,
              "timeout_s": a.timeout, "wall_s_outer": round(wall, 2)}
    if finished:
        tv = open(log + ".time").read()
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
        result["max_rss_mb"] = round(int(m.group(1)) / 1024, 1) if m else None
        result["reported"] = bench.parse_import(open(log + ".stdout").read())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
