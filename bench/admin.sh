#!/bin/sh
# bench/admin.sh — the admin followers page with 100,000 followers on
# 10,000 servers: the first page, a search by server, a search by handle
# and a late page, each asked ROUNDS times over one session; prints the
# p50 and the slowest of each (curl's total time, loopback), and the query
# plan of the search by server, which must use the indexes (no full scan).
#
#   sh bench/admin.sh [BUILD_DIR] [ROUNDS]
#
# Needs the built binary, sqlite3 and curl.  Everything stays on 127.0.0.1
# in a temporary folder, removed at the end.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-20}
bin=$build/blogbridge
[ -x "$bin" ] || { echo "build first: sh scripts/build.sh" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
port=$(( 20000 + $$ % 20000 ))
printf '<?xml version="1.0"?><rss version="2.0"><channel><title>B</title><link>https://b.test/</link><description>d</description></channel></rss>\n' >"$tmp/feed.xml"
printf '[site]\nbase_url = http://127.0.0.1:%s\nhandle = blog\nsummary = s\nfeed = feed.xml\n[server]\nlisten = 127.0.0.1:%s\n[admin]\npassword_hash =\n' \
	"$port" "$port" >"$tmp/bridge.conf"
echo "bench admin password" | "$bin" -c "$tmp/bridge.conf" passwd >/dev/null
"$bin" -c "$tmp/bridge.conf" followers >/dev/null
sqlite3 "$tmp/data/bridge.db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
INSERT INTO followers SELECT 'https://s' || (i % 10000) || '.example/users/u' || i,
 '@u' || i || '@s' || (i % 10000) || '.example', 'https://s' || (i % 10000) || '.example/users/u' || i || '/inbox',
 'https://s' || (i % 10000) || '.example/inbox', 'https://s' || (i % 10000) || '.example/f/' || i, 1600000000 + i FROM n;
ANALYZE;"
"$bin" -c "$tmp/bridge.conf" serve >"$tmp/serve.log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/admin/login"; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "the bridge did not start" >&2; exit 1; }; sleep 0.05
done
base=http://127.0.0.1:$port
curl -s -c "$tmp/jar" "$base/admin/login" >/dev/null
token=$(awk '/bb_login/ {print $7}' "$tmp/jar")
curl -s -b "$tmp/jar" -c "$tmp/jar" -d "csrf=$token&password=bench+admin+password" "$base/admin/login" >/dev/null
measure() { # name path
	for _ in $(seq "$rounds"); do
		curl -s -o /dev/null -w '%{time_total}\n' -b "$tmp/jar" "$base$2"
	done | sort -n | awk -v name="$1" '{t[NR] = $1} END {
		printf "%-22s p50 %6.1f ms   max %6.1f ms\n", name, t[int((NR + 1) / 2)] * 1000, t[NR] * 1000}'
}
measure "first page" "/admin/followers"
measure "search by server" "/admin/followers?q=s4242.example"
measure "search by handle" "/admin/followers?q=u4242"
measure "late page (1900)" "/admin/followers?page=1900"
measure "by server, page 1000" "/admin/followers?sort=server&page=1000"
server="(CASE WHEN instr(substr(actor, instr(actor, '://') + 3), '/') > 0 THEN substr(substr(actor, instr(actor, '://') + 3), 1, instr(substr(actor, instr(actor, '://') + 3), '/') - 1) ELSE substr(actor, instr(actor, '://') + 3) END)"
plan=$(sqlite3 "$tmp/data/bridge.db" "EXPLAIN QUERY PLAN SELECT actor FROM followers WHERE ($server >= 's4242.example' AND $server < 's4242.example' || char(1114111)) OR (lower(handle) >= '@s4242.example' AND lower(handle) < '@s4242.example' || char(1114111)) ORDER BY since DESC LIMIT 50")
echo "$plan"
if echo "$plan" | grep -q 'SCAN followers'; then
	echo "search by server: a full scan" >&2
	exit 1
fi
