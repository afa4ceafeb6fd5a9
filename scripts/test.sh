#!/usr/bin/env bash
# The test command: bootstrap (Debian packages, npm ci, build), then the whole mocha suite.
# Extra arguments go to mocha, e.g. `npm test -- --grep ctl`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec npx mocha "$@"
