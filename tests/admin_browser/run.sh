#!/bin/sh
# Browser test of the admin pages (tests/admin_browser/run.mjs says what
# it does): Debian's chromium, driven by playwright-core from npm.
#
#   sh tests/admin_browser/run.sh PATH/TO/blogbridge OUTPUT_DIR
#
# Installs playwright-core from package-lock.json into node_modules when it
# is missing.  Fails (never skips) when chromium or node is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null 2>&1 || { echo "admin_browser: node is missing" >&2; exit 1; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "admin_browser: npm ci failed" >&2; exit 1; }
fi
exec node "$here/run.mjs" "$@"
