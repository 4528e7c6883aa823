#!/bin/sh
# Sets up and runs the demo: the bridge serving the demo blog on
# http://localhost:8080 with the embedded SQLite store (data/).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/build.sh build
echo "blogbridge: try  curl 'http://localhost:8080/.well-known/webfinger?resource=acct:blog@localhost:8080'"
exec ./build/blogbridge -c bridge.conf serve
