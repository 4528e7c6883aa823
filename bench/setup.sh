#!/bin/sh
# Installs what the benchmarks use (Debian 12, as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk nginx-light curl
