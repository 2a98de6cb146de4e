#!/usr/bin/env bash
# Builds the thywill command and runs its demo: a sample community's text
# archives written with thywill-core's writers, imported into a fresh database,
# backed up and verified; the database lost, test-recovery, full-recovery from
# the archives alone, validate-consistency, a user's and the community's ZIP,
# downloads cleanup, and the audit trail of it all. `--keep DIR` keeps the folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run -q -p thywill-cli -- demo "$@"
