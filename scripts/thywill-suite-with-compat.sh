#!/usr/bin/env bash
# Runs ThyWill's own test suite before and after swapping ThyWill modules for
# thywill_core.compat with the documented one line, and prints passing-before,
# passing-after and every test whose outcome changed. Run by hand (not in CI): it needs a
# ThyWill checkout and ThyWill's venv.
#
#   THYWILL_CHECKOUT=<checkout> PEER_VENV=<venv> scripts/thywill-suite-with-compat.sh [pytest args]
#
# THYWILL_CHECKOUT  ThyWill working tree (gulkily/thywill at ebbaac7); only ever read.
# PEER_VENV         ThyWill's venv (../shared/peer/setup.sh); only ever read.
# THYWILL_CORE_WHEEL  optional: a built thywill_core wheel for the venv's Python; otherwise
#                   one is built from this repository with `maturin build` ($MATURIN, default
#                   `maturin`; e.g. MATURIN=".venv/bin/python -m maturin").
# SUITE_MODULES     optional: space-separated compat modules to swap (default: all that exist).
# KEEP_WORK=1       keep the temp folder (both trees, pytest logs and JUnit XML) for inspection.
# Without pytest args it runs the archive-related tests and then the whole suite.
set -euo pipefail

: "${THYWILL_CHECKOUT:?set THYWILL_CHECKOUT to a ThyWill checkout}"
: "${PEER_VENV:?set PEER_VENV to the venv ThyWill runs in}"
repo=$(cd "$(dirname "$0")/.." && pwd)
python="$PEER_VENV/bin/python"
work=$(mktemp -d "${TMPDIR:-/tmp}/thywill-compat.XXXXXX")
if [[ ${KEEP_WORK:-} == 1 ]]; then
  echo "work folder kept: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# ThyWill module path -> compat module, for every compat module that exists.
declare -A swaps=(
  [app_helpers/services/text_archive_service.py]=text_archive_service
  [app_helpers/cli/backup_verification.py]=backup_verification
  [app_helpers/services/text_importer_service.py]=text_importer_service
  [app_helpers/services/database_recovery.py]=database_recovery
  [app_helpers/cli/archive_validation.py]=archive_validation
  [app_helpers/cli/recovery_report.py]=recovery_report
  [app_helpers/services/archive_download_service.py]=archive_download_service
)

# Our package, unpacked onto a PYTHONPATH folder (a wheel is a zip of its install tree).
wheel=${THYWILL_CORE_WHEEL:-}
if [[ -z $wheel ]]; then
  # shellcheck disable=SC2086 # MATURIN may be a command with arguments
  (cd "$repo" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/py}" \
    ${MATURIN:-maturin} build --release --quiet --interpreter "$python" --out "$work/wheel" >&2)
  wheel=$(ls "$work"/wheel/*.whl)
fi
"$python" -m zipfile -e "$wheel" "$work/site"

cp -a "$THYWILL_CHECKOUT" "$work/before"
rm -rf "$work/before/.git"

export ANTHROPIC_API_KEY=offline-placeholder-not-used TZ=UTC PYTHONHASHSEED=0 \
  PYTHONDONTWRITEBYTECODE=1

# run <label> <tree> <pythonpath> <pytest args...>: writes <label>.tsv (nodeid<TAB>outcome).
run() {
  local label=$1 tree=$2 pypath=$3
  shift 3
  (cd "$tree" && PYTHONPATH="$pypath" "$python" -m pytest -q -p no:cacheprovider \
    -o addopts="" --junitxml="$work/$label.xml" "$@" >"$work/$label.log" 2>&1) || true
  "$python" - "$work/$label.xml" >"$work/$label.tsv" <<'PY'
import sys
import xml.etree.ElementTree as ET

for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    tags = {child.tag for child in case}
    outcome = ("failed" if tags & {"failure", "error"} else
               "skipped" if "skipped" in tags else "passed")
    print(f"{case.get('classname')}::{case.get('name')}\t{outcome}")
PY
}

# compare <suite> [<label> <regex>]: figures and changed tests, optionally for the tests of
# <suite> whose id matches <regex> only.
compare() {
  local suite=$1
  "$python" - "$work/before-$suite.tsv" "$work/after-$suite.tsv" "${2:-$suite}" "${3:-}" <<'PY'
import re
import sys

def load(path):
    with open(path) as f:
        rows = dict(line.rstrip("\n").split("\t") for line in f if line.strip())
    return {t: o for t, o in rows.items() if re.match(sys.argv[4], t)}

before, after, name = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
passing = lambda d: sum(1 for v in d.values() if v == "passed")
print(f"== {name}: passing before {passing(before)} of {len(before)}, "
      f"passing after {passing(after)} of {len(after)}")
for test in sorted(set(before) | set(after)):
    b, a = before.get(test, "absent"), after.get(test, "absent")
    if b != a:
        print(f"   {b:>7} -> {a:<7} {test}")
PY
}

cp -a "$work/before" "$work/after"
swapped=()
for target in "${!swaps[@]}"; do
  module=${swaps[$target]}
  if [[ -n ${SUITE_MODULES:-} && " $SUITE_MODULES " != *" $module "* ]]; then continue; fi
  [[ -f $work/site/thywill_core/compat/$module.py ]] || continue
  printf 'import sys; from thywill_core.compat import %s as _m; sys.modules[__name__] = _m\n' \
    "$module" >"$work/after/$target"
  swapped+=("$module")
done
echo "swapped: ${swapped[*]}"

if (($# > 0)); then
  suites=(custom)
else
  suites=(archive all)
fi
for suite in "${suites[@]}"; do
  case $suite in
    custom) args=("$@") ;;
    archive)
      mapfile -t args < <(cd "$work/before" && ls tests/test_archive_*.py)
      args+=(tests/test_text_archive_comprehensive.py) ;;
    all) args=(tests) ;;
  esac
  run "before-$suite" "$work/before" "$work/before" "${args[@]}"
  run "after-$suite" "$work/after" "$work/site:$work/after" "${args[@]}"
  compare "$suite"
done
if [[ " ${suites[*]} " == *" all "* ]]; then
  # The archive-related tests as the compat issue lists them, from the whole-suite run.
  compare all archive-related 'tests\.(test_archive_|test_text_archive_comprehensive|test_importer_service|unit\.test_archive_download_service|unit\.test_archive_routes|integration\.|functional\.|unit\.test_single_prayer_import)'
fi
