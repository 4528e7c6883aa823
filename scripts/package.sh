#!/bin/sh
# Builds the blogbridge .deb (debian/) with dpkg-buildpackage, from a copy
# of the source tree in build-deb/ (or the folder given), so the tree stays
# clean; the .deb lands in that folder.  Installs the packaging tools
# (debhelper, devscripts, lintian) and the build dependencies when missing,
# then runs lintian on the result.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build-deb}
tools="debhelper devscripts lintian fakeroot dpkg-dev"
sh scripts/install-deps.sh
missing=""
for p in $tools; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
version=$(dpkg-parsechangelog -S Version)
src="$out/blogbridge-$version"
rm -rf "$out"
mkdir -p "$src"
# The files git knows, and the new ones it does not ignore: the build
# folders stay out.
git ls-files -z --cached --others --exclude-standard |
	xargs -0 tar -cf - | tar -xf - -C "$src"
(cd "$src" && dpkg-buildpackage -us -uc -b)
ls "$out"/blogbridge_"$version"_*.deb
lintian --fail-on error "$out"/blogbridge_"$version"_*.changes
