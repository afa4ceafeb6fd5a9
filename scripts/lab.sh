#!/usr/bin/env bash
# The README's main command: `npm run lab [-- up|status|exec|down ...]`. `up` (the default)
# first installs and builds what it needs (scripts/bootstrap.sh); the others just run.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-up}" in
  status|exec|down) [ -f lab/dist/main.js ] || bash scripts/bootstrap.sh ;;
  *) bash scripts/bootstrap.sh ;;
esac
exec node lab/dist/main.js "$@"
