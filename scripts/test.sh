#!/bin/sh
# Sets up and runs the whole test suite three times: a plain build, a build
# under AddressSanitizer + UndefinedBehaviorSanitizer, and one under
# ThreadSanitizer; after the first, the interop test against Fedify
# (tests/interop/run.sh), plain and in secure mode, and doctor behind
# nginx; then the .deb built, installed, run and purged;
# last, each fuzz target for 60 s.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh test
sh scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)")
# Interop with Fedify over TLS on loopback; not in CTest, since it installs
# Node 22 and Fedify from the npm registry (and nginx-light if missing).
sh tests/interop/run.sh build
# The same with the bridge in secure mode: Fedify's GETs are signed.
AUTHORIZED_FETCH=1 sh tests/interop/run.sh build
# doctor behind nginx TLS, healthy and with each proxy fault injected.
sh tests/doctor/run.sh build
sh scripts/build.sh build-san -DBB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
(cd build-san && ctest --output-on-failure -j "$(nproc)")
# ThreadSanitizer (it cannot share a build with ASan): the integration
# tests run the server with its HTTP, writer, delivery, signing and poller
# threads, the unit tests their own.  Every process writes its reports to
# build-tsan/tsan.PID, the bridges the tests start too: any such file fails
# the run, even from a process whose exit status no test looks at.
sh scripts/build.sh build-tsan -DBB_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
rm -f build-tsan/tsan.*
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$PWD/build-tsan/tsan"
tsan_rc=0
(cd build-tsan && ctest --output-on-failure -j "$(nproc)") || tsan_rc=$?
for f in build-tsan/tsan.*; do
	[ -e "$f" ] || continue
	cat "$f" >&2
	tsan_rc=1
done
[ "$tsan_rc" -eq 0 ] || exit "$tsan_rc"
# The .deb (scripts/package.sh): installed, run from the installed files,
# then purged, so the machine is left as found (the system user too, when
# the package made it; apt-get install of a local file needs the ./).
sh scripts/package.sh build-deb
deb_user=made
getent passwd blogbridge >/dev/null && deb_user=there
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./build-deb/blogbridge_*.deb
deb_rc=0
/usr/bin/blogbridge -c /etc/blogbridge/bridge.conf check || deb_rc=$?
/usr/bin/blogbridge version || deb_rc=$?
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq blogbridge
if [ "$deb_user" = made ] && getent passwd blogbridge >/dev/null; then
	deluser --system --quiet blogbridge
fi
[ "$deb_rc" -eq 0 ] || exit "$deb_rc"
# Fuzz smoke: every target 60 s from its corpus (scripts/fuzz.sh).
sh scripts/fuzz.sh 60
