#!/usr/bin/env bash
# Runs the real ThyWill web app twice on loopback with the peer harness's live.py: once
# unmodified, once with every thywill_core.compat module swapped in by the documented one
# line and our package first on PYTHONPATH. Then compares the two runs request by request
# (statuses) and file by file (the text archives, once ids and times are set aside), and
# backs up, verifies and restores the swapped run's database with the app stopped.
# Run by hand (not in CI): it needs a ThyWill checkout, ThyWill's venv and the harness.
#
#   THYWILL_CHECKOUT=<checkout> PEER_VENV=<venv> scripts/thywill-live-with-compat.sh
#
# THYWILL_CHECKOUT  ThyWill working tree (gulkily/thywill at ebbaac7); only ever read.
# PEER_VENV         ThyWill's venv (../shared/peer/setup.sh); only ever read.
# PEER_HARNESS      the folder with live.py (default: ../shared/peer beside this repository).
# THYWILL_CORE_WHEEL, MATURIN  as for scripts/thywill-suite-with-compat.sh.
# KEEP_WORK=1       keep the temp folder (both live.py outputs) for inspection.
# Exit status: 0 when every difference is a documented one, 1 otherwise.
set -euo pipefail

: "${THYWILL_CHECKOUT:?set THYWILL_CHECKOUT to a ThyWill checkout}"
: "${PEER_VENV:?set PEER_VENV to the venv ThyWill runs in}"
repo=$(cd "$(dirname "$0")/.." && pwd)
harness=${PEER_HARNESS:-$repo/../shared/peer}
python="$PEER_VENV/bin/python"
work=$(mktemp -d "${TMPDIR:-/tmp}/thywill-live.XXXXXX")
if [[ ${KEEP_WORK:-} == 1 ]]; then
  echo "work folder kept: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

wheel=${THYWILL_CORE_WHEEL:-}
if [[ -z $wheel ]]; then
  # shellcheck disable=SC2086 # MATURIN may be a command with arguments
  (cd "$repo" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/py}" \
    ${MATURIN:-maturin} build --release --quiet --interpreter "$python" --out "$work/wheel" >&2)
  wheel=$(ls "$work"/wheel/*.whl)
fi
"$python" -m zipfile -e "$wheel" "$work/site"

# The swapped copy: each compat module replaces the ThyWill module of the same name.
cp -a "$THYWILL_CHECKOUT" "$work/swapped"
rm -rf "$work/swapped/.git"
swapped=()
for module_file in "$work"/site/thywill_core/compat/[!_]*.py; do
  module=$(basename "$module_file" .py)
  for target in "$work"/swapped/app_helpers/*/"$module.py"; do
    [[ -f $target ]] || continue
    printf 'import sys; from thywill_core.compat import %s as _m; sys.modules[__name__] = _m\n' \
      "$module" >"$target"
    swapped+=("${target#"$work/swapped/"}")
  done
done
echo "swapped: ${swapped[*]}"

export THYWILL_CHECKOUT PEER_VENV
python3 "$harness/live.py" --out "$work/thywill" >"$work/thywill.log" 2>&1 ||
  { cat "$work/thywill.log"; exit 1; }
python3 "$harness/live.py" --out "$work/compat" --thywill "$work/swapped" \
  --pythonpath "$work/site" >"$work/compat.log" 2>&1 || { cat "$work/compat.log"; exit 1; }

status=0
python3 "$repo/scripts/compare-live-runs.py" "$work/thywill" "$work/compat" || status=1

# Back up, verify and restore the swapped run's database with the app stopped.
echo "== backup and restore with the app stopped"
cargo build --quiet --release -p thywill-cli --manifest-path "$repo/Cargo.toml"
thywill="$repo/target/release/thywill"
db="$work/compat/result/thywill.db"
before=$(sqlite3 "$db" .dump | sha256sum)
"$thywill" --db "$db" daily
set_path=$("$thywill" --db "$db" --json list | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["entries"][0]["path"])')
"$thywill" --db "$db" verify "$set_path"
sqlite3 "$db" "DELETE FROM prayer"
"$thywill" --db "$db" restore "$set_path" --yes
after=$(sqlite3 "$db" .dump | sha256sum)
if [[ $before == "$after" ]]; then
  echo "restored database equals the one backed up (sqlite3 .dump)"
else
  echo "restored database DIFFERS from the one backed up"
  status=1
fi
exit $status
