#!/bin/sh
# Installs what blogbridge needs to build on Debian 12 (as root); with
# "test", also what the test suite uses (chromium for the admin pages'
# browser test, nginx-light as the TLS terminator
# and npm to fetch Node 22 and Fedify for the interop test).  Does nothing
# when everything is already there.
set -eu
packages="build-essential cmake pkg-config curl ca-certificates libmicrohttpd-dev
libcurl4-openssl-dev libidn2-dev libjansson-dev libssl-dev libsqlite3-dev libxml2-dev zlib1g-dev sqlite3 openssl"
if [ "${1:-}" = test ]; then
	packages="$packages nginx-light"
	# The admin pages' browser test (tests/admin_browser) drives it.
	packages="$packages chromium"
	# npm may come with a Node.js that is not Debian's: only ask for
	# Debian's when there is none at all.
	command -v npm >/dev/null 2>&1 || packages="$packages npm"
fi
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
