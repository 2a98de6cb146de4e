#!/usr/bin/env bash
# The one command that builds everything and runs every suite. Needs only the
# Rust toolchain, Python >= 3.11 with pip, gcc and the SQLite development files
# (libsqlite3-dev: the Python module links the system's SQLite); valgrind is installed
# with apt-get when missing. Usage: scripts/test.sh
#
# Under CI=true (as .ci/run sets it) nothing passes without running: a missing fixture
# corpus, python3 or moto_server fails its tests, and every property test uses one fixed
# seed (crates/thywill-core/tests/support/properties.rs), replaying the failures recorded in
# the committed *.proptest-regressions files first. Tests needing what CI lacks are
# #[ignore = "reason"] and listed as skipped with that reason; THYWILL_CHECKOUT (a ThyWill
# checkout at ebbaac7) runs them: the differential tests against ThyWill itself.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RUST_BACKTRACE="${RUST_BACKTRACE:-0}"
python="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

step "tools"
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check \
  "maturin==1.16.0" "pytest==9.2.0" "mypy==2.4.1" "moto[server]==5.2.5" \
  "fastapi==0.120.0" "httpx==0.28.1" "sqlalchemy==2.0.44"
# fastapi and httpx: the web extra (thywill_core.web), at the versions ThyWill runs; its
# tests (tests/python/test_web.py) and mypy --strict need them. sqlalchemy, ThyWill's
# version: the compat layer's hand-over of the app's engine (tests/python/test_compat_database.py).
# The S3 backup tests start moto's S3 server on loopback (they fail without it under CI=true).
export MOTO_SERVER="$root/.venv/bin/moto_server"

step "cargo fmt"
cargo fmt --all --check

step "cargo clippy"
cargo clippy -q --workspace --all-targets -- -D warnings

step "cargo test"
# Tests that need something CI does not have are #[ignore = "reason"]: listed as skipped
# (never passed), and run below when what they need is named.
if command -v cargo-nextest >/dev/null; then
  cargo nextest run --workspace --no-fail-fast --final-status-level skip
  cargo test -q --workspace --doc
else
  cargo test -q --workspace --no-fail-fast
fi

if [ -n "${THYWILL_CHECKOUT:-}" ]; then
  step "differential tests against ThyWill (THYWILL_CHECKOUT=$THYWILL_CHECKOUT)"
  if command -v cargo-nextest >/dev/null; then
    cargo nextest run --workspace --no-fail-fast --run-ignored only
  else
    cargo test -q --workspace --no-fail-fast -- --ignored
  fi
else
  step "skipped tests and why"
  grep -rn --include='*.rs' '#\[ignore = ' crates | sed 's/^/SKIPPED: /' || echo "(none)"
fi

step "python wheel"
# Its own target dir: maturin's settings would otherwise rebuild pyo3 in target/ (TOOLCHAIN pitfall 5).
CARGO_TARGET_DIR="$root/target/py" .venv/bin/python -m pip install -q --disable-pip-version-check \
  --force-reinstall --no-deps .

step "pytest"
.venv/bin/python -m pytest -q tests/python

step "stubtest"
# Outside the source tree so the installed package is what gets imported.
(cd "$(mktemp -d)" && "$root/.venv/bin/python" -m mypy.stubtest thywill_core._native)

step "mypy --strict (the package and its stub)"
(cd "$(mktemp -d)" && "$root/.venv/bin/python" -m mypy --strict "$root/python/thywill_core")

step "C tests under valgrind"
bash tests/c/run.sh

step "all suites passed"
