#!/bin/sh
# doctor test: `blogbridge doctor` against the real binary behind nginx TLS
# (a throwaway CA, which doctor trusts through CURL_CA_BUNDLE as curl(1)
# does), everything on loopback; once healthy, then once with each fault
# injected by the nginx configuration:
#   content-type  the proxy rewrites the actor's Content-Type
#   vary          a proxy cache that ignores Vary: Accept
#   webfinger     WebFinger routed to a static 404 (the blog, not the bridge)
#   tls           a certificate that expires in 5 days
#   date          the proxy strips Date from the signed POST to the inbox
#   request type  the proxy rewrites that POST's Content-Type
#   host          the proxy passes its upstream's name as Host
# NTP with stand-ins for timedatectl: synchronized (ok), not (a warning
# while the clock is right), absent and hanging (skipped, said so).
# and --remote, healthy (the bridge's own actor fetched with a signed GET)
# and unreachable.
# Healthy, doctor must exit 0 with no line "FAIL" and its signed POST
# reported ok; with a fault, exit 1 and a FAIL line naming the check that
# finds it (and, for the inbox, the header).  The database must be the
# same after every run: the probe stores nothing.
#
#   sh tests/doctor/run.sh [BUILD_DIR]      (default: build)
#
# Needs: the built binary, openssl, curl, python3 (free ports), nginx.
# Every process and the temporary folder are cleaned up on any exit.
# shellcheck disable=SC2317 # functions run from traps
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
bin=$build/blogbridge
nginx=$(command -v nginx || echo /usr/sbin/nginx)
tmp=
bridge_pid=
nginx_pid=
passed=0
failed=0

say() { printf 'doctor-test: %s\n' "$*"; }
stop() { # pid
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
}
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	stop "$nginx_pid"
	stop "$bridge_pid"
	if [ "$rc" -ne 0 ] && [ -n "$tmp" ]; then
		for f in bridge.log nginx-error.log nginx-stderr.log; do
			[ -s "$tmp/$f" ] && { printf -- '----- %s -----\n' "$f"; cat "$tmp/$f"; }
		done
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$bin" ] || { say "no binary at $bin"; exit 2; }
[ -x "$nginx" ] || { say "nginx is missing (apt-get install nginx-light)"; exit 2; }
tmp=$(mktemp -d)
chmod 755 "$tmp"

ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))
for x in s: x.close()')
bridge_port=${ports% *}
tls_port=${ports#* }

# A throwaway CA, and certificates for localhost valid 30 days (more than
# doctor's 14) and 5 (less).
(
	cd "$tmp"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
		-subj "/CN=blogbridge doctor test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
	printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
		>server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days 30 -extfile server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out short.crt -days 5 -extfile server.ext
) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log"; exit 2; }

cp "$root/demo/blog-feed.xml" "$tmp/feed.xml"
conf=$tmp/bridge.conf
cat >"$conf" <<CONF
[site]
base_url = https://localhost:$tls_port
handle = blog
feed = feed.xml
[server]
listen = 127.0.0.1:$bridge_port
[federation]
# --remote fetches the bridge's own actor over loopback.
allow_private_addresses = true
CONF
"$bin" -c "$conf" serve >"$tmp/bridge.log" 2>&1 &
bridge_pid=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$bridge_port/.well-known/nodeinfo"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { say "the bridge did not start"; exit 1; }
	sleep 0.1
done

# nginx in front, with the fault given as extra location blocks.
start_nginx() { # extra configuration inside server { }
	stop "$nginx_pid"
	rm -rf "$tmp/nginx"
	mkdir "$tmp/nginx"
	{
		[ "$(id -u)" -eq 0 ] && echo "user root;"
		cat <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	proxy_cache_path $tmp/nginx/cache keys_zone=bb:1m;
	server {
		listen 127.0.0.1:$tls_port ssl;
		server_name localhost;
		ssl_certificate $tmp/${cert:-server}.crt;
		ssl_certificate_key $tmp/server.key;
		proxy_set_header Host \$host:\$server_port;
		$1
		location / {
			proxy_pass http://127.0.0.1:$bridge_port;
		}
	}
}
NGINX
	} >"$tmp/nginx/nginx.conf"
	"$nginx" -p "$tmp/nginx" -e "$tmp/nginx-error.log" -c "$tmp/nginx/nginx.conf" \
		>>"$tmp/nginx-stderr.log" 2>&1 &
	nginx_pid=$!
	i=0
	until curl -s --cacert "$tmp/ca.crt" -o /dev/null "https://localhost:$tls_port/"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { say "nginx did not start"; exit 1; }
		sleep 0.1
	done
}

# What the store holds, table by table (python3's sqlite3: no sqlite3(1)
# needed); the probe must leave it as it was.  Not the tables the feed's
# poller writes as it publishes (posts, their activities, meta), nor the
# lease serve renews (owners): an Accept or any other activity sent would
# show in deliveries.
store_dump() {
	python3 - "$tmp/data/bridge.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN "
                       "('posts', 'activities', 'meta', 'owners') ORDER BY name"):
    for row in db.execute('SELECT * FROM "%s" ORDER BY 1' % t):
        print(t, repr(row))
PY
}

# Runs doctor; expect: "healthy[ REGEX]" (and a line matching REGEX), or
# "CHECK[ REGEX]": a FAIL line of that check (matching REGEX) must appear.
# doctor_path, when set, is doctor's PATH (where it finds timedatectl).
run_doctor() { # name, expect, doctor's arguments...
	name=$1
	expect=$2
	shift 2
	rc=0
	before=$(store_dump)
	out=$(PATH=${doctor_path:-$PATH} CURL_CA_BUNDLE=$tmp/ca.crt "$bin" -c "$conf" doctor "$@" 2>&1) ||
		rc=$?
	case $expect in
	healthy*)
		regex=.
		[ "$expect" = healthy ] || regex=${expect#healthy }
		if [ "$rc" -eq 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL' &&
			printf '%s\n' "$out" | grep -q '^ok   inbox .*signature verified' &&
			printf '%s\n' "$out" | grep -q -- "$regex"; then
			ok=yes
		else
			ok=no
		fi ;;
	*)
		check=${expect%% *}
		regex=
		[ "$check" = "$expect" ] || regex=${expect#* }
		if [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep "^FAIL $check " |
			grep -q -- "$regex"; then ok=yes; else ok=no; fi ;;
	esac
	if [ "$ok" = yes ] && [ "$(store_dump)" != "$before" ]; then
		say "doctor changed the store"
		printf '%s\n' "$before" >"$tmp/before"
		store_dump | diff "$tmp/before" - || true
		ok=no
	fi
	if [ "$ok" = yes ]; then
		passed=$((passed + 1))
		say "PASS $name"
	else
		failed=$((failed + 1))
		say "FAIL $name (exit $rc)"
	fi
	printf '%s\n' "$out" | sed 's/^/    /'
}

start_nginx ""
run_doctor healthy healthy
# A remote account by its actor URL: the signed GET answered.
run_doctor remote-signed-get healthy --remote "http://127.0.0.1:$bridge_port/ap/actor"
run_doctor remote-unreachable remote --remote "http://127.0.0.1:1/users/nobody"

# NTP as timedatectl tells it: stand-ins on doctor's PATH.
for state in yes no hang; do
	mkdir "$tmp/ntp-$state"
	case $state in
	hang) printf '#!/bin/sh\nexec %s 60\n' "$(command -v sleep)" ;;
	*) printf '#!/bin/sh\n[ "$*" = "show -p NTPSynchronized --value" ] && echo %s\n' "$state" ;;
	esac >"$tmp/ntp-$state/timedatectl"
	chmod 755 "$tmp/ntp-$state/timedatectl"
done
mkdir "$tmp/ntp-none"
doctor_path=$tmp/ntp-yes run_doctor ntp-synchronized "healthy ^ok   ntp  *synchronized"
doctor_path=$tmp/ntp-no run_doctor ntp-not-synchronized "healthy ^warn ntp  *not synchronized"
doctor_path=$tmp/ntp-none run_doctor ntp-absent "healthy ^skip ntp  *timedatectl not found"
doctor_path=$tmp/ntp-hang run_doctor ntp-hangs "healthy ^skip ntp  *timedatectl could not tell (no answer"
doctor_path=

start_nginx "location /ap/ {
			proxy_pass http://127.0.0.1:$bridge_port;
			proxy_hide_header Content-Type;
			add_header Content-Type application/json;
		}"
run_doctor content-type-rewritten actor

start_nginx "location /ap/ {
			proxy_pass http://127.0.0.1:$bridge_port;
			proxy_cache bb;
			proxy_cache_key \$uri;
			proxy_cache_valid 200 302 1m;
			proxy_ignore_headers Vary Cache-Control Expires;
		}"
run_doctor vary-ignored negotiate

start_nginx "location /.well-known/webfinger { return 404; }"
run_doctor webfinger-static-404 webfinger

# The signed POST to the inbox.  A proxy_set_header in a location drops
# the server's, so each says Host again.
start_nginx "location = /ap/actor/inbox {
			proxy_pass http://127.0.0.1:$bridge_port;
			proxy_set_header Host \$host:\$server_port;
			proxy_set_header Date \"\";
		}"
run_doctor date-stripped "inbox strips Date"

start_nginx "location = /ap/actor/inbox {
			proxy_pass http://127.0.0.1:$bridge_port;
			proxy_set_header Host \$host:\$server_port;
			proxy_set_header Content-Type application/json;
		}"
run_doctor request-content-type-rewritten "inbox Content-Type .*'application/json'"

# The common slip: a location that sets one header of its own, and so
# passes the upstream's name as Host.
start_nginx "location = /ap/actor/inbox {
			proxy_pass http://127.0.0.1:$bridge_port;
			proxy_set_header X-Forwarded-Proto https;
		}"
run_doctor host-not-passed "inbox Host arrives"

cert=short start_nginx ""
run_doctor certificate-expiring tls

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
