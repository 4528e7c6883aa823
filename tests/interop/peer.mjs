// peer.mjs — the Fedify side of the interop test (see run.sh).
//
// An actor "alice" served by Fedify over plain http on 127.0.0.1, which
//   (a) discovers the blog by WebFinger (acct:, over TLS) and fetches its actor,
//   (b) follows it (Fedify signs the request),
//   (c) waits for the blog's Accept in its inbox (Fedify verifies the
//       signature and the key's owner: only verified activities reach a
//       listener),
//   (d) after run.sh has checked the follower list, undoes the Follow.
//
// Results go to stdout, one JSON object a line, each with "step" and "ok";
// Fedify's own log (LogTape, debug) and a trace of every HTTP exchange go to
// stderr.  The peer exits 0 when every step passed, 1 otherwise.
//
// Environment: BLOG_ACCT (acct:blog@localhost:PORT), BLOG_ACTOR (the actor
// id the blog should have), PEER_PORT (0: any), CONTINUE_FILE (run.sh
// creates it when the Undo may go), STEP_TIMEOUT_MS (default 30000),
// FIRST_KNOCK (the signature scheme Fedify tries first with a server it does
// not know yet: "rfc9421" or "draft-cavage-http-signatures-12"; default:
// Fedify's own default).

import { AsyncLocalStorage } from "node:async_hooks";
import { Console } from "node:console";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import { configure, getConsoleSink, getTextFormatter } from "@logtape/logtape";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { Accept, Activity, Endpoints, Follow, Person, Undo } from "@fedify/vocab";

const env = (name, dflt) => {
	const v = process.env[name];
	if (v == null || v === "") {
		if (dflt === undefined) throw new Error(`${name} is required`);
		return dflt;
	}
	return v;
};
const BLOG_ACCT = env("BLOG_ACCT");
const BLOG_ACTOR = env("BLOG_ACTOR");
const PEER_PORT = Number(env("PEER_PORT", "0"));
const CONTINUE_FILE = env("CONTINUE_FILE");
const STEP_TIMEOUT_MS = Number(env("STEP_TIMEOUT_MS", "30000"));
const FIRST_KNOCK = env("FIRST_KNOCK", null);

const stderr = new Console(process.stderr, process.stderr);
await configure({
	contextLocalStorage: new AsyncLocalStorage(),
	sinks: { console: getConsoleSink({ console: stderr, formatter: getTextFormatter() }) },
	loggers: [
		{ category: "fedify", lowestLevel: "debug", sinks: ["console"] },
		{ category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
	],
});

let failures = 0;
function report(step, ok, fields = {}) {
	if (!ok)
		failures++;
	process.stdout.write(JSON.stringify({ step, ok, ...fields }) + "\n");
}
const trace = (...args) => stderr.log("[peer]", ...args);

// Resolves with p, or rejects after ms.
function bounded(p, ms, what) {
	let timer;
	return Promise.race([
		p,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
		}),
	]).finally(() => clearTimeout(timer));
}

async function waitFor(cond, ms, what) {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end)
			throw new Error(`${what}: not within ${ms} ms`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

// Which HTTP signature scheme a request carries.
function sigScheme(headers) {
	if (headers.get("signature-input"))
		return "rfc9421";
	if (headers.get("signature"))
		return "draft-cavage";
	return "none";
}

// Every request Fedify makes goes through the global fetch: trace it, and
// keep the POSTs to the blog's inboxes to tell which scheme was tried.
const outgoing = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
	const req = new Request(input, init); // one Request, whatever the form of the call
	const scheme = sigScheme(req.headers);
	// Read before sending: fetch consumes the body.
	const body = req.method === "POST" ? await req.clone().text() : null;
	let res;
	try {
		res = await realFetch(req);
	} catch (e) {
		trace(`-> ${req.method} ${req.url} [sig: ${scheme}] failed: ${e?.cause ?? e}`);
		throw e;
	}
	trace(`-> ${req.method} ${req.url} [sig: ${scheme}] ${res.status}`);
	if (req.method === "POST") {
		if (scheme === "rfc9421")
			trace(`   Signature-Input: ${req.headers.get("signature-input")}`);
		else if (scheme === "draft-cavage")
			trace(`   Signature: ${req.headers.get("signature").replace(/signature="[^"]*"/, 'signature="..."')}`);
		trace(`   body: ${body}`);
		outgoing.push({ url: req.url, scheme, status: res.status });
	}
	return res;
};

// RSA for HTTP signatures; Ed25519 too, as Fedify recommends, so that what
// alice sends also carries an Object Integrity Proof (FEP-8b32).
const keyPairs = [
	await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
	await generateCryptoKeyPair("Ed25519"),
];
const received = []; // { type, id, actor, objectId, json }

const federation = createFederation({
	kv: new MemoryKvStore(),
	allowPrivateAddress: true, // everything here is on loopback
	...(FIRST_KNOCK ? { firstKnock: FIRST_KNOCK } : {}),
});

federation
	.setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
		if (identifier !== "alice")
			return null;
		const keys = await ctx.getActorKeyPairs(identifier);
		return new Person({
			id: ctx.getActorUri(identifier),
			preferredUsername: identifier,
			name: "Alice (Fedify interop peer)",
			inbox: ctx.getInboxUri(identifier),
			endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
			publicKey: keys[0].cryptographicKey,
			assertionMethods: keys.map((k) => k.multikey),
		});
	})
	.mapHandle((_ctx, username) => (username === "alice" ? "alice" : null))
	.setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === "alice" ? keyPairs : []));

async function record(activity) {
	const json = await activity.toJsonLd();
	received.push({
		type: activity.constructor.typeId?.href ?? activity.constructor.name,
		name: activity.constructor.name,
		id: activity.id?.href ?? null,
		actor: activity.actorId?.href ?? null,
		objectId: activity.objectId?.href ?? null,
		json,
	});
	trace(`inbox: verified ${activity.constructor.name} ${activity.id?.href} from ${activity.actorId?.href}`);
}

federation
	.setInboxListeners("/users/{identifier}/inbox", "/inbox")
	.on(Accept, async (_ctx, accept) => record(accept))
	.on(Activity, async (_ctx, activity) => record(activity))
	.onError(async (_ctx, error) => trace(`inbox listener error: ${error?.stack ?? error}`));

// Node's http server in front of federation.fetch.
const server = http.createServer(async (req, res) => {
	try {
		const chunks = [];
		for await (const c of req)
			chunks.push(c);
		const headers = new Headers();
		for (let i = 0; i < req.rawHeaders.length; i += 2)
			headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
		const hasBody = req.method !== "GET" && req.method !== "HEAD";
		const request = new Request(new URL(req.url, `http://${req.headers.host}`), {
			method: req.method,
			headers,
			body: hasBody ? Buffer.concat(chunks) : undefined,
		});
		const response = await federation.fetch(request, {
			contextData: undefined,
			onNotFound: () => new Response("not found", { status: 404 }),
			onNotAcceptable: () => new Response("not acceptable", { status: 406 }),
		});
		trace(`<- ${req.method} ${req.url} [sig: ${sigScheme(headers)}] ${response.status}`);
		res.writeHead(response.status, [...response.headers].flat());
		res.end(Buffer.from(await response.arrayBuffer()));
	} catch (e) {
		trace(`<- ${req.method} ${req.url}: ${e?.stack ?? e}`);
		res.writeHead(500).end();
	}
});
await new Promise((resolve) => server.listen(PEER_PORT, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const ctx = federation.createContext(new URL(origin), undefined);
const aliceId = ctx.getActorUri("alice").href;
report("listening", true, { origin, actor: aliceId, firstKnock: FIRST_KNOCK ?? "Fedify's default" });

async function main() {
	// (a) Discovery, over TLS: WebFinger for the acct:, then the actor.
	const jrd = await bounded(ctx.lookupWebFinger(BLOG_ACCT), STEP_TIMEOUT_MS, "lookupWebFinger");
	const self = jrd?.links?.find((l) => l.rel === "self" && l.type === "application/activity+json");
	report("webfinger", jrd != null && self?.href === BLOG_ACTOR && jrd.subject === BLOG_ACCT, {
		api: "ctx.lookupWebFinger",
		resource: BLOG_ACCT,
		subject: jrd?.subject ?? null,
		self: self?.href ?? null,
	});

	const blog = await bounded(ctx.lookupObject(BLOG_ACCT), STEP_TIMEOUT_MS, "lookupObject");
	if (!(blog instanceof Person)) {
		report("lookup", false, { api: "ctx.lookupObject", identifier: BLOG_ACCT, got: blog?.constructor?.name ?? null });
		return;
	}
	const key = await blog.getPublicKey();
	const checks = {
		id: blog.id?.href === BLOG_ACTOR,
		inbox: blog.inboxId?.href === `${BLOG_ACTOR}/inbox`,
		sharedInbox: blog.endpoints?.sharedInbox?.href === new URL("/ap/inbox", BLOG_ACTOR).href,
		publicKeyOwner: key?.ownerId?.href === BLOG_ACTOR,
		publicKeyId: key?.id?.href?.startsWith(`${BLOG_ACTOR}#`) === true,
		publicKeyRsa: key?.publicKey?.algorithm?.name === "RSASSA-PKCS1-v1_5",
		preferredUsername: blog.preferredUsername === BLOG_ACCT.replace(/^acct:/, "").split("@")[0],
	};
	report("lookup", Object.values(checks).every(Boolean), {
		api: "ctx.lookupObject",
		identifier: BLOG_ACCT,
		id: blog.id?.href,
		inbox: blog.inboxId?.href,
		sharedInbox: blog.endpoints?.sharedInbox?.href ?? null,
		publicKey: { id: key?.id?.href, owner: key?.ownerId?.href, algorithm: key?.publicKey?.algorithm?.name },
		discoverable: blog.discoverable ?? null,
		indexable: blog.indexable ?? null,
		checks,
	});
	if (!checks.id || !checks.inbox)
		return;

	// (b) Follow, to the actor's inbox; Fedify chooses the signature scheme.
	const follow = new Follow({
		id: new URL(`/users/alice/follows/${randomUUID()}`, origin),
		actor: new URL(aliceId),
		object: blog.id,
	});
	let sent = outgoing.length;
	try {
		await bounded(ctx.sendActivity({ identifier: "alice" }, blog, follow), STEP_TIMEOUT_MS, "sendActivity(Follow)");
		const tries = outgoing.slice(sent).filter((o) => o.url === blog.inboxId.href);
		report("follow", true, { id: follow.id.href, to: blog.inboxId.href, attempts: tries, doubleKnock: tries.length > 1 });
	} catch (e) {
		report("follow", false, { error: String(e?.stack ?? e), attempts: outgoing.slice(sent) });
		return;
	}

	// (c) The blog's Accept of that Follow, verified by Fedify.
	const isAccept = (r) => r.name === "Accept" && r.objectId === follow.id.href;
	try {
		await waitFor(() => received.some(isAccept), STEP_TIMEOUT_MS, "Accept of the Follow");
		const a = received.find(isAccept);
		report("accept", a.actor === BLOG_ACTOR, { id: a.id, actor: a.actor, object: a.objectId, json: a.json });
	} catch (e) {
		report("accept", false, { error: String(e?.message ?? e), received });
		return;
	}

	// run.sh checks the follower list, then lets the Undo go.
	try {
		await waitFor(() => existsSync(CONTINUE_FILE), STEP_TIMEOUT_MS, "run.sh's go-ahead");
	} catch (e) {
		report("undo", false, { error: String(e?.message ?? e) });
		return;
	}

	// (d) Undo(Follow), this time to the shared inbox.
	const undo = new Undo({
		id: new URL(`/users/alice/undos/${randomUUID()}`, origin),
		actor: new URL(aliceId),
		object: follow,
	});
	sent = outgoing.length;
	try {
		await bounded(
			ctx.sendActivity({ identifier: "alice" }, blog, undo, { preferSharedInbox: true }),
			STEP_TIMEOUT_MS,
			"sendActivity(Undo)",
		);
		const tries = outgoing.slice(sent);
		report("undo", true, { id: undo.id.href, to: tries.at(-1)?.url ?? null, attempts: tries, doubleKnock: tries.length > 1 });
	} catch (e) {
		report("undo", false, { error: String(e?.stack ?? e), attempts: outgoing.slice(sent) });
		return;
	}
	// Anything else the blog sent us (nothing is expected).
	const others = received.filter((r) => !isAccept(r));
	report("inbox", others.length === 0, { received: received.map(({ json, ...r }) => r) });
}

try {
	await main();
} catch (e) {
	report("error", false, { error: String(e?.stack ?? e) });
}
server.close();
server.closeAllConnections();
process.exit(failures === 0 ? 0 : 1);
