#!/usr/bin/env bash
# The test command: bootstrap (Debian packages, npm ci, build), then the whole mocha suite.
# Extra arguments go to mocha, e.g. `npm test -- --grep ctl`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The spec globs live here, not in .mocharc.json: mocha appends positional files to a config
# spec, so `npx mocha some.test.js` would otherwise run the whole suite as well.
exec npx mocha 'packages/*/test/dist/**/*.test.js' 'test/dist/**/*.test.js' "$@"
