#!/bin/sh
# Sets up and runs the whole test suite twice: a plain build, then a build
# under AddressSanitizer + UndefinedBehaviorSanitizer; between the two, the
# interop test against Fedify (tests/interop/run.sh).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh test
sh scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)")
# Interop with Fedify over TLS on loopback; not in CTest, since it installs
# Node 22 and Fedify from the npm registry (and nginx-light if missing).
sh tests/interop/run.sh build
sh scripts/build.sh build-san -DBB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
(cd build-san && ctest --output-on-failure -j "$(nproc)")
sh scripts/fuzz.sh 60
