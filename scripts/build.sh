#!/bin/sh
# Builds blogbridge into build/ (or the folder given), warnings as errors.
# Extra arguments go to cmake, e.g. -DBB_SANITIZE=ON.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
cmake -S . -B "$dir" -DBB_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
