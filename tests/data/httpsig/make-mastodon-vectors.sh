#!/bin/sh
# make-mastodon-vectors.sh — writes the signed request files that
# tests/unit/test_httpsig.c reads, with a signer that shares no code with
# crypto/httpsig.c: the openssl command line, base64 and printf.  Each
# signing string and signature base below is spelled out by hand, in the
# exact shape Mastodon 4.3, 4.5 and 4.7 send (see MASTODON.md section 3.2:
# header order per version, the query in (request-target) or not, `accept`
# on 4.3-4.6 GETs, the 4.7 RFC 9421 fallback), plus signed requests that a
# verifier following Mastodon's rules must refuse, and RFC 9421 requests
# re-signed with the RFC's own test keys (Appendix B.1) so that rsa-pss-sha512,
# ed25519 and rsa-v1_5-sha256 are covered with @method and @target-uri.
#
# Run once; its output is committed and the test never runs it.  RSA
# PKCS#1 v1.5 and Ed25519 are deterministic, so a re-run reproduces the
# same files, except the rsa-pss-sha512 one (randomized, still valid).
# The RSA-2048 key, mastodon-test-key.pem, is generated on the first run
# only.  Request file format: "METHOD absolute-URL", then "Name: value"
# lines, an empty line, and the body, byte for byte, with no newline added.
set -eu
cd "$(dirname "$0")"
umask 022

KEY=mastodon-test-key.pem
if [ ! -f "$KEY" ]; then
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEY"
fi
openssl pkey -in "$KEY" -pubout -out mastodon-test-key.pub.pem

RFC_RSA=rfc9421-test-key-rsa.key.pem
RFC_PSS=rfc9421-test-key-rsa-pss.key.pem
RFC_ED=rfc9421-test-key-ed25519.key.pem

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The fixed time of every Mastodon-shaped vector.
DATE='Fri, 21 Aug 2026 13:50:27 GMT'
CREATED=1787320227
ALICE='https://m.example/users/alice#main-key'
ALICE45='https://m.example/ap/users/115045678901234567#main-key'
INSTANCE='https://m.example/actor#main-key'
INBOX='https://blog.example/ap/actor/inbox'
SHARED='https://blog.example/ap/inbox'
OUTBOX_Q='https://blog.example/ap/actor/outbox?page=true'
AS_JSON='application/activity+json'
ACCEPT_AP='application/activity+json, application/ld+json'

# The bodies, exactly as Mastodon serializes them (compact JSON, no
# trailing newline).  The Create carries an LD signature, as a public
# Create from a Mastodon without authorized fetch does.
printf '%s' '{"@context":"https://www.w3.org/ns/activitystreams","id":"https://m.example/7d2c1f0e-3b8a-4c55-9e61-2f4b0a9d8c13","type":"Follow","actor":"https://m.example/users/alice","object":"https://blog.example/ap/actor"}' >"$TMP/follow.json"
printf '%s' '{"@context":["https://www.w3.org/ns/activitystreams",{"ostatus":"http://ostatus.org#","atomUri":"ostatus:atomUri","inReplyToAtomUri":"ostatus:inReplyToAtomUri","conversation":"ostatus:conversation","sensitive":"as:sensitive","toot":"http://joinmastodon.org/ns#","votersCount":"toot:votersCount"},"https://w3id.org/security/v1"],"id":"https://m.example/users/alice/statuses/115045678901234567/activity","type":"Create","actor":"https://m.example/users/alice","published":"2026-08-21T13:50:25Z","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://m.example/users/alice/followers","https://blog.example/ap/actor"],"object":{"id":"https://m.example/users/alice/statuses/115045678901234567","type":"Note","summary":null,"inReplyTo":"https://blog.example/ap/posts/hello-world","published":"2026-08-21T13:50:25Z","url":"https://m.example/@alice/115045678901234567","attributedTo":"https://m.example/users/alice","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://m.example/users/alice/followers","https://blog.example/ap/actor"],"sensitive":false,"atomUri":"https://m.example/users/alice/statuses/115045678901234567","inReplyToAtomUri":"https://blog.example/ap/posts/hello-world","conversation":"tag:m.example,2026-08-21:objectId=4242:objectType=Conversation","content":"<p><span class=\"h-card\" translate=\"no\"><a href=\"https://blog.example/\" class=\"u-url mention\">@<span>blog</span></a></span> Très bon article, merci !</p>","contentMap":{"fr":"<p><span class=\"h-card\" translate=\"no\"><a href=\"https://blog.example/\" class=\"u-url mention\">@<span>blog</span></a></span> Très bon article, merci !</p>"},"attachment":[],"tag":[{"type":"Mention","href":"https://blog.example/ap/actor","name":"@blog@blog.example"}],"replies":{"id":"https://m.example/users/alice/statuses/115045678901234567/replies","type":"Collection","first":{"type":"CollectionPage","next":"https://m.example/users/alice/statuses/115045678901234567/replies?only_other_accounts=true&page=true","partOf":"https://m.example/users/alice/statuses/115045678901234567/replies","items":[]}}},"signature":{"type":"RsaSignature2017","creator":"https://m.example/users/alice#main-key","created":"2026-08-21T13:50:26Z","signatureValue":"bm90IGEgcmVhbCBMRCBzaWduYXR1cmU7IHRoZSBIVFRQIHNpZ25hdHVyZSBpcyB3aGF0IGNvdW50cw=="}}' >"$TMP/create.json"

digest256() { openssl dgst -sha256 -binary "$1" | base64 -w0; }
digest512() { openssl dgst -sha512 -binary "$1" | base64 -w0; }
sign_rsa() { openssl dgst -sha256 -sign "$1" "$2" | base64 -w0; }
sign_pss() {
	openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 \
		-sign "$1" "$2" | base64 -w0
}
sign_ed() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }

# write_req FILE METHOD URL BODYFILE|- HEADER...: a request file.
write_req() {
	out=$1 method=$2 url=$3 body=$4
	shift 4
	{
		printf '%s %s\n' "$method" "$url"
		for h in "$@"; do
			printf '%s\n' "$h"
		done
		printf '\n'
		if [ "$body" != - ]; then
			cat "$body"
		fi
	} >"$out"
}

# lines FILE LINE...: a signing string, lines joined by \n, none after the last.
lines() {
	out=$1
	shift
	: >"$out"
	first=1
	for l in "$@"; do
		if [ $first = 0 ]; then
			printf '\n' >>"$out"
		fi
		printf '%s' "$l" >>"$out"
		first=0
	done
}

FOLLOW_D="SHA-256=$(digest256 "$TMP/follow.json")"
CREATE_D="SHA-256=$(digest256 "$TMP/create.json")"
FOLLOW_CD="sha-256=:$(digest256 "$TMP/follow.json"):"
CREATE_CD="sha-256=:$(digest256 "$TMP/create.json"):"

# --- Mastodon 4.3: (request-target) first, no query in it, accept on GETs.
H='(request-target) host date digest content-type'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' 'host: blog.example' "date: $DATE" \
	"digest: $FOLLOW_D" "content-type: $AS_JSON"
write_req mastodon-4.3-post-follow.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	'User-Agent: http.rb/5.2.0 (Mastodon/4.3.0; +https://m.example/)' \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

H='(request-target) host date accept'
lines "$TMP/s" '(request-target): get /ap/actor/outbox' 'host: blog.example' "date: $DATE" \
	"accept: $ACCEPT_AP"
write_req mastodon-4.3-get-outbox.req GET "$OUTBOX_Q" - \
	'Host: blog.example' "Date: $DATE" "Accept: $ACCEPT_AP" 'Accept-Encoding: gzip' \
	'User-Agent: http.rb/5.2.0 (Mastodon/4.3.0; +https://m.example/)' \
	"Signature: keyId=\"$INSTANCE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# --- Mastodon 4.5 (as 4.4-4.6): (request-target) last, with the query.
H='host date digest content-type (request-target)'
lines "$TMP/s" 'host: blog.example' "date: $DATE" "digest: $CREATE_D" "content-type: $AS_JSON" \
	'(request-target): post /ap/inbox'
write_req mastodon-4.5-post-create.req POST "$SHARED" "$TMP/create.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $CREATE_D" \
	'User-Agent: Mastodon/4.5.2 (http.rb/5.3.1; +https://m.example/)' \
	"Signature: keyId=\"$ALICE45\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

H='host date accept (request-target)'
lines "$TMP/s" 'host: blog.example' "date: $DATE" "accept: $ACCEPT_AP" \
	'(request-target): get /ap/actor/outbox?page=true'
write_req mastodon-4.5-get-outbox.req GET "$OUTBOX_Q" - \
	'Host: blog.example' "Date: $DATE" "Accept: $ACCEPT_AP" 'Accept-Encoding: gzip' \
	'User-Agent: Mastodon/4.5.2 (http.rb/5.3.1; +https://m.example/)' \
	"Signature: keyId=\"$INSTANCE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# --- Mastodon 4.7: content-type before digest; GETs no longer sign accept.
H='host date content-type digest (request-target)'
lines "$TMP/s" 'host: blog.example' "date: $DATE" "content-type: $AS_JSON" "digest: $FOLLOW_D" \
	'(request-target): post /ap/actor/inbox'
write_req mastodon-4.7-post-follow.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	'User-Agent: Mastodon/4.7.0 (http.rb/5.3.1; +https://m.example/)' \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# A followers-only delivery adds Collection-Synchronization before
# (request-target).
SYNC='collectionId="https://m.example/users/alice/followers", url="https://m.example/users/alice/followers_synchronization", digest="b08ab6951c7d6cc2b91e17ebd9557da7fae02489728e9ed6a6f0a4e0d2d1e6d7"'
H='host date content-type digest collection-synchronization (request-target)'
lines "$TMP/s" 'host: blog.example' "date: $DATE" "content-type: $AS_JSON" "digest: $CREATE_D" \
	"collection-synchronization: $SYNC" '(request-target): post /ap/actor/inbox'
write_req mastodon-4.7-post-create-sync.req POST "$INBOX" "$TMP/create.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $CREATE_D" \
	"Collection-Synchronization: $SYNC" \
	'User-Agent: Mastodon/4.7.0 (http.rb/5.3.1; +https://m.example/)' \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

H='host date (request-target)'
lines "$TMP/s" 'host: blog.example' "date: $DATE" '(request-target): get /ap/actor/outbox?page=true'
write_req mastodon-4.7-get-outbox.req GET "$OUTBOX_Q" - \
	'Host: blog.example' "Date: $DATE" "Accept: $ACCEPT_AP" 'Accept-Encoding: gzip' \
	'User-Agent: Mastodon/4.7.0 (http.rb/5.3.1; +https://m.example/)' \
	"Signature: keyId=\"$INSTANCE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# --- Mastodon 4.7's RFC 9421 fallback (linzer defaults: sig1, created,
# keyid, no alg).
P="(\"@method\" \"@target-uri\" \"content-digest\");created=$CREATED;keyid=\"$ALICE\""
lines "$TMP/s" '"@method": POST' "\"@target-uri\": $INBOX" "\"content-digest\": $FOLLOW_CD" \
	"\"@signature-params\": $P"
write_req mastodon-4.7-rfc9421-post-follow.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Content-Digest: $FOLLOW_CD" \
	'User-Agent: Mastodon/4.7.0 (http.rb/5.3.1; +https://m.example/)' \
	"Signature-Input: sig1=$P" "Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):"

P="(\"@method\" \"@target-uri\");created=$CREATED;keyid=\"$INSTANCE\""
lines "$TMP/s" '"@method": GET' "\"@target-uri\": $OUTBOX_Q" "\"@signature-params\": $P"
write_req mastodon-4.7-rfc9421-get-outbox.req GET "$OUTBOX_Q" - \
	'Host: blog.example' "Date: $DATE" "Accept: $ACCEPT_AP" \
	'User-Agent: Mastodon/4.7.0 (http.rb/5.3.1; +https://m.example/)' \
	"Signature-Input: sig1=$P" "Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):"

# --- Accepted forms Mastodon itself does not send.
# hs2019 with (created) and (expires) and no Date header at all.
EXPIRES=$((CREATED + 300))
H='(request-target) (created) (expires) host digest'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' "(created): $CREATED" \
	"(expires): $EXPIRES" 'host: blog.example' "digest: $FOLLOW_D"
write_req hs2019-created-post.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	"Signature: keyId=\"$ALICE\",algorithm=\"hs2019\",created=$CREATED,expires=$EXPIRES,headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# The Authorization: Signature form (draft-cavage section 3.1).
H='(request-target) host date'
lines "$TMP/s" '(request-target): get /ap/actor/outbox?page=true' 'host: blog.example' "date: $DATE"
write_req authorization-get-outbox.req GET "$OUTBOX_Q" - \
	'Host: blog.example' "Date: $DATE" "Accept: $AS_JSON" \
	"Authorization: Signature keyId=\"$INSTANCE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# RFC 9421 with every derived component we support, on a non-default port.
PORTURL='https://blog.example:8443/ap/actor/inbox?from=m.example'
P="(\"@method\" \"@target-uri\" \"@authority\" \"@scheme\" \"@path\" \"@query\" \"@request-target\" \"content-digest\" \"content-type\");created=$CREATED;keyid=\"$ALICE\""
lines "$TMP/s" '"@method": POST' "\"@target-uri\": $PORTURL" '"@authority": blog.example:8443' \
	'"@scheme": https' '"@path": /ap/actor/inbox' '"@query": ?from=m.example' \
	'"@request-target": /ap/actor/inbox?from=m.example' "\"content-digest\": $FOLLOW_CD" \
	"\"content-type\": $AS_JSON" "\"@signature-params\": $P"
write_req rfc9421-components-port.req POST "$PORTURL" "$TMP/follow.json" \
	'Host: blog.example:8443' "Date: $DATE" "Content-Type: $AS_JSON" "Content-Digest: $FOLLOW_CD" \
	"Signature-Input: sig1=$P" "Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):"

# --- Validly signed, but against Mastodon's rules: each must be refused.
# POST whose Digest is present but not signed.
H='(request-target) host date'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' 'host: blog.example' "date: $DATE"
write_req refuse-post-digest-unsigned.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# GET that does not sign host.
H='(request-target) date'
lines "$TMP/s" '(request-target): get /ap/actor/outbox?page=true' "date: $DATE"
write_req refuse-get-host-unsigned.req GET "$OUTBOX_Q" - \
	'Host: blog.example' "Date: $DATE" \
	"Signature: keyId=\"$INSTANCE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# POST signing neither date nor (created).
H='(request-target) host digest'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' 'host: blog.example' "digest: $FOLLOW_D"
write_req refuse-post-no-date.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# Digest header with SHA-512 only (signed, and correct for the body).
D512="SHA-512=$(digest512 "$TMP/follow.json")"
H='(request-target) host date digest'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' 'host: blog.example' "date: $DATE" \
	"digest: $D512"
write_req refuse-digest-sha512-only.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $D512" \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# A header listed in `headers` (x-request-id) that the request lacks.
H='(request-target) host date digest x-request-id'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' 'host: blog.example' "date: $DATE" \
	"digest: $FOLLOW_D" 'x-request-id: 4f1c9a'
write_req refuse-listed-header-absent.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# A Date that Ruby's Time.httpdate rejects (no weekday: the example of
# Mastodon's own docs, spec/security.md).
BADDATE='21 Aug 2026 13:50:27 GMT'
H='(request-target) host date digest'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' 'host: blog.example' "date: $BADDATE" \
	"digest: $FOLLOW_D"
write_req refuse-date-malformed.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $BADDATE" "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# (created) with algorithm rsa-sha256 (only hs2019 may use it).
H='(request-target) (created) host digest'
lines "$TMP/s" '(request-target): post /ap/actor/inbox' "(created): $CREATED" 'host: blog.example' \
	"digest: $FOLLOW_D"
write_req refuse-created-with-rsa-sha256.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Content-Type: $AS_JSON" "Digest: $FOLLOW_D" \
	"Signature: keyId=\"$ALICE\",algorithm=\"rsa-sha256\",created=$CREATED,headers=\"$H\",signature=\"$(sign_rsa "$KEY" "$TMP/s")\""

# RFC 9421 without created.
P="(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"$ALICE\""
lines "$TMP/s" '"@method": POST' "\"@target-uri\": $INBOX" "\"content-digest\": $FOLLOW_CD" \
	"\"@signature-params\": $P"
write_req refuse-rfc9421-no-created.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Content-Digest: $FOLLOW_CD" \
	"Signature-Input: sig1=$P" "Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):"

# RFC 9421 covering @path and @authority instead of @target-uri.
P="(\"@method\" \"@authority\" \"@path\" \"content-digest\");created=$CREATED;keyid=\"$ALICE\""
lines "$TMP/s" '"@method": POST' '"@authority": blog.example' '"@path": /ap/actor/inbox' \
	"\"content-digest\": $FOLLOW_CD" "\"@signature-params\": $P"
write_req refuse-rfc9421-no-target-uri.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Content-Digest: $FOLLOW_CD" \
	"Signature-Input: sig1=$P" "Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):"

# RFC 9421 POST whose Content-Digest is present but not covered.
P="(\"@method\" \"@target-uri\");created=$CREATED;keyid=\"$ALICE\""
lines "$TMP/s" '"@method": POST' "\"@target-uri\": $INBOX" "\"@signature-params\": $P"
write_req refuse-rfc9421-post-content-digest-uncovered.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Content-Digest: $FOLLOW_CD" \
	"Signature-Input: sig1=$P" "Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):"

# RFC 9421 with two signatures, each valid on its own.
P1="(\"@method\" \"@target-uri\" \"content-digest\");created=$CREATED;keyid=\"$ALICE\""
P2="(\"@method\" \"@target-uri\" \"content-digest\" \"content-type\");created=$CREATED;keyid=\"$ALICE\""
lines "$TMP/s" '"@method": POST' "\"@target-uri\": $INBOX" "\"content-digest\": $FOLLOW_CD" \
	"\"@signature-params\": $P1"
lines "$TMP/s2" '"@method": POST' "\"@target-uri\": $INBOX" "\"content-digest\": $FOLLOW_CD" \
	"\"content-type\": $AS_JSON" "\"@signature-params\": $P2"
write_req refuse-rfc9421-two-signatures.req POST "$INBOX" "$TMP/follow.json" \
	'Host: blog.example' "Date: $DATE" "Content-Type: $AS_JSON" "Content-Digest: $FOLLOW_CD" \
	"Signature-Input: sig1=$P1, sig2=$P2" \
	"Signature: sig1=:$(sign_rsa "$KEY" "$TMP/s"):, sig2=:$(sign_rsa "$KEY" "$TMP/s2"):"

# --- RFC 9421 Appendix B.2's test-request, re-signed with the RFC's test
# keys so that it covers what Mastodon requires, plus the components the
# Appendix B examples use.
RFC_URL='https://example.com/foo?param=Value&Pet=dog'
RFC_CREATED=1618884473
printf '%s' '{"hello": "world"}' >"$TMP/hello.json"
RFC_CD="sha-512=:$(digest512 "$TMP/hello.json"):"
rfc_request() {
	out=$1 params=$2 sig=$3
	write_req "$out" POST "$RFC_URL" "$TMP/hello.json" \
		'Host: example.com' 'Date: Tue, 20 Apr 2021 02:07:55 GMT' \
		'Content-Type: application/json' "Content-Digest: $RFC_CD" 'Content-Length: 18' \
		"Signature-Input: $params" "Signature: $sig"
}
rfc_base() {
	out=$1 params=$2
	lines "$out" '"date": Tue, 20 Apr 2021 02:07:55 GMT' '"@method": POST' "\"@target-uri\": $RFC_URL" \
		'"@authority": example.com' '"@path": /foo' '"@query": ?param=Value&Pet=dog' \
		'"content-type": application/json' "\"content-digest\": $RFC_CD" \
		'"content-length": 18' "\"@signature-params\": $params"
}
COMP='("date" "@method" "@target-uri" "@authority" "@path" "@query" "content-type" "content-digest" "content-length")'

P="$COMP;created=$RFC_CREATED;keyid=\"test-key-rsa-pss\";alg=\"rsa-pss-sha512\""
rfc_base "$TMP/s" "$P"
rfc_request rfc9421-resigned-rsa-pss-sha512.req "sig-pss=$P" "sig-pss=:$(sign_pss "$RFC_PSS" "$TMP/s"):"

P="$COMP;created=$RFC_CREATED;keyid=\"test-key-ed25519\""
rfc_base "$TMP/s" "$P"
rfc_request rfc9421-resigned-ed25519.req "sig-ed=$P" "sig-ed=:$(sign_ed "$RFC_ED" "$TMP/s"):"

P="$COMP;created=$RFC_CREATED;keyid=\"test-key-rsa\";alg=\"rsa-v1_5-sha256\""
rfc_base "$TMP/s" "$P"
rfc_request rfc9421-resigned-rsa-v1_5-sha256.req "sig-rsa=$P" "sig-rsa=:$(sign_rsa "$RFC_RSA" "$TMP/s"):"

echo "make-mastodon-vectors.sh: done"
