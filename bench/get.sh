#!/bin/sh
# bench/get.sh — GET throughput of the bridge beside nginx serving the same
# bytes as static files, measured in the same run.
#
#   sh bench/get.sh [BUILD_DIR] [SECONDS] [ROUNDS] [ENDPOINTS]
#
# For each of ENDPOINTS (default "webfinger actor followers comments"):
# wrk with keep-alive (2 threads, 64 connections) against blogbridge, then
# against nginx, alternating, ROUNDS times; prints the median requests/s,
# p99 latency and CPU time per request (user + system, of the bridge and
# of nginx's workers) of each, the ratio of requests/s ours/nginx, and
# the ratio of CPU per request nginx/ours (1.00: as frugal as nginx).  On
# a shared machine requests/s follow the load (nginx's 2 workers get less
# of a busy machine than the bridge's thread per connection); CPU per
# request moves much less.  nginx runs with its defaults (sendfile off,
# as the other rows were measured).  comments is
# /api/comments?post=URL for a post with 500 approved comments, seeded
# into the bridge's store before it starts (bench_seed: cmake --build
# BUILD_DIR --target bench_seed); nginx serves the bytes the bridge
# answered once.  Needs wrk and nginx-light (sh bench/setup.sh installs
# them).  Everything stays on 127.0.0.1.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-5}
rounds=${3:-3}
endpoints=${4:-webfinger actor followers comments}
bin=$build/blogbridge
seed=$build/bench_seed
[ -x "$bin" ] || { echo "build first: sh scripts/build.sh" >&2; exit 2; }
case " $endpoints " in *" comments "*)
	[ -x "$seed" ] || { echo "build the seed first: cmake --build $build --target bench_seed" >&2; exit 2; }
esac
command -v wrk >/dev/null && command -v nginx >/dev/null || {
	echo "needs wrk and nginx: sh bench/setup.sh" >&2; exit 2; }

dir=$(mktemp -d /tmp/bbbench.XXXXXX)
# nginx's workers run as another user when started by root: they must be
# able to read the files (else every answer is a 404, measured as fast).
chmod 755 "$dir"
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
[store]
database = $dir/bridge.db
CONF
post=https://blog.example/2026/12/a-post-with-many-comments/
post_q=https%3A%2F%2Fblog.example%2F2026%2F12%2Fa-post-with-many-comments%2F
case " $endpoints " in *" comments "*)
	"$seed" "$dir/bridge.db" "$post" https://blog.example/ap/posts/many-comments 500 >/dev/null
esac
"$bin" -c "$dir/bridge.conf" serve 2>"$dir/bridge.log" &
bpid=$!
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$bport/ap/actor" >/dev/null 2>&1 && break
	sleep 0.1
done

mkdir -p "$dir/www/.well-known" "$dir/www/ap/actor" "$dir/www/api" "$dir/logs"
wf='/.well-known/webfinger?resource=acct:blog@blog.example'
curl -fs "http://127.0.0.1:$bport$wf" >"$dir/www/.well-known/webfinger"
curl -fs -H 'Accept: application/activity+json' "http://127.0.0.1:$bport/ap/actor" \
	>"$dir/www/ap/actor/index.json"
curl -fs -H 'Accept: application/activity+json' "http://127.0.0.1:$bport/ap/actor/followers" \
	>"$dir/www/ap/actor/followers.json"
case " $endpoints " in *" comments "*)
	curl -fs "http://127.0.0.1:$bport/api/comments?post=$post_q" >"$dir/www/api/comments.json"
	echo "comments: $(wc -c <"$dir/www/api/comments.json") bytes of JSON, 500 comments" >&2
esac
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
        location = /api/comments { default_type application/json;
            try_files /api/comments.json =404; }
    }
}
CONF
nginx -p "$dir" -c nginx.conf
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$nport/ap/actor" >/dev/null 2>&1 && break
	sleep 0.1
done

# CPU time (user + system, in clock ticks) of the processes given.
ticks() {
	for p in "$@"; do cat "/proc/$p/stat"; done | awk '{s += $14 + $15} END {print s + 0}'
}
hz=$(getconf CLK_TCK)
npids=$(pgrep -P "$(cat "$dir/nginx.pid")" | tr '\n' ' ')

# Runs wrk on URL $1 while measuring the CPU of the pids after it;
# prints "requests/s p99_ms cpu_us_per_request".
run() {
	url=$1; shift
	t0=$(ticks "$@")
	out=$(wrk -t2 -c64 -d"${secs}s" --latency -H 'Accept: application/activity+json' "$url" 2>&1)
	t1=$(ticks "$@")
	printf '%s\n' "$out" |
		awk -v dt=$((t1 - t0)) -v hz="$hz" \
		    '/Requests\/sec/ {rps=$2} / requests in / {n=$1}
		     /^ +99%/ {v=$2; u=v; gsub(/[0-9.]/,"",u); sub(/[a-z]+$/,"",v);
		     ms = (u=="us") ? v/1000 : (u=="s") ? v*1000 : v; p99=ms}
		     END {printf "%.0f %.2f %.0f\n", rps, p99, n ? dt * 1e6 / hz / n : 0}'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# CPU us/req: the server's own CPU time per request answered (the
# machine is shared: requests/s move with the load, this much less).
printf '%-11s %11s %7s %7s %11s %7s %7s %6s %6s\n' endpoint "ours req/s" "p99 ms" "cpu us" \
	"nginx req/s" "p99 ms" "cpu us" ratio "cpu"
for ep in $endpoints; do
	case $ep in
	webfinger) path=$wf ;;
	actor) path=/ap/actor ;;
	followers) path=/ap/actor/followers ;;
	comments) path="/api/comments?post=$post_q" ;;
	*) echo "unknown endpoint $ep" >&2; exit 2 ;;
	esac
	# Both answer the same bytes, or the comparison means nothing.
	curl -fs -H 'Accept: application/activity+json' "http://127.0.0.1:$bport$path" >"$dir/a.ours"
	curl -fs -H 'Accept: application/activity+json' "http://127.0.0.1:$nport$path" >"$dir/a.ngx"
	cmp -s "$dir/a.ours" "$dir/a.ngx" || { echo "$ep: nginx does not answer the same bytes" >&2; exit 1; }
	for f in ours ours99 oursus ngx ngx99 ngxus; do : >"$dir/$f"; done
	for _ in $(seq "$rounds"); do
		set -- $(run "http://127.0.0.1:$bport$path" "$bpid")
		echo "$1" >>"$dir/ours"; echo "$2" >>"$dir/ours99"; echo "$3" >>"$dir/oursus"
		set -- $(run "http://127.0.0.1:$nport$path" $npids)
		echo "$1" >>"$dir/ngx"; echo "$2" >>"$dir/ngx99"; echo "$3" >>"$dir/ngxus"
	done
	o=$(median <"$dir/ours"); o99=$(median <"$dir/ours99"); ous=$(median <"$dir/oursus")
	n=$(median <"$dir/ngx"); n99=$(median <"$dir/ngx99"); nus=$(median <"$dir/ngxus")
	printf '%-11s %11s %7s %7s %11s %7s %7s %6s %6s\n' "$ep" "$o" "$o99" "$ous" "$n" "$n99" "$nus" \
		"$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", o/n}')" \
		"$(awk -v o="$ous" -v n="$nus" 'BEGIN {printf "%.2f", o ? n/o : 0}')"
done
