#!/bin/sh
# bench/get.sh — GET throughput of the bridge beside nginx serving the same
# bytes as static files, measured in the same run.
#
#   sh bench/get.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#
# For WebFinger, the actor and the followers collection: wrk with
# keep-alive (2 threads, 64 connections) against blogbridge, then against
# nginx, alternating, ROUNDS times; prints the median requests/s and p99
# latency of each, and the ratio ours/nginx.  Needs wrk and nginx-light
# (sh bench/setup.sh installs them).  Everything stays on 127.0.0.1.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-5}
rounds=${3:-3}
bin=$build/blogbridge
[ -x "$bin" ] || { echo "build first: sh scripts/build.sh" >&2; exit 2; }
command -v wrk >/dev/null && command -v nginx >/dev/null || {
	echo "needs wrk and nginx: sh bench/setup.sh" >&2; exit 2; }

dir=$(mktemp -d /tmp/bbbench.XXXXXX)
bport=18480
nport=18481
trap 'kill $bpid 2>/dev/null; nginx -p "$dir" -c nginx.conf -s stop 2>/dev/null; rm -rf "$dir"' EXIT

cp demo/blog-feed.xml "$dir/feed.xml"
cat >"$dir/bridge.conf" <<CONF
[site]
base_url = https://blog.example
handle = blog
name = Climb to the Stars
summary = Stephanie Booth: blogging, social media, and life in a connected world
feed = feed.xml
[server]
listen = 127.0.0.1:$bport
CONF
"$bin" -c "$dir/bridge.conf" serve 2>"$dir/bridge.log" &
bpid=$!
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$bport/ap/actor" >/dev/null 2>&1 && break
	sleep 0.1
done

mkdir -p "$dir/www/.well-known" "$dir/www/ap/actor" "$dir/logs"
wf='/.well-known/webfinger?resource=acct:blog@blog.example'
curl -fs "http://127.0.0.1:$bport$wf" >"$dir/www/.well-known/webfinger"
curl -fs -H 'Accept: application/activity+json' "http://127.0.0.1:$bport/ap/actor" \
	>"$dir/www/ap/actor/index.json"
curl -fs -H 'Accept: application/activity+json' "http://127.0.0.1:$bport/ap/actor/followers" \
	>"$dir/www/ap/actor/followers.json"
cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nport;
        root $dir/www;
        location = /.well-known/webfinger { default_type application/jrd+json; }
        location = /ap/actor { default_type application/activity+json;
            try_files /ap/actor/index.json =404; }
        location = /ap/actor/followers { default_type application/activity+json;
            try_files /ap/actor/followers.json =404; }
    }
}
CONF
nginx -p "$dir" -c nginx.conf

# Runs wrk; prints "requests/s p99_ms".
run() {
	wrk -t2 -c64 -d"${secs}s" --latency -H 'Accept: application/activity+json' "$1" 2>&1 |
		awk '/Requests\/sec/ {rps=$2} /^ +99%/ {v=$2; u=v; gsub(/[0-9.]/,"",u); sub(/[a-z]+$/,"",v);
		     ms = (u=="us") ? v/1000 : (u=="s") ? v*1000 : v; p99=ms}
		     END {printf "%.0f %.2f\n", rps, p99}'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-11s %12s %9s %12s %9s %7s\n' endpoint "ours req/s" "p99 ms" "nginx req/s" "p99 ms" ratio
for ep in webfinger actor followers; do
	case $ep in
	webfinger) path=$wf ;;
	actor) path=/ap/actor ;;
	followers) path=/ap/actor/followers ;;
	esac
	: >"$dir/ours"; : >"$dir/ours99"; : >"$dir/ngx"; : >"$dir/ngx99"
	for _ in $(seq "$rounds"); do
		set -- $(run "http://127.0.0.1:$bport$path"); echo "$1" >>"$dir/ours"; echo "$2" >>"$dir/ours99"
		set -- $(run "http://127.0.0.1:$nport$path"); echo "$1" >>"$dir/ngx"; echo "$2" >>"$dir/ngx99"
	done
	o=$(median <"$dir/ours"); o99=$(median <"$dir/ours99")
	n=$(median <"$dir/ngx"); n99=$(median <"$dir/ngx99")
	printf '%-11s %12s %9s %12s %9s %7s\n' "$ep" "$o" "$o99" "$n" "$n99" \
		"$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", o/n}')"
done
