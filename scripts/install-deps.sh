#!/bin/sh
# Installs what blogbridge needs to build on Debian 12 (as root); with
# "test", also what the test suite uses (nginx-light as the TLS terminator,
# mandoc to lint the man pages, npm to fetch Node 22 and Fedify for the
# interop test, Node's own test runner for the embed script, headless
# Chromium and a font for the browser tests).  Does nothing when
# everything is already there.
set -eu
packages="build-essential cmake pkg-config curl ca-certificates libmicrohttpd-dev
libcurl4-openssl-dev libidn2-dev libjansson-dev libssl-dev libsqlite3-dev libxml2-dev zlib1g-dev sqlite3 openssl"
if [ "${1:-}" = test ]; then
	packages="$packages nginx-light mandoc chromium fonts-dejavu-core"
	# npm may come with a Node.js that is not Debian's: only ask for
	# Debian's when there is none at all.
	command -v npm >/dev/null 2>&1 || packages="$packages npm"
	command -v node >/dev/null 2>&1 || packages="$packages nodejs"
fi
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Where systemd runs, installing nginx-light would start nginx on
	# port 80: a policy-rc.d that refuses (101) every start keeps the
	# machine as it was, for the length of the install.  One already
	# there is left alone.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
		trap 'exit 130' INT TERM
	fi
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
