#!/bin/sh
# Installs what blogbridge needs to build and test on Debian 12 (as root).
# Does nothing when everything is already there.
set -eu
packages="build-essential cmake pkg-config curl ca-certificates libmicrohttpd-dev
libcurl4-openssl-dev libjansson-dev libssl-dev libsqlite3-dev libxml2-dev zlib1g-dev sqlite3 openssl"
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
