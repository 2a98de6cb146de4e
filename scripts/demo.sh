#!/usr/bin/env bash
# Builds the thywill command and runs its demo: a sample community's text
# archives written with thywill-core's writers, read back and re-rendered, then
# imported into a database, backed up, the database deleted and restored.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run -q -p thywill-cli -- demo "$@"
